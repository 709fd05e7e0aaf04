namespace ApolloBench.Growth;

/// <summary>
/// "Apollo w/o sampling" (paper Fig. 7; SPEC section 3): always <c>N(s)</c>, i.e. plain progressive
/// training with no shared deeper passes. Still consumes one uniform per draw, like every sampler.
/// </summary>
public sealed class NoSampling : DepthSampler
{
    public override string Name => "none";

    protected override double[] ProbabilitiesCore(int n, int l)
    {
        var p = new double[l - n + 1];
        p[0] = 1;
        return p;
    }

    protected override int DepthAt(int n, int l, double u) => n;
}
