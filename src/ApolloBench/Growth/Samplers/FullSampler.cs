namespace ApolloBench.Growth;

/// <summary>Full sampling, FS (paper Table 1; SPEC section 3): always the full depth <c>L</c>.</summary>
public sealed class FullSampler : DepthSampler
{
    public override string Name => "fs";

    protected override double[] ProbabilitiesCore(int n, int l)
    {
        var p = new double[l - n + 1];
        p[^1] = 1;
        return p;
    }

    protected override int DepthAt(int n, int l, double u) => l;
}
