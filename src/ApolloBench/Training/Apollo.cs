using ApolloBench.Growth;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Training;

/// <summary>How optimiser moments follow a growth step (SPEC.md section 4, item 4).</summary>
public enum MomentPolicy
{
    /// <summary>The released code: moments stay with the parameter slot; a slot used for the first time starts fresh.</summary>
    Released,
    /// <summary>Moments are copied along with the weights.</summary>
    Copy,
}

/// <summary>
/// Apollo (paper Algorithm 1): all L layers are allocated at step 0; stage s trains N(s) weights.
/// Each micro-batch draws a depth L(t) in [N(s), L] (paper Eq. 7-10, <see cref="DepthSampler"/>) and
/// runs the mapping N(s) -> L(t) (interpolation, Eq. 12, or stacking, Eq. 11), so low weights learn
/// what high layers will do. At a stage boundary the weights grow in place by the same mapping,
/// copied top-down. Weights at index >= N(s) have no gradient, so they get no update and no decay.
/// </summary>
public sealed class Apollo(StageSchedule schedule, MappingKind mapping, DepthSampler sampler, MomentPolicy moments) : GrowthMethod, IStagedMethod
{
    public override string Name => "apollo";
    public StageSchedule Schedule { get; } = schedule;
    public MappingKind Mapping { get; } = mapping;
    public DepthSampler Sampler { get; } = sampler;
    public MomentPolicy Moments { get; } = moments;

    public override void Check(Models.ModelConfig model, TrainConfig train)
    {
        Schedule.Validate(model.Layers);
        // Every stage needs at least one step in this budget (throws a UsageException naming --steps).
        Schedule.StageIndexAt(0, train.Steps);
    }

    public override void Start(TrainingSession session) => Check(session.Model.Config, session.Config);

    int Weights(long step, TrainingSession s) => Schedule.WeightsAt(Math.Max(0, step), s.TotalSteps);

    public override bool GrowsAt(long step, TrainingSession session) => Schedule.IsBoundary(step, session.TotalSteps);

    public override (string From, string To) Grow(long step, TrainingSession session)
    {
        int from = Weights(step - 1, session), to = Weights(step, session);
        GrowInPlace(session, from, to);
        return ($"{from} weights", $"{to} weights");
    }

    /// <summary>Grows the session's model in place (<see cref="GrowLayers"/>); under <see cref="MomentPolicy.Copy"/> each copied parameter takes its source's moments too.</summary>
    internal void GrowInPlace(TrainingSession session, int from, int to)
        => GrowLayers(session.Model, from, to, Mapping, Moments == MomentPolicy.Copy
            ? (source, target) => session.Optimizer.SetState(target, session.Optimizer.StateOf(source))
            : null);

    /// <summary>
    /// Grows the first <paramref name="from"/> layer weights of <paramref name="model"/> to <paramref name="to"/>: weight j takes a
    /// copy of old weight g(j) of <paramref name="mapping"/>, from the top index down so no source is overwritten before it is
    /// read. <paramref name="copied"/> sees every (source, target) parameter pair after its copy.
    /// </summary>
    public static void GrowLayers(Models.LanguageModel model, int from, int to, MappingKind mapping,
        Action<TorchSharp.Modules.Parameter, TorchSharp.Modules.Parameter>? copied = null)
    {
        var g = LayerMapping.Map(mapping, from, to);
        using var _ = torch.no_grad();
        for (int j = to - 1; j >= 0; j--)
            if (g[j] != j) Models.LanguageModel.CopyParameters(model.LayerParameters(g[j]), model.LayerParameters(j), copied);
    }

    public override int[] Plan(long step, int microBatch, TrainingSession session)
    {
        int n = Weights(step, session), l = session.Model.Config.Layers;
        var depth = Sampler.Sample(n, l, session.DepthRng(step, microBatch));
        return LayerMapping.Map(Mapping, n, depth);
    }

    public override int[] EvaluationPlan(long step, TrainingSession session) => StagePlan(Weights(step, session), session.Model.Config.Layers);

    public StageSchedule Stages(int layers) => Schedule;

    public MappingKind StageGrowth => Mapping;

    /// <summary>A stage's N weights mapped onto all L layers.</summary>
    public int[] StagePlan(int weights, int layers) => LayerMapping.Map(Mapping, weights, layers);

    public override IReadOnlyDictionary<string, object> Options => new Dictionary<string, object>
    {
        ["stages"] = Schedule.Layers,
        ["stageEnds"] = Schedule.Ends,
        ["mapping"] = Mapping.ToString().ToLowerInvariant(),
        ["sampler"] = Sampler.ToString(),
        ["moments"] = Moments.ToString().ToLowerInvariant(),
    };
}
