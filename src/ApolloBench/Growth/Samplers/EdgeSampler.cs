namespace ApolloBench.Growth;

/// <summary>
/// Edge sampling, ES (paper Table 1, Appendix Fig. 9; SPEC section 3): density
/// <c>(1/k) (1/(x-N+b) + 1/(U+b-x))</c> on <c>[N, U)</c>, <c>U = L+1</c>, <c>b = (U-N)/(exp(k/2)-1)</c>
/// (the paper prints <c>x-N-b</c>; this sign is the one that integrates to 1). Its CDF is
/// <c>F(x) = (1/k) [ln((x-N+b)/b) - ln((U+b-x)/(U+b-N))]</c>, and <c>F(U) = (2/k) ln((U-N+b)/b) = 1</c>
/// because <c>(U-N+b)/b = exp(k/2)</c>. Symmetric about the middle; the paper uses k = 10.
/// k = 0 is the limit, the uniform density.
/// </summary>
public sealed class EdgeSampler : DepthSampler
{
    /// <summary>Largest accepted k: beyond about 1400, <c>exp(k/2)</c> overflows (at k = 1000 each edge depth already holds about 0.4976).</summary>
    public const double MaxK = 1000;

    readonly double k;

    public EdgeSampler(double k = 10)
    {
        if (!(k >= 0 && k <= MaxK)) throw new ArgumentOutOfRangeException(nameof(k), k, $"es needs 0 <= k <= {MaxK}");
        this.k = k;
    }

    public override string Name => "es";
    public override double? K => k;

    protected override double[] ProbabilitiesCore(int n, int l)
    {
        double u = l + 1, span = u - n;
        if (k == 0) return FromCdf(n, l, x => (x - n) / span);
        double h = Math.Exp(-k / 2), b = span * h / (1 - h); // b = span / (exp(k/2) - 1)
        return FromCdf(n, l, x => (Math.Log((x - n + b) / b) - Math.Log((u + b - x) / (u + b - n))) / k);
    }

    /// <summary>
    /// Inverse CDF: with <c>h = exp(-k/2)</c> and <c>E = exp(-k u)</c>, solving <c>F(x) = u</c> gives
    /// <c>x - N = D h (1-E) / ((1-h)(h+E))</c>, <c>D = U-N</c> (0 at u = 0, D at u = 1).
    /// </summary>
    protected override int DepthAt(int n, int l, double u)
    {
        double span = l + 1 - n;
        if (k == 0) return n + (int)Math.Floor(u * span);
        double h = Math.Exp(-k / 2), e = Math.Exp(-k * u);
        return n + (int)Math.Floor(span * h * (1 - e) / ((1 - h) * (h + e)));
    }
}
