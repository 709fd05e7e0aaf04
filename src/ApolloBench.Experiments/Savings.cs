using ApolloBench.Core;

namespace ApolloBench.Experiments;

/// <summary>One point of a loss curve: cumulative training FLOPs and seconds when the loss was measured.</summary>
public readonly record struct CurvePoint(double Flops, double WallSeconds, double Loss);

/// <summary>What reaching a loss cost.</summary>
public readonly record struct Cost(double Flops, double WallSeconds);

/// <summary>
/// The saving of one method at one target. <see cref="MethodCost"/> and the savings are null when the
/// method never reaches the target: it has no saving, which is not a saving of 0 (SPEC section 6).
/// </summary>
public sealed record TargetSaving(double Fraction, double TargetLoss, Cost ScratchCost, Cost? MethodCost)
{
    /// <summary><c>1 - F_method(first reach) / F_scratch(fraction of its budget)</c>.</summary>
    public double? FlopsSaving => MethodCost is { } m ? 1 - m.Flops / ScratchCost.Flops : null;

    /// <summary>The same with wall-clock seconds.</summary>
    public double? WallSaving => MethodCost is { } m ? 1 - m.WallSeconds / ScratchCost.WallSeconds : null;
}

/// <summary>A method's savings at one target fraction, over seeds.</summary>
public sealed record TargetSummary(double Fraction, SeedSummary Flops, SeedSummary Wall);

/// <summary>A per-seed quantity over seeds: mean and percentile-bootstrap 95% interval of the seeds that have a value.</summary>
public sealed record SeedSummary(int Seeds, int Reached, double? Mean, double? Low, double? High);

/// <summary>
/// Savings to a target loss (SPEC section 6), a pure function of stored curves.
/// <list type="bullet">
/// <item>Targets: the Scratch curve's loss at fractions f of its FLOPs budget (0.25, 0.5, 0.75, 1), read
/// off the curve by linear interpolation in FLOPs between its points.</item>
/// <item>Training loss is noisy per step, so both curves are smoothed first by a trailing mean over a
/// window of <c>w</c> points (the first <c>w-1</c> points average what is there). Held-out loss is measured
/// at evaluations only and is used as it is (window 1).</item>
/// <item>Reaching: the first point whose loss is at or below the target; the cost is interpolated
/// linearly between that point and the one before it (the same fraction of the segment for FLOPs and
/// for seconds). A curve that starts below the target reaches it at its first point.</item>
/// <item>Saving = <c>1 - cost_method / cost_scratch</c>, where <c>cost_scratch</c> is the cost at which Scratch
/// defines the target: <c>f</c> times its total FLOPs, and its seconds at that point. At f = 1 this is the
/// paper's "1 - F_method / F_scratch(total)".</item>
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
            return new CurvePoint(budget, Lerp(a.WallSeconds, b.WallSeconds, t), Lerp(a.Loss, b.Loss, t));
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
            if (i == 0 || !double.IsFinite(a.Loss)) return new Cost(b.Flops, b.WallSeconds);
            double t = (a.Loss - target) / (a.Loss - b.Loss); // a.Loss > target >= b.Loss, so t in (0, 1]
            return new Cost(Lerp(a.Flops, b.Flops, t), Lerp(a.WallSeconds, b.WallSeconds, t));
        }
        return null;
    }

    /// <summary>
    /// Savings of one method run against one Scratch run (same seed) at each target fraction.
    /// <paramref name="window"/> smooths both curves (1 for held-out loss).
    /// </summary>
    public static IReadOnlyList<TargetSaving> Compute(IReadOnlyList<CurvePoint> scratch, IReadOnlyList<CurvePoint> method,
        IReadOnlyList<double> fractions, int window = 1)
    {
        var s = Smooth(scratch, window);
        var m = Smooth(method, window);
        return fractions.Select(f =>
        {
            var at = AtBudget(s, f);
            return new TargetSaving(f, at.Loss, new Cost(at.Flops, at.WallSeconds), FirstReach(m, at.Loss));
        }).ToList();
    }

    /// <summary>
    /// Mean over the seeds that have a value, and a percentile bootstrap 95% interval: <paramref name="resamples"/>
    /// resamples of those values with replacement from a seeded stream, the 2.5% and 97.5% quantiles of their
    /// means (linear interpolation between order statistics). No interval from fewer than two values.
    /// </summary>
    public static SeedSummary Summarize(IReadOnlyList<double?> perSeed, int resamples = DefaultResamples, long seed = 2024)
    {
        var values = perSeed.OfType<double>().ToArray();
        if (values.Length == 0) return new SeedSummary(perSeed.Count, 0, null, null, null);
        double mean = values.Average();
        if (values.Length == 1) return new SeedSummary(perSeed.Count, 1, mean, null, null);
        if (resamples < 1) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "must be >= 1");
        var rng = Rng.For(seed, "bootstrap");
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < values.Length; i++) sum += values[rng.NextInt(values.Length)];
            means[r] = sum / values.Length;
        }
        Array.Sort(means);
        return new SeedSummary(perSeed.Count, values.Length, mean, Quantile(means, 0.025), Quantile(means, 0.975));
    }

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
        IReadOnlyList<IReadOnlyList<CurvePoint>> methodBySeed, IReadOnlyList<double> fractions, int window = 1)
    {
        if (scratchBySeed.Count != methodBySeed.Count || scratchBySeed.Count == 0)
            throw new ArgumentException("needs one Scratch curve per method curve (same seeds), and at least one");
        return SummarizeTargets(scratchBySeed.Zip(methodBySeed, (s, m) => Savings.Compute(s, m, fractions, window)).ToList(), fractions);
    }

    /// <summary>Summarises each target over seeds from per-seed savings already computed (one list per seed, in <paramref name="fractions"/>' order).</summary>
    public static IReadOnlyList<TargetSummary> SummarizeTargets(IReadOnlyList<IReadOnlyList<TargetSaving>> perSeed, IReadOnlyList<double> fractions)
    {
        if (perSeed.Count == 0) throw new ArgumentException("needs at least one seed");
        return fractions.Select((f, i) => new TargetSummary(f,
            Savings.Summarize(perSeed.Select(seed => seed[i].FlopsSaving).ToList()),
            Savings.Summarize(perSeed.Select(seed => seed[i].WallSaving).ToList()))).ToList();
    }
}
