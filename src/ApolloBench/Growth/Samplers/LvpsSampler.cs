namespace ApolloBench.Growth;

/// <summary>
/// Low-value-prioritised sampling, LVPS (paper Eq. 7-10, Table 1; SPEC section 3): CDF
/// <c>F(x) = c - b/(x+k)</c> on <c>[N, U)</c>, <c>U = L+1</c>, with <c>b = (N+k)(U+k)/(U-N)</c> and
/// <c>c = (U+k)/(U-N)</c>. Written here in the equivalent form <c>F(x) = (U+k)(x-N) / ((U-N)(x+k))</c>,
/// which stays exact for large k (k -> infinity tends to uniform). The paper uses k = 0.
/// </summary>
public sealed class LvpsSampler : DepthSampler
{
    readonly double k;

    public LvpsSampler(double k = 0)
    {
        if (!double.IsFinite(k) || k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "lvps needs a finite k >= 0");
        this.k = k;
    }

    public override string Name => "lvps";
    public override double? K => k;

    protected override double[] ProbabilitiesCore(int n, int l)
    {
        double u = l + 1, span = u - n;
        return FromCdf(n, l, x => (u + k) * (x - n) / (span * (x + k)));
    }

    /// <summary>Inverse CDF, <c>x = b/(c-u) - k</c>, rearranged to <c>x - N = uD(N+k) / (U+k-uD)</c> with <c>D = U-N</c>.</summary>
    protected override int DepthAt(int n, int l, double u)
    {
        double uD = u * (l + 1 - n);
        return n + (int)Math.Floor(uD * ((n + k) / (l + 1 + k - uD)));
    }
}
