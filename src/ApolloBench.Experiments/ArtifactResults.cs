using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ApolloBench.Experiments;

/// <summary>Where and how a report's numbers were produced; every report prints it beside the paper's numbers.</summary>
public sealed record ReportContext
{
    /// <summary>smoke, cpu, gpu or paper. A reduced scale's numbers are never the paper's.</summary>
    public required string Scale { get; init; }

    /// <summary>What computed the numbers, e.g. "cpu" or "cpu (exact computation, no training)".</summary>
    public required string Device { get; init; }

    /// <summary>The seeds, e.g. "42" or "42, 43, 44".</summary>
    public required string Seeds { get; init; }

    /// <summary>The git commit of the code, with "+dirty" when the working tree (outside reports/) had changes.</summary>
    public required string Commit { get; init; }

    public required string Machine { get; init; }

    /// <summary>When the numbers were computed (ISO 8601, UTC). Not printed in the markdown, so re-renders are stable.</summary>
    public required string Created { get; init; }
}

/// <summary>The exact depth distribution of one sampler for one N, and the check against draws.</summary>
public sealed record SamplerResult(
    string Key, string Label, string Sampler, double? K, int Trained, int Target,
    double[] Probabilities, double MeanDepth, EmpiricalCheck? Empirical);

/// <summary>
/// Frequencies of <see cref="Draws"/> draws (pooled over seeds) and the largest deviation from the exact
/// probability in standard errors <c>sqrt(p(1-p)/draws)</c>; a depth of probability 0 or 1 must be drawn
/// never or always (otherwise the deviation is infinite).
/// </summary>
public sealed record EmpiricalCheck(long Draws, double[] Frequencies, double MeanDepth, double MaxStandardErrors)
{
    /// <summary>The bar the suite's sampler tests hold draws to.</summary>
    public const double PassBelow = 5;

    public bool Passes => MaxStandardErrors < PassBelow;
}

/// <summary>A layer mapping: <c>Map[i]</c> is the weight (0-based) that layer <c>i</c> runs.</summary>
public sealed record MappingResult(string Key, string Label, string Kind, int From, int To, int[] Map);

/// <summary>A model shape resolved at the report's scale.</summary>
public sealed record ShapeResult(string Key, string Label, string Model, int Layers, int Hidden, int Heads, int Vocab, int SeqLen);

/// <summary>One trained run (one seed) as its folder's manifest and curve describe it.</summary>
/// <param name="ExternalFlops">cost reported beside the run and not counted in it (the small model of bert2BERT and LiGO), from ledger.csv.</param>
/// <param name="MachineSpeed">median calibration speed (GFLOP/s) over the run's evaluations; null when the run predates calibration.</param>
/// <param name="NormalisedWallSeconds">training seconds normalised to the calibration speed (<see cref="WallTime"/>); null when not measured.</param>
/// <param name="CollapsedAtStep">the steps done at the first evaluation whose hidden-state spread fell below the collapse detector's threshold; null when none did or not measured.</param>
/// <param name="RecoveredAtStep">for a run that collapsed: the steps done at the evaluation from which its spread stayed at or above the threshold to the end (a transient collapse); null when it ended collapsed or never collapsed.</param>
/// <param name="LowestHiddenSpread">the lowest hidden-state spread of the run's evaluations; null when not measured.</param>
/// <param name="LearningRate">the peak learning rate the run trained at, from its manifest; null in results written before it was recorded.</param>
/// <param name="Passes">how many times the run went over its corpus's training tokens (the manifest's <c>corpus.passes</c>); null when not recorded.</param>
/// <param name="LowestValidLoss">the lowest held-out loss of the run's evaluations (below its final one when it overfits); null without evaluations.</param>
/// <param name="CpuWait">the share of its training time the run's threads waited for a CPU (the curve's CPU-wait column, weighted by each interval's seconds); null when not measured.</param>
/// <param name="Growths">the run's growth events from its manifest (step, what it grew from and to); null in results written before they were recorded.</param>
public sealed record RunRecord(
    string Run, string Label, string Method, long Seed, string Folder, string RunKey, long Steps,
    double Flops, double WallSeconds, double ExternalFlops, double ExternalWallSeconds,
    double FinalTrainLoss, double FinalValidLoss, string Commit, string Device, string Machine,
    double? MachineSpeed = null, double? NormalisedWallSeconds = null, long? CollapsedAtStep = null, double? LowestHiddenSpread = null,
    double? CpuWait = null, long? RecoveredAtStep = null, double? LearningRate = null, double? Passes = null, double? LowestValidLoss = null,
    IReadOnlyList<GrowthAt>? Growths = null);

