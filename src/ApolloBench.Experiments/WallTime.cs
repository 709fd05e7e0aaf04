using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// Wall time normalised to the machine's speed (issue 16): a run times a fixed calibration workload (one full-depth
/// training step of a fixed copy of its model on a fixed batch, see <see cref="Calibration"/>) at every evaluation
/// (<see cref="EvalRecord.MachineSpeed"/>, GFLOP/s), so a stretch of training that ran while the machine was busy is
/// charged at the speed the machine had then. Each step's seconds (the difference of the cumulative column) are scaled
/// by the calibration speed measured at the end of the evaluation interval that holds the step, over
/// <see cref="ReferenceGflops"/>: normalised seconds are "seconds on a machine whose calibration runs at 100 GFLOP/s".
/// A saving is a ratio of two runs' times, so the reference cancels; a run is only compared with runs of its own
/// precision (the calibration runs in the run's precision).
/// </summary>
public static class WallTime
{
    public const double ReferenceGflops = 100;

    /// <summary>
    /// Whether a run's manifest <c>results.calibration</c> names today's workload (<see cref="Calibration.Kind"/>); a run
    /// without the field timed a matmul, whose rates are not comparable and did not track a loaded machine.
    /// </summary>
    public static bool IsCurrentCalibration(string? kind) => kind == Calibration.Kind;

    /// <summary>
    /// A run's share of waiting for a CPU (<see cref="EvalRecord.CpuWait"/>) over its whole curve: each evaluation's share
    /// weighted by its interval's training seconds; null when no evaluation measured it (older runs, or no schedstat).
    /// </summary>
    public static double? CpuWait(IReadOnlyList<CurveRow> rows)
    {
        double waited = 0, seconds = 0, previous = 0;
        bool any = false;
        foreach (var row in rows.Where(r => r.ValidLoss is not null))
        {
            double span = row.WallSeconds - previous;
            previous = row.WallSeconds;
            if (row.CpuWait is not { } share || !double.IsFinite(share) || span <= 0) continue;
            waited += share * span;
            seconds += span;
            any = true;
        }
        return any && seconds > 0 ? waited / seconds : null;
    }

    /// <summary>
    /// The CPU-wait share above which a run's wall time is not read as the method's (<see cref="EvalRecord.CpuWait"/>).
    /// Measured by the walltime bench on the 2-core machine with two niced single-thread runs beside it
    /// (reports/performance.md, 2026-12-05): runs without the bench's load process waited 3.6-5.4% (libgomp's default
    /// spinning) and 8.7-10.6% (<c>OMP_WAIT_POLICY=PASSIVE</c>, whose sleeping threads wait to be woken); runs beside it
    /// waited 51.9% and 28.3%. 20% sits between the two groups for both policies.
    /// </summary>
    public const double CpuWaitLimit = 0.20;

    /// <summary>
    /// Cumulative normalised seconds at every row of a curve, or null when the curve has no calibration (runs made before
    /// the column existed). Rows after the last evaluation take its speed.
    /// </summary>
    public static double[]? Normalised(IReadOnlyList<CurveRow> rows)
    {
        if (rows.Count == 0 || rows.All(r => r.MachineSpeed is null or double.NaN)) return null;
        var speed = new double[rows.Count];
        double next = rows.Last(r => r.MachineSpeed is > 0).MachineSpeed!.Value;
        for (int i = rows.Count - 1; i >= 0; i--)
        {
            if (rows[i].MachineSpeed is { } v && v > 0) next = v;
            speed[i] = next;
        }
        var result = new double[rows.Count];
        double total = 0, previous = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            total += (rows[i].WallSeconds - previous) * speed[i] / ReferenceGflops;
            previous = rows[i].WallSeconds;
            result[i] = total;
        }
        return result;
    }
}
