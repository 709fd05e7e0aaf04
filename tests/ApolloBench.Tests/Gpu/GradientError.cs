namespace ApolloBench.Tests.Gpu;

/// <summary>How far one device's gradient is from the reference device's: |g - g_ref| / |g_ref| over all parameters.</summary>
static class GradientError
{
    public static double Relative(float[] gradient, float[] reference)
    {
        Assert.Equal(reference.Length, gradient.Length);
        double diff = 0, norm = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            diff += (gradient[i] - reference[i]) * (gradient[i] - reference[i]);
            norm += reference[i] * reference[i];
        }
        Assert.True(norm > 0, "the reference gradient is zero");
        return Math.Sqrt(diff / norm);
    }
}
