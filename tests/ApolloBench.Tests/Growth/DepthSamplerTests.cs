using ApolloBench.Core;
using ApolloBench.Growth;

namespace ApolloBench.Tests.Growth;

/// <summary>Exact sampler distributions against SPEC section 3's reference table (L = 12).</summary>
public class DepthSamplerTests
{
    const int L = 12;

    // name, k (null: default), N, P(N), P(N+1), P(12), mean depth: SPEC.md section 3, verbatim.
    public static TheoryData<string, double?, int, double, double, double, double> SpecTable => new()
    {
        { "lvps", 0, 1, 0.5417, 0.1806, 0.0069, 2.362 },
        { "lvps", 0, 3, 0.3250, 0.1950, 0.0250, 5.253 },
        { "lvps", 0, 6, 0.2653, 0.1990, 0.0714, 8.136 },
        { "es", 10, 1, 0.2673, 0.0749, 0.2673, 6.500 },
        { "lvps-code", null, 1, 0.7356, 0.1051, 0.0017, 1.767 },
        { "lvps-code", null, 3, 0.6368, 0.1042, 0.0158, 4.226 },
        { "lvps-code", null, 6, 0.6476, 0.0857, 0.0667, 7.135 },
    };

    [Theory]
    [MemberData(nameof(SpecTable))]
    public void Exact_probabilities_reproduce_the_spec_table(
        string name, double? k, int n, double pN, double pN1, double pL, double mean)
    {
        var sampler = DepthSampler.Create(name, k);
        var p = sampler.Probabilities(n, L);
        Assert.Equal(L - n + 1, p.Length);
        AssertRounds(pN, p[0], 4);
        AssertRounds(pN1, p[1], 4);
        AssertRounds(pL, p[^1], 4);
        AssertRounds(mean, sampler.MeanDepth(n, L), 3);
    }

    /// <summary>
    /// sigmoid-code is not in SPEC's table. These numbers come from inverting the released formula
    /// in closed form (x = 0.5 + ln((begin-end)/(y-end) - 1)/20 at y = d/N), computed in Python, a
    /// derivation independent of the bisection the C# code uses.
    /// </summary>
    [Fact]
    public void Sigmoid_code_matches_its_closed_form_inversion()
    {
        var p = DepthSampler.Create("sigmoid-code", null).Probabilities(1, L);
        double[] expected = [0.399734, 0.032005, 0.023039, 0.019229, 0.017499, 0.016990,
                             0.017499, 0.019229, 0.023039, 0.032005, 0.067229, 0.332504];
        for (int i = 0; i < expected.Length; i++) AssertRounds(expected[i], p[i], 6);
    }

    [Fact]
    public void Lvps_code_matches_its_closed_form_inversion_at_every_depth()
    {
        // x = m/y - n' at y = d/N, computed in Python (see sigmoid test).
        var p = DepthSampler.Create("lvps-code", null).Probabilities(3, L);
        double[] expected = [0.636842, 0.104211, 0.069474, 0.049624, 0.037218, 0.028947,
                             0.023158, 0.018947, 0.015789, 0.015789];
        for (int i = 0; i < expected.Length; i++) AssertRounds(expected[i], p[i], 6);
    }

    [Fact]
    public void Every_sampler_sums_to_one_for_every_n()
    {
        foreach (var name in DepthSampler.Names)
            foreach (int l in new[] { 1, 2, 6, 12, 24 })
                for (int n = 1; n <= l; n++)
                {
                    var p = DepthSampler.Create(name, null).Probabilities(n, l);
                    Assert.Equal(l - n + 1, p.Length);
                    Assert.All(p, q => Assert.InRange(q, 0.0, 1.0));
                    Assert.True(Math.Abs(p.Sum() - 1) <= 1e-12, $"{name} n={n} l={l}: sum {p.Sum():R}");
                }
    }

    [Fact]
    public void Sampler_parameters_at_their_extremes_still_give_distributions()
    {
        foreach (var (name, k) in new[] { ("lvps", 1e-9), ("lvps", 1e12), ("es", 1e-9), ("es", 0.0), ("es", 1000.0) })
        {
            var p = DepthSampler.Create(name, k).Probabilities(1, L);
            Assert.All(p, q => Assert.InRange(q, 0.0, 1.0));
            Assert.True(Math.Abs(p.Sum() - 1) <= 1e-12, $"{name} k={k}: sum {p.Sum():R}");
        }
        // es at k = 1000: b = 12/(e^500 - 1), so P(N) = F(N+1) = (ln(1 + 1/b) - ln(1 - 1/(12+b)))/1000
        // = (500 - ln 12 - ln(11/12))/1000 = 0.497602 (by hand), and P(12) the same by symmetry.
        // lvps with huge k tends to uniform.
        var edges = DepthSampler.Create("es", 1000).Probabilities(1, L);
        AssertRounds(0.497602, edges[0], 6);
        AssertRounds(0.497602, edges[^1], 6);
        Assert.All(DepthSampler.Create("lvps", 1e12).Probabilities(1, L), q => AssertRounds(1.0 / 12, q, 6));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(11)]
    public void Us_is_uniform_fs_is_all_at_L_none_is_all_at_N(int n)
    {
        int count = L - n + 1;
        Assert.All(DepthSampler.Create("us", null).Probabilities(n, L), q => Assert.Equal(1.0 / count, q, 15));
        var fs = DepthSampler.Create("fs", null).Probabilities(n, L);
        Assert.Equal(1.0, fs[^1]);
        Assert.Equal(0.0, fs[..^1].Sum());
        var none = DepthSampler.Create("none", null).Probabilities(n, L);
        Assert.Equal(1.0, none[0]);
        Assert.Equal(0.0, none[1..].Sum());
        Assert.Equal(L, DepthSampler.Create("fs", null).MeanDepth(n, L));
        Assert.Equal(n, DepthSampler.Create("none", null).MeanDepth(n, L));
    }

