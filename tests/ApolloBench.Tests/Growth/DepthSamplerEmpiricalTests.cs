using ApolloBench.Core;
using ApolloBench.Growth;

namespace ApolloBench.Tests.Growth;

/// <summary>
/// Draws agree with the exact distributions: 200,000 draws per case, every depth's frequency within
/// 5 standard errors, sqrt(p(1-p)/draws), of its probability (depths of probability 0 never drawn).
/// </summary>
public class DepthSamplerEmpiricalTests
{
    const int L = 12;
    const int Draws = 200_000;

    [Theory]
    [InlineData("lvps", 0.0, 1)]
    [InlineData("lvps", 0.0, 3)]
    [InlineData("lvps", 0.0, 6)]
    [InlineData("es", 10.0, 1)]
    [InlineData("lvps-code", null, 1)]
    [InlineData("lvps-code", null, 3)]
    [InlineData("lvps-code", null, 6)]
    [InlineData("sigmoid-code", null, 1)]
    [InlineData("us", null, 3)]
    public void Draw_frequencies_match_the_exact_probabilities(string name, double? k, int n)
    {
        var sampler = DepthSampler.Create(name, k);
        var p = sampler.Probabilities(n, L);
        var counts = new int[L - n + 1];
        var rng = Rng.For(2024, $"test-{name}", n);
        for (int i = 0; i < Draws; i++)
        {
            int d = sampler.Sample(n, L, rng);
            Assert.InRange(d, n, L);
            counts[d - n]++;
        }
        for (int i = 0; i < p.Length; i++)
        {
            double freq = (double)counts[i] / Draws;
            double se = Math.Sqrt(p[i] * (1 - p[i]) / Draws);
            Assert.True(Math.Abs(freq - p[i]) <= 5 * se,
                $"{sampler} N={n} depth {n + i}: frequency {freq:F5}, probability {p[i]:F5}, 5 SE = {5 * se:F5}");
        }
    }
}
