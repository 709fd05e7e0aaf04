using ApolloBench.Core;

namespace ApolloBench.Experiments;

/// <summary>
/// One point of a loss curve: cumulative training FLOPs and seconds when the loss was measured, and the seconds
/// normalised to the machine's calibration speed (<see cref="WallTime.Normalised"/>; NaN when the run has no calibration).
/// </summary>
public readonly record struct CurvePoint(double Flops, double WallSeconds, double Loss, double NormalisedSeconds = double.NaN);

/// <summary>What reaching a loss cost (normalised seconds NaN when not measured).</summary>
public readonly record struct Cost(double Flops, double WallSeconds, double NormalisedSeconds = double.NaN);

/// <summary>
/// The saving of one method at one target: Scratch's loss at <see cref="Fraction"/> of its budget, or (fraction null)
/// the absolute loss <see cref="TargetLoss"/>. A cost is null when that run never reaches the target: the method then
/// has no saving, which is not a saving of 0 (SPEC section 6); Scratch's cost is null only for an absolute target it
/// never reaches, and then no method has a saving against it. <see cref="Calibrated"/>: both curves carry normalised
/// seconds, so the normalised wall-time saving is measured. <see cref="AtFirstPoint"/>: the method was already at or below
/// the target at the first point of its curve (its first evaluation), so it reached it no later than that: its cost is an
/// upper bound and its saving a lower bound (a method grown from a trained model can start below an early target).
/// </summary>
public sealed record TargetSaving(double? Fraction, double TargetLoss, Cost? ScratchCost, Cost? MethodCost, bool Calibrated = false, bool AtFirstPoint = false)
{
    /// <summary><c>1 - F_method(first reach) / F_scratch(fraction of its budget)</c>.</summary>
    public double? FlopsSaving => ScratchCost is { } s && MethodCost is { } m ? 1 - m.Flops / s.Flops : null;

    /// <summary>The same with wall-clock seconds as measured.</summary>
    public double? WallSaving => ScratchCost is { } s && MethodCost is { } m ? 1 - m.WallSeconds / s.WallSeconds : null;

    /// <summary>The same with seconds normalised to the calibration speed; null when not reached or not measured.</summary>
    public double? NormalisedWallSaving => Calibrated && ScratchCost is { } s && MethodCost is { } m ? 1 - m.NormalisedSeconds / s.NormalisedSeconds : null;
}

/// <summary>
/// A method's savings at one target over seeds: at <see cref="Fraction"/> of Scratch's budget, or (fraction null) at the
/// absolute loss <see cref="Loss"/>. <see cref="NormalisedWall"/> is null when some run has no calibration ("not measured").
/// </summary>
public sealed record TargetSummary(double? Fraction, SeedSummary Flops, SeedSummary Wall, SeedSummary? NormalisedWall = null, double? Loss = null);

/// <summary>
/// A per-seed quantity over <see cref="Seeds"/> seeds, <see cref="Reached"/> of which have a value (reached the target).
/// When every seed has one: <see cref="Value"/> is their mean (<see cref="Statistic"/> "mean") with a 95% interval
/// (<see cref="Interval"/>: "t" below <see cref="BootstrapFrom"/> seeds, "bootstrap" from there; none for one seed).
/// When some have none: the median with the seeds that never reached ranked last ("median", no interval), null when
/// the median itself falls on such a seed.
/// </summary>
/// <see cref="AtLeast"/>: every seed's value is a lower bound (each reached the target at the method's first evaluation).
/// <see cref="Capped"/>: the interval's upper end was cut at the most the quantity can be (<see cref="CapAt"/>).
public sealed record SeedSummary(int Seeds, int Reached, double? Value, double? Low, double? High, string Statistic = SeedSummary.Mean, string? Interval = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] bool AtLeast = false,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)] bool Capped = false)
{
    public const string Mean = "mean", Median = "median";

    /// <summary>
    /// The summary with its interval cut at <paramref name="most"/>, the largest value the quantity can take (a saving is at
    /// most 100%: a method that cost nothing). A t interval over few seeds can reach past it; the part past it holds no
    /// possible value, so cutting it keeps the interval's coverage.
    /// </summary>
    public SeedSummary CapAt(double most) => High is { } high && high > most ? this with { High = most, Low = Math.Min(Low ?? most, most), Capped = true } : this;
    public const string TInterval = "t", BootstrapInterval = "bootstrap";

    /// <summary>Seeds from which the interval is a percentile bootstrap instead of Student's t.</summary>
    public const int BootstrapFrom = 10;
}

