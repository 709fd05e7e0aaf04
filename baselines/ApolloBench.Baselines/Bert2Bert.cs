using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Baselines;

/// <summary>
/// bert2BERT (Chen et al. 2022, "bert2BERT: Towards Reusable Pretrained Language Models"; SPEC section 5): a trained
/// small model (<see cref="SmallModel.ConfigFor"/>: the paper's 12 x 512, 8 heads for a 12 x 768
/// target) is widened with FPI or AKI (<see cref="WidthGrowth"/>), stacked to the target depth with the top-layer
/// fill (<see cref="ModelState.StackDepth"/>; a no-op when the small model is as deep as the target, the paper's
/// case), and the grown model is trained normally with a fresh optimiser.
/// <para>Run record: at <see cref="Start"/> the small model becomes the session's model and its training cost is
/// charged beside the run (not counted: the paper does not charge it). The growth happens at step 0, so the
/// trainer's probe records the small model's loss before and the grown model's loss after (equal under FPI with
/// even copy counts).</para>
/// <para>Width maps: each new unit's source is drawn uniformly with replacement (bert2BERT's FPI choice) from the
/// run's own stream <c>Rng.For(seed, "bert2bert-width")</c>; one map for the residual stream, per layer one over
/// heads (whole head blocks) and one over feed-forward units.</para>
/// <para>Optional two-stage training (<c>--two-stage F</c>): for the first F of the budget each micro-batch trains a
/// sub-model made of the bottom k·L/4 layers (k = 1..4, drawn uniformly from the depth stream) that shares the
/// embeddings and head, then the full model. bert2BERT's paper gives the idea, not our constants: the four
/// sub-model depths and the default F = 0.1 (<c>--two-stage on</c>) are this suite's choices. Off by default.</para>
/// </summary>
public sealed class Bert2Bert(WidthInit widthInit, double twoStageFraction, int? smallLayers, ISmallModelSource? smallModels)
    : GrowthMethod, IUsesSmallModel
{
    public const double DefaultTwoStageFraction = 0.1;
    const int SubModels = 4;

    ModelConfig? target, smallConfig;
    SmallModel? small;

    public override string Name => "bert2bert";
    public WidthInit WidthInit { get; } = widthInit;
    public double TwoStageFraction { get; } = twoStageFraction;

    public ModelConfig SmallConfigFor(ModelConfig target) => SmallModel.ConfigFor(target, smallLayers);

    /// <summary>Reads <c>--width-init</c>: fpi or aki.</summary>
    public static WidthInit ParseWidthInit(string value) => value.Trim().ToLowerInvariant() switch
    {
        "fpi" => WidthInit.Fpi,
        "aki" => WidthInit.Aki,
        _ => throw new UsageException($"--width-init: unknown initialisation '{value}' (valid: fpi, aki)"),
    };

    /// <summary>Reads <c>--two-stage</c>: off, on (= 0.1), or the fraction of the budget spent on sub-models, in (0, 1).</summary>
    public static double ParseTwoStage(string value)
    {
        var v = value.Trim().ToLowerInvariant();
        if (v is "off" or "0") return 0;
        if (v == "on") return DefaultTwoStageFraction;
        if (double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 && f < 1) return f;
        throw new UsageException($"--two-stage: expected off, on or a fraction of the budget in (0, 1) (got '{value}')");
    }

    public override void Check(ModelConfig model, TrainConfig train)
    {
        var twoStage = (long)Math.Round(TwoStageFraction * train.Steps, MidpointRounding.AwayFromZero);
        if (twoStage >= train.Steps)
            throw new UsageException($"--two-stage: {TwoStageFraction} of {train.Steps} steps leaves no step for the full model");
    }

    public override void Start(TrainingSession session)
    {
        target = session.Model.Config;
        smallConfig = SmallConfigFor(target);
        if (TwoStageSteps(session) >= session.TotalSteps)
            throw new UsageException($"--two-stage: {TwoStageFraction} of {session.TotalSteps} steps leaves no step for the full model");
        small = SmallModelStart.Adopt(session, smallModels, smallConfig, Name);
    }

    public override bool GrowsAt(long step, TrainingSession session) => step == 0;

    public override (string From, string To) Grow(long step, TrainingSession session)
    {
        var (s, t) = (smallConfig!, target!);
        var maps = WidthMaps.Random(s, t with { Layers = s.Layers }, Rng.For(session.Config.Seed, "bert2bert-width"));
        var smallState = ModelState.Of(session.Model);
        var widened = WidthGrowth.Widen(smallState, s, t with { Layers = s.Layers }, maps, WidthInit);
        var grown = ModelState.StackDepth(widened, t.Arch, s.Layers, t.Layers);
        var model = LanguageModel.Create(t, session.Config.Seed);
        ModelState.Load(model, grown);
        foreach (var tensor in widened.Values.Concat(smallState.Values)) tensor.Dispose();
        session.ReplaceModel(model);
        return ($"{s.Layers}x{s.Hidden} ({s.Heads} heads)", $"{t.Layers}x{t.Hidden} ({t.Heads} heads), {WidthInit.ToString().ToLowerInvariant()}");
    }

    long TwoStageSteps(TrainingSession session) => (long)Math.Round(TwoStageFraction * session.TotalSteps, MidpointRounding.AwayFromZero);

    /// <summary>The sub-model depths of the first stage: round(k·L/4), k = 1..4, distinct.</summary>
    public static int[] SubModelDepths(int layers)
        => Enumerable.Range(1, SubModels).Select(k => Math.Max(1, (int)Math.Round(k * layers / (double)SubModels, MidpointRounding.AwayFromZero))).Distinct().ToArray();

    public override int[] Plan(long step, int microBatch, TrainingSession session)
    {
        int layers = session.Model.Config.Layers;
        if (step >= TwoStageSteps(session)) return LanguageModel.IdentityPlan(layers);
        var depths = SubModelDepths(layers);
        return LanguageModel.IdentityPlan(depths[session.DepthRng(step, microBatch).NextInt(depths.Length)]);
    }

    public override int[] EvaluationPlan(long step, TrainingSession session) => LanguageModel.IdentityPlan(session.Model.Config.Layers);

    public override IReadOnlyDictionary<string, object> Options => new Dictionary<string, object>
    {
        ["widthInit"] = WidthInit.ToString().ToLowerInvariant(),
        ["widthMaps"] = "new units' sources uniform with replacement, Rng(seed, \"bert2bert-width\")",
        ["depthGrowth"] = "stack with top-layer fill",
        ["finalNormBeforeTiedHead"] = "divided by copy counts (keeps the tied decoder's logits)",
        ["twoStageFraction"] = TwoStageFraction,
        ["twoStageSubModelDepths"] = target is null ? "round(k*L/4), k=1..4" : SubModelDepths(target.Layers),
        ["smallModel"] = SmallModelStart.Describe(small, smallConfig),
    };
}
