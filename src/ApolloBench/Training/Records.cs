namespace ApolloBench.Training;

/// <summary>One optimiser step. Flops and WallSeconds are cumulative over training steps (evaluation excluded).</summary>
public sealed record StepRecord(
    long Step, double Loss, double Depth, int Weights, double Flops, double WallSeconds,
    double LearningRate, double GradNorm, long Tokens);

/// <summary>
/// Held-out loss after <paramref name="Step"/> steps, at the cumulative training cost so far.
/// <paramref name="HiddenSpread"/>: the spread of the final hidden states across held-out tokens, relative to the freshly
/// initialised full model's (the collapse detector; <see cref="Trainer.Evaluate"/>). <paramref name="MachineSpeed"/>: the
/// calibration workload's rate in GFLOP/s (<see cref="Calibration"/>), measured right after this evaluation.
/// <paramref name="CpuWait"/>: the share of the interval since the previous evaluation (steps, evaluation and calibration)
/// that the run's threads were ready to run but waited for a CPU (<see cref="Runtime.CpuWait"/>), per working thread;
/// near 0 on a machine whose cores are the run's own, NaN where Linux's schedstat is not available.
/// </summary>
public sealed record EvalRecord(long Step, double ValidLoss, double Flops, double WallSeconds, double HiddenSpread = double.NaN, double MachineSpeed = double.NaN,
    double CpuWait = double.NaN);

/// <summary>
/// A cost a method incurred outside the trainer's own steps, charged through
/// <see cref="TrainingSession.ChargeExtra"/> at the start of <paramref name="Step"/>.
/// <paramref name="CountedInRun"/>: true when the paper counts it as part of the method's training (LiGO's operator
/// steps); it is then added to the cumulative FLOPs and seconds of every later step and evaluation. False for costs
/// reported beside the run but not added (the small model that bert2BERT and LiGO start from).
/// </summary>
public sealed record LedgerEntry(long Step, string What, double Flops, double Seconds, bool CountedInRun);

/// <summary>
/// One stretch of a run's training by one process: from which step, when that process started training and the commit it
/// was built from. A run resumed from checkpoints has several; a run's key fixes its configuration, not the code, so these
/// say which builds trained which steps. <paramref name="Started"/> and <paramref name="Commit"/> are null for the steps
/// before a checkpoint of a build that did not record its stretches.
/// </summary>
public sealed record TrainingStretch(long FromStep, DateTimeOffset? Started, string? Commit);

/// <summary>Everything a run measured.</summary>
public sealed class RunResult
{
    /// <summary>Who trained which steps, in order (<see cref="TrainingStretch"/>).</summary>
    public List<TrainingStretch> Stretches { get; } = [];
    public List<StepRecord> Steps { get; } = [];
    public List<EvalRecord> Evals { get; } = [];
    public List<GrowthRecord> Growths { get; } = [];
    /// <summary>Costs charged by the method besides the training steps (see <see cref="LedgerEntry"/>).</summary>
    public List<LedgerEntry> Ledger { get; } = [];
    /// <summary>Hidden-state spread of the freshly initialised full model: the collapse detector's reference.</summary>
    public double InitialHiddenSpread { get; set; } = double.NaN;
    /// <summary>
    /// What the evaluations' machine speeds timed: <see cref="Calibration.Kind"/>, or, for a run resumed from a checkpoint of
    /// a build that timed another workload, a text starting with <see cref="MixedCalibration"/> (its wall time is then not normalised).
    /// </summary>
    public string CalibrationKind { get; set; } = Calibration.Kind;

    public const string MixedCalibration = "mixed: ";

    /// <summary>The calibration workload's rate (GFLOP/s) before the first step.</summary>
    public double InitialMachineSpeed { get; set; } = double.NaN;
    /// <summary>Cumulative FLOPs of the run: the training steps plus every ledger entry counted in the run.</summary>
    public double TotalFlops => Steps.Count == 0 ? 0 : Steps[^1].Flops;
    public double TotalWallSeconds => Steps.Count == 0 ? 0 : Steps[^1].WallSeconds;
    /// <summary>FLOPs and seconds of ledger entries reported beside the run but not added to it (dependency runs).</summary>
    public double ExternalFlops => Ledger.Where(e => !e.CountedInRun).Sum(e => e.Flops);
    public double ExternalWallSeconds => Ledger.Where(e => !e.CountedInRun).Sum(e => e.Seconds);
    /// <summary>The run's FLOPs with the dependency runs added: the "with the small model's cost" figure.</summary>
    public double TotalFlopsWithExternal => TotalFlops + ExternalFlops;
    public double TotalWallSecondsWithExternal => TotalWallSeconds + ExternalWallSeconds;
}

/// <summary>
/// The collapse detector: an encoder that maps every token to the same vector has lost what it was trained for, and a
/// method that grows from it copies the collapse into every layer. <see cref="EvalRecord.HiddenSpread"/> measures it;
/// a run is flagged when the spread falls below <see cref="Threshold"/> of the freshly initialised model's.
/// Measured (cpu scale, BERT, 2,000 steps, 5% warmup, no dropout: the settings of the earlier cpu reports): the Apollo run
/// with the paper's schedule fell to 0.017 by step 50 and sat at 1e-7 to 9e-7 (float rounding of one vector) from step 100
/// to the end, on the plateau; Scratch went no lower than 0.08 (while leaving the plateau, around step 50) and stayed at
/// 0.9 to 1.1 after step 200. 0.01 lies eight-fold below the healthy run's lowest and four orders of magnitude above the
/// collapsed one. In bf16 (the cpu scale since) a collapsed encoder floors higher, at 3.2e-4 in every fig6a seed (bf16
/// rounding of one vector's copies; the same run in fp32 sits at 3e-6 to 8e-6, `reports/scales.md`): still 30-fold below
/// the threshold, and Scratch's lowest (0.08 at step 100) still above it.
/// </summary>
public static class CollapseDetector
{
    public const double Threshold = 0.01;

    public static bool IsCollapsed(double hiddenSpread) => hiddenSpread < Threshold;

    /// <summary>The first evaluation at which a run's spread fell below the threshold, or null.</summary>
    public static EvalRecord? FirstCollapse(IEnumerable<EvalRecord> evals) => evals.FirstOrDefault(e => IsCollapsed(e.HiddenSpread));

    /// <summary>
    /// The evaluation (its step) from which a run that collapsed stayed at or above the threshold to its end: a transient
    /// collapse, its final network not collapsed. Null if it never collapsed, or if it ended collapsed. Unmeasured (NaN)
    /// spreads are skipped.
    /// </summary>
    public static long? RecoveredAt(IReadOnlyList<(long Step, double Spread)> evals)
    {
        var measured = evals.Where(e => double.IsFinite(e.Spread)).ToList();
        int last = measured.FindLastIndex(e => IsCollapsed(e.Spread));
        return last < 0 || last == measured.Count - 1 ? null : measured[last + 1].Step;
    }
}