/// <summary>
/// Savings to a target loss (SPEC section 6), a pure function of stored curves.
/// <list type="bullet">
/// <item>Targets: the Scratch curve's loss at fractions f of its FLOPs budget (0.25, 0.5, 0.75, 1), read
/// off the curve by linear interpolation in FLOPs between its points; or absolute loss values fixed in advance
/// (MLPerf's quality targets), which Scratch reaches at its own first reach.</item>
/// <item>Training loss is noisy per step, so both curves are smoothed first by a trailing mean over a
/// window of <c>w</c> points (the first <c>w-1</c> points average what is there). Held-out loss is measured
/// at evaluations only and is used as it is (window 1).</item>
/// <item>Reaching: the first point whose loss is at or below the target; the cost is interpolated
/// linearly between that point and the one before it (the same fraction of the segment for FLOPs, for
/// seconds and for normalised seconds). A curve that starts below the target reaches it at its first point.</item>
/// <item>Saving = <c>1 - cost_method / cost_scratch</c>, where <c>cost_scratch</c> is the cost at which Scratch
/// defines the target: <c>f</c> times its total FLOPs, and its seconds at that point. At f = 1 this is the
/// paper's "1 - F_method / F_scratch(total)".</item>
/// <item>Over seeds (<see cref="Summarize"/>): every seed counts. All reached: the mean and a 95% interval, Student's t
/// below 10 seeds (a percentile bootstrap of 3 seeds has at most 10 distinct means and covers the true mean about 75% of
/// the time), a seeded bootstrap from 10. Some never reached: the median with those ranked last.</item>
/// </list>
/// </summary>
public static class Savings
{
    /// <summary>The paper's default targets: Scratch's loss at 25/50/75/100% of its budget.</summary>
    public static IReadOnlyList<double> DefaultFractions { get; } = [0.25, 0.5, 0.75, 1.0];

    /// <summary>Resamples for the bootstrap interval.</summary>
    public const int DefaultResamples = 2000;

    /// <summary>The smoothing window in points for a trailing mean over <paramref name="fraction"/> of <paramref name="points"/> (at least 1).</summary>
    public static int Window(int points, double fraction) => Math.Max(1, (int)Math.Round(points * fraction, MidpointRounding.AwayFromZero));