    [Fact]
    public void When_n_equals_l_every_sampler_returns_l()
    {
        var rng = Rng.For(7, "test-depth");
        foreach (var name in DepthSampler.Names)
        {
            var sampler = DepthSampler.Create(name, null);
            Assert.Equal([1.0], sampler.Probabilities(L, L));
            for (int i = 0; i < 20; i++) Assert.Equal(L, sampler.Sample(L, L, rng));
        }
    }

    [Fact]
    public void A_draw_consumes_exactly_one_uniform_for_every_sampler()
    {
        foreach (var name in DepthSampler.Names)
            foreach (int n in new[] { 3, L })
            {
                var viaSampler = Rng.For(11, "test-depth", n);
                var byHand = Rng.For(11, "test-depth", n);
                DepthSampler.Create(name, null).Sample(n, L, viaSampler);
                byHand.NextDouble();
                Assert.Equal(byHand.NextULong(), viaSampler.NextULong());
            }
    }

    [Fact]
    public void Draws_are_reproducible_from_the_seed()
    {
        var sampler = DepthSampler.Create("lvps", null);
        int[] Draw() { var rng = Rng.For(42, "depth"); return Enumerable.Range(0, 100).Select(_ => sampler.Sample(1, L, rng)).ToArray(); }
        Assert.Equal(Draw(), Draw());
    }

    [Fact]
    public void Names_defaults_and_labels()
    {
        Assert.Equal(["lvps", "es", "us", "fs", "none", "lvps-code", "sigmoid-code"], DepthSampler.Names);
        foreach (var name in DepthSampler.Names) Assert.Equal(name, DepthSampler.Create(name.ToUpperInvariant(), null).Name);
        Assert.Equal(0, DepthSampler.Create("lvps", null).K);
        Assert.Equal(10, DepthSampler.Create("es", null).K);
        Assert.Equal(2.5, DepthSampler.Create("lvps", 2.5).K);
        Assert.Null(DepthSampler.Create("us", null).K);
        Assert.Equal("es(k=10)", DepthSampler.Create("es", null).ToString());
    }

    [Fact]
    public void Unknown_sampler_names_the_option_and_lists_the_valid_names()
    {
        var e = Assert.Throws<UsageException>(() => DepthSampler.Create("gaussian", null));
        Assert.Contains("--sampler", e.Message);
        Assert.Contains("gaussian", e.Message);
        foreach (var name in DepthSampler.Names) Assert.Contains(name, e.Message);
    }

    [Theory]
    [InlineData("lvps", -1.0)]
    [InlineData("es", -0.5)]
    [InlineData("lvps", double.NaN)]
    public void Negative_k_is_a_usage_error(string name, double k)
    {
        var e = Assert.Throws<UsageException>(() => DepthSampler.Create(name, k));
        Assert.Equal("--sampler-k: must be >= 0", e.Message);
    }

    [Theory]
    [InlineData("us")]
    [InlineData("fs")]
    [InlineData("none")]
    [InlineData("lvps-code")]
    [InlineData("sigmoid-code")]
    public void K_for_a_sampler_without_k_is_a_usage_error(string name)
    {
        var e = Assert.Throws<UsageException>(() => DepthSampler.Create(name, 1));
        Assert.StartsWith("--sampler-k:", e.Message);
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Too_large_or_infinite_k_is_a_usage_error()
    {
        Assert.StartsWith("--sampler-k:", Assert.Throws<UsageException>(() => DepthSampler.Create("es", 1001)).Message);
        Assert.StartsWith("--sampler-k:", Assert.Throws<UsageException>(() => DepthSampler.Create("lvps", double.PositiveInfinity)).Message);
    }

    [Fact]
    public void Invalid_depth_ranges_are_rejected()
    {
        var sampler = DepthSampler.Create("lvps", null);
        Assert.Throws<ArgumentException>(() => sampler.Probabilities(0, L));
        Assert.Throws<ArgumentException>(() => sampler.Probabilities(13, L));
        Assert.Throws<ArgumentException>(() => sampler.Sample(5, 4, Rng.For(1, "x")));
    }

    /// <summary>Equal to <paramref name="expected"/> when rounded to <paramref name="places"/> decimals.</summary>
    static void AssertRounds(double expected, double actual, int places)
    {
        double half = 0.5 * Math.Pow(10, -places);
        Assert.True(Math.Abs(actual - expected) <= half + 1e-15,
            $"expected {expected} to {places} places, got {actual:R}");
    }
}