/// <summary>One growth event of a run: before optimizer step <see cref="Step"/> (0-based), from one shape to another ("3 weights", "6 layers").</summary>
public sealed record GrowthAt(long Step, string From, string To);

/// <summary>
/// A definition run that is the small model of bert2BERT/LiGO: trained by their dependency mechanism, not as a run
/// folder of its own. <see cref="Consumers"/> are the labels of the runs that grow from it; <see cref="Ledger"/> holds, per
/// consumer and seed, the ledger line that charged it.
/// </summary>
public sealed record DependencyRecord(string Run, string Label, IReadOnlyList<string> Consumers, List<DependencyCost> Ledger);

/// <summary>The small model's cost as one consumer run's ledger.csv records it.</summary>
public sealed record DependencyCost(string Consumer, long Seed, string What, double Flops, double Seconds);

/// <summary>
/// A run's loss curve for plotting (thinned to at most a few hundred points, the last always kept): the training
/// loss smoothed as the savings smooth it, and the held-out loss at evaluations (every one, not thinned), with what
/// each evaluation measured besides: the hidden-state spread (the collapse detector), the machine's calibration
/// speed, the share of the interval the run waited for a CPU, and the steps done at each evaluation. The normalised seconds (<see cref="WallTime.Normalised"/>) go with both. Every array that follows the
/// held-out loss is null for runs made before it was recorded ("not measured").
/// </summary>
public sealed record CurveResult(
    string Run, string Label, long Seed, int SmoothingWindow, double[] Flops, double[] WallSeconds, double[] Loss,
    double[] ValidFlops, double[] ValidWallSeconds, double[] ValidLoss,
    double[]? NormalisedSeconds = null, long[]? ValidSteps = null, double[]? ValidNormalisedSeconds = null,
    double[]? ValidHiddenSpread = null, double[]? ValidMachineSpeed = null, double[]? ValidCpuWait = null);

/// <summary>
/// One seed's saving at one target: Scratch's cost and loss there, and what the method paid to first reach it (null:
/// never). <see cref="Fraction"/> null: an absolute loss target, which Scratch too may never reach (its costs null). The
/// normalised seconds and saving are null when a run has no calibration, or the method did not reach the target.
/// <see cref="AtFirstEvaluation"/>: the method was at or below the target at its first evaluation (<see cref="TargetSaving.AtFirstPoint"/>).
/// </summary>
public sealed record SeedSaving(long Seed, double? Fraction, double TargetLoss, double? ScratchFlops, double? ScratchWallSeconds,
    double? MethodFlops, double? MethodWallSeconds, double? FlopsSaving, double? WallSaving,
    double? ScratchNormalisedSeconds = null, double? MethodNormalisedSeconds = null, double? NormalisedWallSaving = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] bool AtFirstEvaluation = false)
{
    /// <summary>The per-seed saving as <see cref="Savings"/> computes it, from what results.json stores.</summary>
    public TargetSaving ToTargetSaving() => new(Fraction, TargetLoss,
        ScratchFlops is { } sf ? new Cost(sf, ScratchWallSeconds ?? double.NaN, ScratchNormalisedSeconds ?? double.NaN) : null,
        MethodFlops is { } mf ? new Cost(mf, MethodWallSeconds ?? double.NaN, MethodNormalisedSeconds ?? double.NaN) : null,
        Calibrated: ScratchNormalisedSeconds is not null, AtFirstPoint: AtFirstEvaluation);

    public static SeedSaving From(long seed, TargetSaving t) => new(seed, t.Fraction, t.TargetLoss, t.ScratchCost?.Flops, t.ScratchCost?.WallSeconds,
        t.MethodCost?.Flops, t.MethodCost?.WallSeconds, t.FlopsSaving, t.WallSaving,
        t.Calibrated ? t.ScratchCost?.NormalisedSeconds : null, t.Calibrated ? t.MethodCost?.NormalisedSeconds : null, t.NormalisedWallSaving, t.AtFirstPoint);
}

/// <summary>
/// A method's savings to the reference's targets (SPEC section 6), over seeds. <see cref="WithDependency"/>: the
/// small model's cost (ledger entries not counted in the run) added to every point of the method's curve.
/// </summary>
public sealed record SavingsResult(string Run, string Label, bool WithDependency, double? PaperFlops, double? PaperWall, string? PaperNote,
    List<TargetSummary> Targets, List<SeedSaving> PerSeed);