    /// <summary>Trailing mean of the loss over <paramref name="window"/> points; costs unchanged.</summary>
    public static IReadOnlyList<CurvePoint> Smooth(IReadOnlyList<CurvePoint> curve, int window)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "must be >= 1");
        Check(curve, nameof(curve));
        var smoothed = new CurvePoint[curve.Count];
        double sum = 0;
        for (int i = 0; i < curve.Count; i++)
        {
            sum += curve[i].Loss;
            if (i >= window) sum -= curve[i - window].Loss;
            smoothed[i] = curve[i] with { Loss = sum / Math.Min(i + 1, window) };
        }
        return smoothed;
    }

    /// <summary>The point of <paramref name="curve"/> at <paramref name="fraction"/> of its total FLOPs, interpolated linearly in FLOPs.</summary>
    public static CurvePoint AtBudget(IReadOnlyList<CurvePoint> curve, double fraction)
    {
        Check(curve, nameof(curve));
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "must lie in (0, 1]");
        double budget = fraction * curve[^1].Flops;
        if (fraction == 1) return curve[^1];
        if (budget <= curve[0].Flops) return curve[0] with { Flops = budget };
        for (int i = 1; i < curve.Count; i++)
        {
            if (curve[i].Flops < budget) continue;
            var (a, b) = (curve[i - 1], curve[i]);
            double t = (budget - a.Flops) / (b.Flops - a.Flops);
            return new CurvePoint(budget, Lerp(a.WallSeconds, b.WallSeconds, t), Lerp(a.Loss, b.Loss, t), Lerp(a.NormalisedSeconds, b.NormalisedSeconds, t));
        }
        return curve[^1];
    }

    /// <summary>The cost at which <paramref name="curve"/> first reaches <paramref name="target"/>, or null if it never does.</summary>
    public static Cost? FirstReach(IReadOnlyList<CurvePoint> curve, double target)
    {
        Check(curve, nameof(curve));
        for (int i = 0; i < curve.Count; i++)
        {
            if (!(curve[i].Loss <= target)) continue;
            var (a, b) = (curve[Math.Max(i - 1, 0)], curve[i]);
            if (i == 0 || !double.IsFinite(a.Loss)) return new Cost(b.Flops, b.WallSeconds, b.NormalisedSeconds);
            double t = (a.Loss - target) / (a.Loss - b.Loss); // a.Loss > target >= b.Loss, so t in (0, 1]
            return new Cost(Lerp(a.Flops, b.Flops, t), Lerp(a.WallSeconds, b.WallSeconds, t), Lerp(a.NormalisedSeconds, b.NormalisedSeconds, t));
        }
        return null;
    }

    /// <summary>Whether the first point of <paramref name="curve"/> with a loss is already at or below <paramref name="target"/> (<see cref="TargetSaving.AtFirstPoint"/>).</summary>
    public static bool AtFirstPoint(IReadOnlyList<CurvePoint> curve, double target)
    {
        foreach (var p in curve)
            if (double.IsFinite(p.Loss)) return p.Loss <= target;
        return false;
    }

    /// <summary>Whether every point of <paramref name="curve"/> has normalised seconds (the run recorded its calibration speed).</summary>
    public static bool IsCalibrated(IReadOnlyList<CurvePoint> curve) => curve.Count > 0 && curve.All(p => double.IsFinite(p.NormalisedSeconds));

    /// <summary>
    /// Savings of one method run against one Scratch run (same seed): at each target fraction of Scratch's budget, then
    /// at each absolute loss in <paramref name="absolute"/>. <paramref name="window"/> smooths both curves (1 for held-out loss).
    /// </summary>
    public static IReadOnlyList<TargetSaving> Compute(IReadOnlyList<CurvePoint> scratch, IReadOnlyList<CurvePoint> method,
        IReadOnlyList<double> fractions, int window = 1, IReadOnlyList<double>? absolute = null)
    {
        var s = Smooth(scratch, window);
        var m = Smooth(method, window);
        bool calibrated = IsCalibrated(s) && IsCalibrated(m);
        var atFractions = fractions.Select(f =>
        {
            var at = AtBudget(s, f);
            return new TargetSaving(f, at.Loss, new Cost(at.Flops, at.WallSeconds, at.NormalisedSeconds), FirstReach(m, at.Loss), calibrated, AtFirstPoint(m, at.Loss));
        });
        var atLosses = (absolute ?? []).Select(loss => new TargetSaving(null, loss, FirstReach(s, loss), FirstReach(m, loss), calibrated, AtFirstPoint(m, loss)));
        return [.. atFractions, .. atLosses];
    }

    /// <summary>The largest saving there is (1 = 100%: the method reached the target at no cost).</summary>
    public const double MostSaving = 1.0;

    /// <summary>
    /// A per-seed saving over all its seeds (null: that seed never reached the target). Every seed reached: the mean,
    /// with a 95% interval from Student's t for 2..9 seeds (<see cref="StudentT975"/>, mean +- t s / sqrt(n)), from a
    /// percentile bootstrap from <see cref="SeedSummary.BootstrapFrom"/> seeds up (<paramref name="resamples"/> resamples
    /// of a seeded stream, the 2.5% and 97.5% quantiles of their means), none for one seed. Some never reached: the
    /// median with those ranked last (no interval); the mean of the others would favour the method. <paramref name="atLeast"/>:
    /// every seed's value is a lower bound, which the summary keeps (<see cref="SeedSummary.AtLeast"/>) when every seed has one.
    /// </summary>
    public static SeedSummary Summarize(IReadOnlyList<double?> perSeed, int resamples = DefaultResamples, long seed = 2024, bool atLeast = false)
    {
        var summary = SummarizeValues(perSeed, resamples, seed);
        return atLeast && summary.Reached == summary.Seeds ? summary with { AtLeast = true } : summary;
    }

    static SeedSummary SummarizeValues(IReadOnlyList<double?> perSeed, int resamples, long seed)
    {
        int n = perSeed.Count;
        if (n == 0) throw new ArgumentException("needs at least one seed", nameof(perSeed));
        var values = perSeed.OfType<double>().ToArray();
        if (values.Length < n) return new SeedSummary(n, values.Length, MedianUnreachedLast(perSeed), null, null, SeedSummary.Median);
        double mean = values.Average();
        if (n == 1) return new SeedSummary(1, 1, mean, null, null);
        if (n < SeedSummary.BootstrapFrom)
        {
            double sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
            double half = StudentT975(n - 1) * sd / Math.Sqrt(n);
            return new SeedSummary(n, n, mean, mean - half, mean + half, SeedSummary.Mean, SeedSummary.TInterval);
        }
        if (resamples < 1) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "must be >= 1");
        var rng = Rng.For(seed, "bootstrap");
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += values[rng.NextInt(n)];
            means[r] = sum / n;
        }
        Array.Sort(means);
        return new SeedSummary(n, n, mean, Quantile(means, 0.025), Quantile(means, 0.975), SeedSummary.Mean, SeedSummary.BootstrapInterval);
    }

    /// <summary>
    /// The median of per-seed savings where a seed that never reached the target ranks below every saving: null when
    /// the median falls on such a seed (for an even count, when either middle value does).
    /// </summary>
    public static double? MedianUnreachedLast(IReadOnlyList<double?> perSeed)
    {
        var ranked = perSeed.Select(v => v ?? double.NegativeInfinity).OrderByDescending(v => v).ToArray();
        int n = ranked.Length;
        double median = n % 2 == 1 ? ranked[n / 2] : (ranked[n / 2 - 1] + ranked[n / 2]) / 2;
        return double.IsNegativeInfinity(median) ? null : median;
    }

    /// <summary>Student's t quantile t(0.975, df) for df 1..8 (n = 2..9 seeds), to 9 decimals.</summary>
    public static double StudentT975(int df) => df switch
    {
        1 => 12.706204736,
        2 => 4.302652730,
        3 => 3.182446305,
        4 => 2.776445105,
        5 => 2.570581836,
        6 => 2.446911851,
        7 => 2.364624252,
        8 => 2.306004135,
        _ => throw new ArgumentOutOfRangeException(nameof(df), df, $"tabulated for 1..8 degrees of freedom; from {SeedSummary.BootstrapFrom} seeds the interval is a bootstrap"),
    };

    /// <summary>Quantile of sorted values, interpolating between order statistics (Hyndman-Fan type 7).</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        double h = (sorted.Count - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Count - 1);
        return Lerp(sorted[lo], sorted[hi], h - lo);
    }

    static double Lerp(double a, double b, double t) => a + (b - a) * t;

    static void Check(IReadOnlyList<CurvePoint> curve, string name)
    {
        if (curve.Count == 0) throw new ArgumentException("a curve needs at least one point", name);
        for (int i = 0; i < curve.Count; i++)
        {
            var p = curve[i];
            if (!double.IsFinite(p.Flops) || !double.IsFinite(p.WallSeconds) || p.Flops < 0 || p.WallSeconds < 0)
                throw new ArgumentException($"point {i}: costs must be finite and >= 0", name);
            if (i > 0 && (p.Flops < curve[i - 1].Flops || p.WallSeconds < curve[i - 1].WallSeconds))
                throw new ArgumentException($"point {i}: costs must not decrease", name);
        }
        if (!(curve[^1].Flops > 0)) throw new ArgumentException("the curve's total FLOPs must be > 0", name);
    }

    /// <summary>Pairs seed i of the method with seed i of Scratch and summarises each target over the seeds.</summary>
    public static IReadOnlyList<TargetSummary> SummarizeTargets(IReadOnlyList<IReadOnlyList<CurvePoint>> scratchBySeed,
        IReadOnlyList<IReadOnlyList<CurvePoint>> methodBySeed, IReadOnlyList<double> fractions, int window = 1, IReadOnlyList<double>? absolute = null)
    {
        if (scratchBySeed.Count != methodBySeed.Count || scratchBySeed.Count == 0)
            throw new ArgumentException("needs one Scratch curve per method curve (same seeds), and at least one");
        return SummarizeTargets(scratchBySeed.Zip(methodBySeed, (s, m) => Compute(s, m, fractions, window, absolute)).ToList());
    }

    /// <summary>
    /// Summarises each target over seeds from per-seed savings already computed (one list per seed, the targets in the
    /// same order in each). The normalised wall-time saving is summarised only when every seed's runs were calibrated.
    /// </summary>
    public static IReadOnlyList<TargetSummary> SummarizeTargets(IReadOnlyList<IReadOnlyList<TargetSaving>> perSeed)
    {
        // A saving's intervals end at 100% at most (SeedSummary.CapAt).
        if (perSeed.Count == 0) throw new ArgumentException("needs at least one seed");
        return perSeed[0].Select((t, i) =>
        {
            bool atLeast = perSeed.All(seed => seed[i].AtFirstPoint && seed[i].MethodCost is not null);
            return new TargetSummary(t.Fraction,
                Summarize(perSeed.Select(seed => seed[i].FlopsSaving).ToList(), atLeast: atLeast).CapAt(MostSaving),
                Summarize(perSeed.Select(seed => seed[i].WallSaving).ToList(), atLeast: atLeast).CapAt(MostSaving),
                perSeed.All(seed => seed[i].Calibrated) ? Summarize(perSeed.Select(seed => seed[i].NormalisedWallSaving).ToList(), atLeast: atLeast).CapAt(MostSaving) : null,
                t.Fraction is null ? t.TargetLoss : null);
        }).ToList();
    }
}
