using System.Text.Json.Nodes;
using ApolloBench.Experiments;

namespace ApolloBench.Tests.Experiments;

/// <summary>The performance profile over artifacts, worked out by hand.</summary>
public class PerformanceProfileTests
{
    static readonly ReportContext Cpu = new() { Scale = "cpu", Device = "cpu", Seeds = "42", Commit = "c", Machine = "m", Created = "2024-01-01T00:00:00Z" };

    static RunRecord Run(string run, string key) => new(run, run, "x", 42, run, key, 10, 100, 100, 0, 0, 5, 5, "c", "cpu", "m");

    /// <summary>One artifact: Scratch (run key <paramref name="scratchKey"/>) costs 100 FLOPs at its 100% target; each method what it is given (null: never).</summary>
    static ArtifactResults Artifact(string id, string scratchKey, params (string Label, string Key, double? Flops)[] methods) => new()
    {
        Id = id, Fingerprint = "f", Context = Cpu,
        Definition = new JsonObject { ["target"] = new JsonObject { ["reference"] = "scratch" } },
        Runs = [Run("scratch", scratchKey), .. methods.Select(m => Run(m.Label.ToLowerInvariant(), m.Key))],
        HeldOutSavings = methods.Select(m => new SavingsResult(m.Label.ToLowerInvariant(), m.Label, false, null, null, null, [],
            [new SeedSaving(42, 1.0, 5, 100, 100, m.Flops, m.Flops, m.Flops is { } f ? 1 - f / 100 : null, null)])).ToList(),
    };

    [Fact]
    public void Each_method_reaches_a_fraction_of_its_pairs_within_tau_times_the_best()
    {
        // Workload A: Scratch 100, M1 50, M2 150 -> best 50: ratios Scratch 2, M1 1, M2 3.
        // Workload B: Scratch 100, M1 never, M2 80 -> best 80: ratios Scratch 1.25, M1 infinite, M2 1.
        // "a2" shows workload A again (the same Scratch and M1 runs, e.g. fig6b beside fig6a): it adds no pair.
        var profile = PerformanceProfiles.Compute(
        [
            Artifact("a", "s1", ("M1", "m1", 50), ("M2", "m2", 150)),
            Artifact("a2", "s1", ("M1", "m1", 50)),
            Artifact("b", "s2", ("M1", "m1b", null), ("M2", "m2b", 80)),
        ], "cpu")!;
        Assert.Equal(2, profile.Pairs.Count);
        Assert.Equal(["a, a2", "b"], profile.Pairs.Select(p => p.Workload));
        Assert.Equal(301, profile.Taus.Length);
        double At(string method, double tau) => profile.Methods.Single(m => m.Method == method).Fraction[(int)Math.Round((tau - 1) * 100)];
        Assert.Equal([0, 0.5, 0.5, 1, 1], new[] { 1, 1.25, 1.99, 2, 4 }.Select(t => At("scratch", t)));
        Assert.Equal([0.5, 0.5], new[] { 1, 4.0 }.Select(t => At("M1", t)));
        Assert.Equal([0.5, 0.5, 1], new[] { 1, 2.99, 3 }.Select(t => At("M2", t)));
        Assert.All(profile.Methods, m => Assert.Equal(2, m.Pairs));
        Assert.Null(PerformanceProfiles.Compute([Artifact("a", "s1", ("M1", "m1", 50))], "gpu"));
    }
}
