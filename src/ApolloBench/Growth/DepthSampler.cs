using ApolloBench.Core;

namespace ApolloBench.Growth;

/// <summary>
/// Draws the executed depth <c>L(t)</c> in <c>[N(s), L]</c> for one micro-batch (paper Table 1,
/// SPEC section 3). Every sampler is a map from one uniform draw <c>u</c> in [0,1) to a depth, so a
/// draw consumes exactly one <see cref="Rng.NextDouble"/> whatever the sampler, and its exact
/// distribution is known (<see cref="Probabilities"/>). Continuous paper densities live on
/// <c>[N, L+1)</c> and the depth is the integer part of the draw, so depth <c>d</c> has mass
/// <c>F(d+1) - F(d)</c>. When <c>N == L</c> every sampler returns <c>L</c>.
/// New samplers: one sealed class under Growth/Samplers/ plus one line in <see cref="Registry"/>.
/// </summary>
public abstract class DepthSampler
{
    /// <summary>The registry name (what <c>--sampler</c> takes).</summary>
    public abstract string Name { get; }

    /// <summary>The shape parameter <c>k</c>, for samplers that have one (lvps, es).</summary>
    public virtual double? K => null;

    /// <summary>
    /// Exact probability of each depth <c>n..l</c> (index <c>d - n</c>); sums to 1.
    /// <paramref name="n"/> is the number of trained weights <c>N(s)</c>, <paramref name="l"/> the target depth <c>L</c>.
    /// </summary>
    public double[] Probabilities(int n, int l)
    {
        Check(n, l);
        return n == l ? [1.0] : ProbabilitiesCore(n, l);
    }

    /// <summary>Draws one depth in <c>[n, l]</c> from exactly one <c>rng.NextDouble()</c>.</summary>
    public int Sample(int n, int l, Rng rng)
    {
        Check(n, l);
        double u = rng.NextDouble();
        return n == l ? l : Math.Clamp(DepthAt(n, l, u), n, l);
    }

    /// <summary>Expected depth <c>sum d P(d)</c>: the mean executed depth, hence the mean cost per step.</summary>
    public double MeanDepth(int n, int l)
    {
        var p = Probabilities(n, l);
        double mean = 0;
        for (int i = 0; i < p.Length; i++) mean += (n + i) * p[i];
        return mean;
    }

    public override string ToString() => K is { } k ? $"{Name}(k={k})" : Name;

    /// <summary>Probabilities for <c>1 &lt;= n &lt; l</c>.</summary>
    protected abstract double[] ProbabilitiesCore(int n, int l);

    /// <summary>The depth a uniform <paramref name="u"/> in [0,1) maps to, for <c>1 &lt;= n &lt; l</c>.</summary>
    protected abstract int DepthAt(int n, int l, double u);

    /// <summary>
    /// Masses <c>F(d+1) - F(d)</c> of a continuous CDF on <c>[n, l+1)</c>; the end points are pinned to
    /// <c>F(n) = 0</c>, <c>F(l+1) = 1</c>, so the masses telescope to 1.
    /// </summary>
    protected static double[] FromCdf(int n, int l, Func<double, double> cdf)
    {
        var p = new double[l - n + 1];
        double below = 0;
        for (int d = n; d <= l; d++)
        {
            double upTo = d == l ? 1.0 : cdf(d + 1);
            p[d - n] = upTo - below;
            below = upTo;
        }
        return p;
    }

    /// <summary>
    /// Exact masses of a depth map that does not increase with <c>u</c> (the released code's samplers):
    /// the set of <c>u</c> in [0,1) giving a depth <c>&gt;= d</c> is an interval <c>[0, t_d)</c>, whose end
    /// is found by bisection on the very function <see cref="DepthAt"/> evaluates, to 2^-60.
    /// </summary>
    protected static double[] FromDecreasingMap(int n, int l, Func<double, int> depthAt)
    {
        double AtLeast(int d)
        {
            if (d <= n) return 1.0;
            if (d > l || depthAt(0.0) < d) return 0.0;
            double lo = 0.0, hi = 1.0; // depthAt(lo) >= d; everything from hi on is < d
            for (int i = 0; i < 60; i++)
            {
                double mid = 0.5 * (lo + hi);
                if (depthAt(mid) >= d) lo = mid; else hi = mid;
            }
            return hi;
        }
        var p = new double[l - n + 1];
        for (int d = n; d <= l; d++) p[d - n] = AtLeast(d) - AtLeast(d + 1);
        return p;
    }

    static void Check(int n, int l)
    {
        if (n < 1 || n > l)
            throw new ArgumentException($"a depth sampler needs 1 <= n <= l (got n = {n}, l = {l})");
    }

    // ---- registry and factory -------------------------------------------------------------

    /// <summary>One registered sampler: its name, its default k (null: takes no k), the largest k it accepts.</summary>
    sealed record Entry(string Name, double? DefaultK, double MaxK, Func<double, DepthSampler> Make);

    static readonly Entry[] Registry =
    [
        new("lvps", DefaultK: 0, MaxK: double.MaxValue, k => new LvpsSampler(k)),
        new("es", DefaultK: 10, MaxK: EdgeSampler.MaxK, k => new EdgeSampler(k)),
        new("us", null, 0, _ => new UniformSampler()),
        new("fs", null, 0, _ => new FullSampler()),
        new("none", null, 0, _ => new NoSampling()),
        new("lvps-code", null, 0, _ => new LvpsCodeSampler()),
        new("sigmoid-code", null, 0, _ => new SigmoidCodeSampler()),
    ];

    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(Registry, e => e.Name);

    /// <summary>
    /// The sampler named by <c>--sampler</c> (case-insensitive) with <c>--sampler-k</c> when given
    /// (lvps defaults to the paper's k = 0, es to k = 10).
    /// </summary>
    public static DepthSampler Create(string name, double? k)
    {
        var entry = Array.Find(Registry, e => string.Equals(e.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new UsageException($"--sampler: unknown sampler '{name}'; valid names: {string.Join(", ", Names)}");
        if (k is not { } given) return entry.Make(entry.DefaultK ?? 0);

        if (entry.DefaultK is null)
        {
            var withK = Registry.Where(e => e.DefaultK is not null).Select(e => e.Name);
            throw new UsageException($"--sampler-k: sampler '{entry.Name}' takes no k (only {string.Join(" and ", withK)} do)");
        }
        if (!(given >= 0)) throw new UsageException("--sampler-k: must be >= 0");
        if (double.IsInfinity(given)) throw new UsageException("--sampler-k: must be finite");
        if (given > entry.MaxK)
            throw new UsageException($"--sampler-k: must be <= {entry.MaxK} for {entry.Name} (got {given})");
        return entry.Make(given);
    }
}
