namespace ApolloBench.Growth;

/// <summary>
/// The released code's samplers (SPEC section 3): <c>x ~ U(1e-6, 1)</c> drawn as Python's
/// <c>random.uniform</c> does (<c>1e-6 + (1 - 1e-6) u</c>), a decreasing curve <c>y(x)</c> from
/// <c>begin = L/N + 0.4</c> towards <c>end = 0.6</c>, clipped to <c>[1, L/N]</c>, depth <c>int(y N)</c>.
/// The depth never increases with <c>u</c>, so the exact distribution comes from the <c>u</c>
/// interval of each depth (<see cref="DepthSampler.FromDecreasingMap"/>).
/// </summary>
public abstract class ReleasedCodeSampler : DepthSampler
{
    protected const double XMin = 1e-6;
    protected const double End = 0.6;

    /// <summary>The unclipped curve at <paramref name="x"/>; <c>y(XMin) = begin</c> (lvps-code) or about it.</summary>
    protected abstract double Curve(double x, double begin);

    protected sealed override int DepthAt(int n, int l, double u)
    {
        double ratio = (double)l / n;
        double x = XMin + (1.0 - XMin) * u;
        double y = Math.Max(Math.Min(Curve(x, ratio + 0.4), ratio), 1);
        return (int)(y * n);
    }

    protected sealed override double[] ProbabilitiesCore(int n, int l) =>
        FromDecreasingMap(n, l, u => Math.Clamp(DepthAt(n, l, u), n, l));
}

/// <summary>
/// <c>lvps-code</c>, the released code's LVPS (no k): the hyperbola <c>y = m/(x+n')</c> through
/// <c>(1e-6, begin)</c> and <c>(1, end)</c>: <c>n' = (begin 1e-6 - end)/(end - begin)</c>, <c>m = end (n'+1)</c>.
/// </summary>
public sealed class LvpsCodeSampler : ReleasedCodeSampler
{
    public override string Name => "lvps-code";

    protected override double Curve(double x, double begin)
    {
        double shift = (begin * XMin - End) / (End - begin);
        double scale = End * (shift + 1);
        return scale / (x + shift);
    }
}

/// <summary>
/// <c>sigmoid-code</c>, the released code's edge-like sampler:
/// <c>y = (begin - end) / (1 + exp(20 (x - 0.5))) + end</c>.
/// </summary>
public sealed class SigmoidCodeSampler : ReleasedCodeSampler
{
    public override string Name => "sigmoid-code";

    protected override double Curve(double x, double begin) => (begin - End) / (1 + Math.Exp(20 * (x - 0.5))) + End;
}
