namespace ApolloBench.Experiments;

/// <summary>
/// One (workload, target) pair of a performance profile: each method's FLOPs to reach the target (the median over seeds,
/// a seed that never reached it counting as never; <see cref="double.PositiveInfinity"/> when the median never did) and
/// the best of them.
/// </summary>
public sealed record ProfilePair(string Workload, string Target, IReadOnlyDictionary<string, double> Flops)
{
    public double Best => Flops.Values.Min();

    /// <summary>A method's FLOPs over the best method's (1 for the best; infinite when it never reached the target).</summary>
    public double Ratio(string method) => Flops[method] / Best;
}

/// <summary>A method's profile: over the <see cref="Pairs"/> pairs it was run on, the fraction reached within tau x the best, for each tau.</summary>
public sealed record ProfileCurve(string Method, int Pairs, double[] Fraction);

/// <summary>The performance profile of one scale: its pairs, the taus, and one curve per method.</summary>
public sealed record PerformanceProfile(string Scale, IReadOnlyList<string> Artifacts, IReadOnlyList<ProfilePair> Pairs, double[] Taus, IReadOnlyList<ProfileCurve> Methods);

/// <summary>
/// A performance profile in AlgoPerf's form over every training artifact of a scale: for each method, the fraction of
/// (workload, target) pairs it reaches within tau times the FLOPs of the best method on that pair, for tau from 1 to 4.
/// <list type="bullet">
/// <item>Targets: the held-out targets of each artifact (Scratch's held-out loss at its budget fractions, and any absolute
/// losses). Scratch is a method too, at the cost that defines its target.</item>
/// <item>A workload is a reference: artifacts whose Scratch runs are the same runs (the same run keys: fig6a, fig6b, fig7,
/// table3, table4 at cpu scale) share one, so a pair is counted once however many artifacts show it; a method run in
/// several of them (the same run keys, with or without the small model's cost) is one method there, named as the first
/// artifact (in id order) names it.</item>
/// <item>Across workloads a method is its label ("Apollo" on BERT and on GPT is one algorithm on two workloads), and its
/// curve is over the pairs it was run on.</item>
/// </list>
/// </summary>
public static class PerformanceProfiles
{
    public const double MaxTau = 4;

    /// <summary>tau from 1 to <see cref="MaxTau"/> in steps of 0.01.</summary>
    public static double[] Taus { get; } = Enumerable.Range(0, 301).Select(i => 1 + i / 100.0).ToArray();

    /// <summary>The profile of the artifacts of <paramref name="scale"/> among <paramref name="results"/> that have held-out savings; null when none does.</summary>
    public static PerformanceProfile? Compute(IEnumerable<ArtifactResults> results, string scale)
    {
        var artifacts = results.Where(r => r.Context.Scale == scale && r.HeldOutSavings.Count > 0 && ResultsUpgrade.Reference(r) is not null)
            .OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
        if (artifacts.Count == 0) return null;
        // workload key -> (name, target -> method key -> (label, FLOPs))
        var workloads = new Dictionary<string, (List<string> Ids, Dictionary<string, Dictionary<string, (string Label, double Flops)>> Targets)>();
        foreach (var r in artifacts)
        {
            var reference = ResultsUpgrade.Reference(r)!;
            string KeysOf(string run) => string.Join("+", r.Runs.Where(x => x.Run == run).Select(x => x.RunKey).Order(StringComparer.Ordinal));
            var workload = KeysOf(reference);
            if (!workloads.TryGetValue(workload, out var w)) workloads[workload] = w = ([], []);
            w.Ids.Add(r.Id);
            var referenceLabel = r.Runs.FirstOrDefault(x => x.Run == reference)?.Label ?? reference;
            foreach (var s in r.HeldOutSavings)
            foreach (var target in s.PerSeed.GroupBy(p => TargetName(p)))
            {
                if (!w.Targets.TryGetValue(target.Key, out var methods)) w.Targets[target.Key] = methods = [];
                methods.TryAdd("reference", (referenceLabel, Median(target.Select(p => p.ScratchFlops))));
                var key = KeysOf(s.Run) + (s.WithDependency ? "+charged" : "");
                var label = s.Label;
                // The same label for a different configuration in one workload: tell them apart by the artifact that ran it.
                if (methods.Any(m => m.Key != key && m.Value.Label == label)) label = $"{label} ({r.Id})";
                methods.TryAdd(key, (label, Median(target.Select(p => p.MethodFlops))));
            }
        }
        var pairs = new List<ProfilePair>();
        foreach (var (_, (ids, targets)) in workloads)
        foreach (var (target, methods) in targets)
        {
            var flops = methods.Values.GroupBy(m => m.Label).ToDictionary(g => g.Key, g => g.First().Flops);
            if (!double.IsFinite(flops.Values.Min())) continue;   // nobody reached it: no best to compare with
            pairs.Add(new ProfilePair(string.Join(", ", ids), target, flops));
        }
        var labels = pairs.SelectMany(p => p.Flops.Keys).Distinct().ToList();
        var curves = labels.Select(label =>
        {
            var ratios = pairs.Where(p => p.Flops.ContainsKey(label)).Select(p => p.Ratio(label)).ToList();
            // A ratio within rounding of a tau counts as reached (the best method's own ratio is exactly 1).
            return new ProfileCurve(label, ratios.Count, Taus.Select(tau => ratios.Count(x => x <= tau * (1 + 1e-12)) / (double)ratios.Count).ToArray());
        }).ToList();
        return new PerformanceProfile(scale, artifacts.Select(r => r.Id).ToList(), pairs, Taus, curves);
    }

    static string TargetName(SeedSaving p) => p.Fraction is { } f
        ? $"held-out loss at {Math.Round(100 * f, 6).ToString(System.Globalization.CultureInfo.InvariantCulture)}% of Scratch's budget"
        : $"held-out loss {p.TargetLoss.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>The median over seeds with a seed that never reached the target ranked last (infinite cost).</summary>
    static double Median(IEnumerable<double?> perSeed)
    {
        var costs = perSeed.Select(v => v ?? double.PositiveInfinity).Order().ToArray();
        int n = costs.Length;
        return n % 2 == 1 ? costs[n / 2] : (costs[n / 2 - 1] + costs[n / 2]) / 2;
    }
}
