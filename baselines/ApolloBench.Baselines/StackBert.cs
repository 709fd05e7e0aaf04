using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Baselines;

/// <summary>
/// StackBERT (Gong et al. 2019, "Efficient Training of BERT by Progressively Stacking"; SPEC section 5): train L/4
/// layers, double by stacking (new layer <c>i + n</c> is a copy of layer <c>i</c>, <see cref="LayerMapping.Stack"/>),
/// train, double again to L. Embeddings and heads carry over. At each doubling the optimiser's state is reset
/// (the authors' fairseq <c>--reset-optimizer</c>: every moment, embeddings included, starts again from zero);
/// the learning-rate schedule is the run's global one and is not reset.
/// <para>Stage lengths: the authors train 3 layers for 50k updates, 6 for 70k and 12 for the rest of a 400k-update
/// run, i.e. the stages end at 50/400 = 0.125 and 120/400 = 0.30 of the budget. The default
/// <c>--stackbert-stages 0.125,0.30</c> keeps that 50 : 70 ratio for the first two stages and gives the last stage
/// the remaining 70%, for any budget.</para>
/// <para>Depths: round(L/4) and round(L/2), half away from zero (3 and 6 for L = 12); when L/2 is not a multiple of
/// L/4 the stacking fills the partial block with the top layers (SPEC section 2). All L layers are allocated from
/// the start (as Apollo does); weights not yet in use get no gradient, so no update and no weight decay.</para>
/// </summary>
public sealed class StackBert(double[] stageEnds) : GrowthMethod, IStagedMethod
{
    public static readonly double[] DefaultStageEnds = [0.125, 0.30];

    StageSchedule? schedule;

    public override string Name => "stackbert";
    public IReadOnlyList<double> StageEnds { get; } = stageEnds;

    /// <summary>Reads <c>--stackbert-stages</c>: the ends of the first two stages as fractions of the budget, e.g. 0.125,0.30.</summary>
    public static double[] ParseStages(string csv)
    {
        var items = csv.Split(',', StringSplitOptions.TrimEntries);
        var ends = items.Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var e)
            ? e : throw new UsageException($"--stackbert-stages: '{s}' is not a number (two fractions of the budget, e.g. 0.125,0.30)")).ToArray();
        if (ends.Length != 2 || !(ends[0] > 0 && ends[0] < ends[1] && ends[1] < 1))
            throw new UsageException($"--stackbert-stages: needs two increasing fractions in (0, 1), the ends of the L/4 and L/2 stages (got '{csv}')");
        return ends;
    }

    /// <summary>The three stages for a model of <paramref name="layers"/> layers: [L/4, L/2, L].</summary>
    public StageSchedule ScheduleFor(int layers)
    {
        if (layers < 4) throw new UsageException($"--method stackbert: needs at least 4 layers to grow L/4 -> L/2 -> L (model has {layers})");
        int quarter = (int)Math.Round(layers / 4.0, MidpointRounding.AwayFromZero);
        int half = (int)Math.Round(layers / 2.0, MidpointRounding.AwayFromZero);
        var s = new StageSchedule([quarter, half, layers], [StageEnds[0], StageEnds[1], 1.0]);
        s.Validate(layers);
        return s;
    }

    StageSchedule Schedule(TrainingSession session) => schedule ??= ScheduleFor(session.Model.Config.Layers);

    public override void Check(ModelConfig model, TrainConfig train) => ScheduleFor(model.Layers).StageIndexAt(0, train.Steps);

    public override void Start(TrainingSession session)
    {
        schedule = ScheduleFor(session.Model.Config.Layers);
        schedule.StageIndexAt(0, session.TotalSteps);   // every stage needs a step (UsageException naming --steps)
    }

    int Layers(long step, TrainingSession s) => Schedule(s).WeightsAt(Math.Max(0, step), s.TotalSteps);

    public override bool GrowsAt(long step, TrainingSession session) => Schedule(session).IsBoundary(step, session.TotalSteps);

    public override (string From, string To) Grow(long step, TrainingSession session)
    {
        int from = Layers(step - 1, session), to = Layers(step, session);
        Double(session, from, to);
        return ($"{from} layers", $"{to} layers");
    }

    /// <summary>Layer j (from <paramref name="from"/> to <paramref name="to"/> - 1) takes a copy of layer <c>Stack(from, to)[j]</c>; then the optimiser forgets everything.</summary>
    public static void Double(TrainingSession session, int from, int to)
    {
        Apollo.GrowLayers(session.Model, from, to, MappingKind.Stack);
        session.Optimizer.Reset();
    }

    public override int[] Plan(long step, int microBatch, TrainingSession session) => LanguageModel.IdentityPlan(Layers(step, session));

    public override int[] EvaluationPlan(long step, TrainingSession session) => Plan(step, 0, session);

    public StageSchedule Stages(int layers) => ScheduleFor(layers);

    public MappingKind StageGrowth => MappingKind.Stack;

    /// <summary>A stage's N weights run as they are: layers beyond N do not exist yet.</summary>
    public int[] StagePlan(int weights, int layers) => LanguageModel.IdentityPlan(weights);

    public override IReadOnlyDictionary<string, object> Options => new Dictionary<string, object>
    {
        ["stages"] = schedule?.Layers ?? (object)"L/4, L/2, L",
        ["stageEnds"] = schedule?.Ends ?? [StageEnds[0], StageEnds[1], 1.0],
        ["growth"] = "stack (layer i+n = copy of layer i; partial block from the top layers)",
        ["optimizerAtGrowth"] = "reset (all moments)",
        ["learningRateSchedule"] = "global, not reset",
    };
}
