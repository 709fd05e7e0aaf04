namespace ApolloBench.Experiments;

/// <summary>
/// Brings a results.json of an earlier version up to <see cref="ArtifactResults.CurrentVersion"/> from what it stores,
/// so <c>report</c> re-renders old results with the current tables without retraining. What an old file never measured
/// (calibration speed, hidden-state spread) stays null and shows as "not measured".
/// </summary>
public static class ResultsUpgrade
{
    public static ArtifactResults ToCurrent(ArtifactResults r)
    {
        if (r.Version == ArtifactResults.CurrentVersion) return r;
        if (r.Version != 1)
            throw new InvalidOperationException($"results version {r.Version}: this build reads versions 1 to {ArtifactResults.CurrentVersion}");
        // Version 1: Savings held the savings to the definition's target loss, HeldOutSavings the held-out ones beside a
        // training-loss target; each summary was the mean of the seeds that reached it with a percentile bootstrap.
        bool train = TargetsTrainingLoss(r);
        var heldOut = (train ? r.HeldOutSavings : r.Savings).Select(Resummarize).ToList();
        var paper = train ? r.Savings.Select(Resummarize).ToList() : [];
        var upgraded = r with { Version = ArtifactResults.CurrentVersion, Savings = paper, HeldOutSavings = heldOut };
        return upgraded with { Speedup = SpeedupOf(upgraded) };
    }

    /// <summary>The speedup curves of stored results: every held-out savings row against the target's reference run.</summary>
    public static SpeedupCurves? SpeedupOf(ArtifactResults r)
    {
        if (Reference(r) is not { } reference || r.HeldOutSavings.Count == 0) return null;
        var seeds = r.Curves.Where(c => c.Run == reference).Select(c => c.Seed).ToList();
        var methods = r.HeldOutSavings.Select(s => (s.Run, s.Label, s.WithDependency)).ToList();
        return Speedup.Compute(r.Curves, r.Runs, reference, methods, seeds);
    }

    /// <summary>The target's reference run named in the stored definition, or null when it has no target.</summary>
    public static string? Reference(ArtifactResults r) => r.Definition["target"]?["reference"]?.GetValue<string>();

    static bool TargetsTrainingLoss(ArtifactResults r) => (r.Definition["target"]?["loss"]?.GetValue<string>() ?? "train") == "train";

    /// <summary>The summaries over seeds recomputed from the stored per-seed savings, with today's statistics.</summary>
    static SavingsResult Resummarize(SavingsResult s)
    {
        var bySeed = s.PerSeed.GroupBy(p => p.Seed).Select(g => (IReadOnlyList<TargetSaving>)g.Select(p => p.ToTargetSaving()).ToList()).ToList();
        return s with { Targets = bySeed.Count == 0 ? s.Targets : [.. Savings.SummarizeTargets(bySeed)] };
    }
}
