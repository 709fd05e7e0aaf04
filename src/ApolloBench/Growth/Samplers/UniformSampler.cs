namespace ApolloBench.Growth;

/// <summary>Uniform sampling, US (paper Table 1; SPEC section 3): every depth in <c>N..L</c> equally likely.</summary>
public sealed class UniformSampler : DepthSampler
{
    public override string Name => "us";

    protected override double[] ProbabilitiesCore(int n, int l)
    {
        var p = new double[l - n + 1];
        Array.Fill(p, 1.0 / p.Length);
        return p;
    }

    protected override int DepthAt(int n, int l, double u) => n + (int)(u * (l - n + 1));
}
