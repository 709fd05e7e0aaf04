namespace ApolloBench.Experiments;

/// <summary>
/// Iso-loss speedup curves of an artifact on the held-out loss: for each target fraction <see cref="Fractions"/> of
/// Scratch's budget, <see cref="TargetLoss"/><c>[j][s]</c> is Scratch seed <see cref="Seeds"/><c>[s]</c>'s held-out loss
/// there, and each method's savings to reach it are in <see cref="Methods"/>.
/// </summary>
public sealed record SpeedupCurves(long[] Seeds, double[] Fractions, double[][] TargetLoss, List<SpeedupResult> Methods);

/// <summary>One method's (or, <see cref="WithDependency"/>, one method with its small model's cost's) speedup curve.</summary>
public sealed record SpeedupResult(string Run, string Label, bool WithDependency, List<SpeedupPoint> Points);

/// <summary>
/// The savings at one target, per seed (in <see cref="SpeedupCurves.Seeds"/>' order; null: that seed never reached it,
/// or for normalised wall time also not measured) and over the seeds as <see cref="Savings.Summarize"/> puts them.
/// </summary>
public sealed record SpeedupPoint(double Fraction, double?[] Flops, double?[] Wall, double?[] NormalisedWall, TargetSummary Summary);

/// <summary>
/// The iso-loss speedup curve: the savings of SPEC section 6 at every target between Scratch's held-out loss at 10% of
/// its budget and its final one, not only at four. The targets are Scratch's loss at every 1% of its budget from 10% to
/// 100% (91 targets), so the savings table's 25/50/75/100% targets are points of the curve and each saving is measured
/// the same way (Scratch's cost is that fraction of its budget; the method's, its first reach, interpolated). Held-out
/// loss only: it is the loss of the full network for every method at every step, where Apollo's training loss is that of
/// the depth it sampled.
/// </summary>
public static class Speedup
{
    /// <summary>The first target: Scratch's loss at this fraction of its budget.</summary>
    public const double From = 0.10;

    /// <summary>Targets from <see cref="From"/> to 100% of Scratch's budget, one per 1%.</summary>
    public static IReadOnlyList<double> Fractions { get; } = Enumerable.Range(10, 91).Select(p => p / 100.0).ToArray();

    /// <summary>
    /// The curves of every method row of <paramref name="methods"/> (the held-out savings' rows: run, label, and whether the
    /// small model's cost is charged) against the <paramref name="reference"/> run, seed by seed, from the stored held-out
    /// curves. A charged row adds the run's external cost to every point (its normalised seconds are not measured: the
    /// small model's run has no calibration stored with the consumer).
    /// </summary>
    public static SpeedupCurves Compute(IReadOnlyList<CurveResult> curves, IReadOnlyList<RunRecord> runs, string reference,
        IReadOnlyList<(string Run, string Label, bool WithDependency)> methods, IReadOnlyList<long> seeds, IReadOnlyList<double>? fractions = null)
    {
        fractions ??= Fractions;
        IReadOnlyList<CurvePoint> HeldOut(string run, long seed, bool charged)
        {
            var c = curves.FirstOrDefault(x => x.Run == run && x.Seed == seed)
                    ?? throw new InvalidOperationException($"no stored curve of run '{run}', seed {seed}");
            var record = runs.FirstOrDefault(x => x.Run == run && x.Seed == seed);
            double flops = charged ? record?.ExternalFlops ?? 0 : 0, seconds = charged ? record?.ExternalWallSeconds ?? 0 : 0;
            return c.ValidFlops.Select((f, i) => new CurvePoint(f + flops, c.ValidWallSeconds[i] + seconds, c.ValidLoss[i],
                !charged && c.ValidNormalisedSeconds is { } n ? n[i] : double.NaN)).ToList();
        }
        var scratch = seeds.Select(seed => HeldOut(reference, seed, false)).ToList();
        var targetLoss = fractions.Select(f => scratch.Select(s => Round(Savings.AtBudget(s, f).Loss)).ToArray()).ToArray();
        var results = methods.Select(m =>
        {
            var bySeed = seeds.Select((seed, s) => Savings.Compute(scratch[s], HeldOut(m.Run, seed, m.WithDependency), fractions)).ToList();
            var summaries = Savings.SummarizeTargets(bySeed);
            var points = fractions.Select((f, j) => new SpeedupPoint(f,
                bySeed.Select(t => Round(t[j].FlopsSaving)).ToArray(),
                bySeed.Select(t => Round(t[j].WallSaving)).ToArray(),
                bySeed.Select(t => Round(t[j].NormalisedWallSaving)).ToArray(),
                summaries[j])).ToList();
            return new SpeedupResult(m.Run, m.Label, m.WithDependency, points);
        }).ToList();
        return new SpeedupCurves([.. seeds], [.. fractions], targetLoss, results);
    }

    static double Round(double v) => Math.Round(v, 6);

    static double? Round(double? v) => v is { } x ? Math.Round(x, 6) : null;
}