/// <summary>
/// A probed model (one seed): mean held-out MLM/LM loss over <see cref="Samples"/> sequences, the mean and standard
/// deviation of |gradient| over every parameter element that received a gradient (x1e-3, the paper's unit), and a
/// histogram of the output activations (the final hidden states) over <see cref="HistogramLow"/>..<see cref="HistogramHigh"/>.
/// </summary>
public sealed record ProbeResult(string Row, string Label, string Kind, long Seed, int Layers, string Plan, int Samples,
    double Loss, double GradMean, double GradStd, long GradElements, double ActivationMean, double ActivationStd,
    double HistogramLow, double HistogramHigh, double[] Density);

/// <summary>
/// One fine-tuning score (x100, the paper's scale) of one run and seed, or why there is none (<see cref="Status"/>:
/// e.g. GLUE without --data-dir).
/// </summary>
public sealed record DownstreamResult(string Run, long Seed, string Task, string Dataset, string Metric, string? Group, bool StandIn,
    double? Value, string? Status, string? Detail);

/// <summary>
/// One method run's held-out savings against the Scratch run of the same model, shape and budget, one seed:
/// <paramref name="Half"/> to Scratch's loss at 50% of its budget, <paramref name="Final"/> to its final loss (null: not reached).
/// </summary>
public sealed record BudgetSaving(string Run, string Label, string Model, string Reference, double Budget, long Steps, long Seed,
    double ScratchFinalLoss, double MethodFinalLoss, double? Half, double? Final, double? PaperFlops);

/// <summary>
/// An interim report (<c>report --interim</c>): rendered from the runs that had finished, out of <see cref="PlannedRuns"/>
/// (a run and seed each); <see cref="Missing"/> names the others ("bert-scratch-4x (seed 42)"). A full render replaces it.
/// </summary>
public sealed record InterimState(int PlannedRuns, List<string> Missing)
{
    public int Finished => PlannedRuns - Missing.Count;
}

/// <summary>
/// Everything a report is rendered from, stored as results.json next to it: the context, the resolved
/// definition (with the paper's numbers) and the computed numbers. <c>report</c> re-renders from this
/// file alone and never recomputes or trains.
/// </summary>
public sealed record ArtifactResults
{
    public const string FileName = "results.json";
    /// <summary>
    /// 2: savings summarised over every seed (t-interval, median when some never reached), normalised wall time, absolute
    /// targets, the speedup curves, and <see cref="HeldOutSavings"/> always the held-out savings. Version 1 files are
    /// read and brought up to date by <see cref="ResultsUpgrade"/>.
    /// </summary>
    public const int CurrentVersion = 2;

    public int Version { get; init; } = CurrentVersion;
    public required string Id { get; init; }

    /// <summary>The definition's fingerprint at this scale (<see cref="Experiments.Experiment.Fingerprint"/>), for --resume.</summary>
    public required string Fingerprint { get; init; }

    public required ReportContext Context { get; init; }

    /// <summary>The resolved definition (scale overlay and overrides applied).</summary>
    public required JsonObject Definition { get; init; }

    public List<SamplerResult> Samplers { get; init; } = [];
    public List<MappingResult> Mappings { get; init; } = [];
    public List<ShapeResult> Shapes { get; init; } = [];

    // Training-driven artifacts: computed from stored run folders only (see TrainingResults.cs).
    public List<RunRecord> Runs { get; init; } = [];
    public List<DependencyRecord> Dependencies { get; init; } = [];
    public List<CurveResult> Curves { get; init; } = [];
    /// <summary>
    /// Savings to Scratch's smoothed training loss: the paper's measure, reported after the held-out savings. Empty when
    /// the definition's target loss is the held-out one. Apollo's training loss is logged at the sampled depth, so in its
    /// shallow stages it is not the loss of the network the target was read from.
    /// </summary>
    public List<SavingsResult> Savings { get; init; } = [];

    /// <summary>
    /// Savings to Scratch's held-out loss (full mapping, no dropout, the same fixed batches for every run), at the
    /// target's budget fractions and absolute losses: the measure reports lead with.
    /// </summary>
    public List<SavingsResult> HeldOutSavings { get; init; } = [];

    /// <summary>The iso-loss speedup curves on the held-out loss (<see cref="Experiments.Speedup"/>); null without a target.</summary>
    public SpeedupCurves? Speedup { get; init; }

    public List<ProbeResult> Probes { get; init; } = [];
    public List<DownstreamResult> Downstream { get; init; } = [];

    /// <summary>Each method run's held-out FLOPs saving against the Scratch run of its own model and budget (saving-vs-budget).</summary>
    public List<BudgetSaving> BudgetSavings { get; init; } = [];

    /// <summary>Set in an interim report only (not written otherwise): how many of the planned runs it holds, and which it lacks.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public InterimState? Interim { get; init; }

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ArtifactResults FromJson(string json) =>
        JsonSerializer.Deserialize<ArtifactResults>(json, Json) ?? throw new JsonException("results.json is empty");
}
