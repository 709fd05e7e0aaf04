using System.Globalization;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

/// <summary>
/// results.json of version 1 (the committed reports' format before issue 16) re-renders with today's tables: summaries
/// recomputed from the stored per-seed savings, speedup curves from the stored held-out curves, and "not measured" for
/// what those runs never recorded.
/// </summary>
public class ResultsUpgradeTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-upgrade-").FullName;
    readonly CultureInfo culture = CultureInfo.CurrentCulture;

    public ResultsUpgradeTests() => CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

    public void Dispose()
    {
        CultureInfo.CurrentCulture = culture;
        Directory.Delete(root, recursive: true);
    }

    const string Linear = """
        {
          "title": "Linear curves", "reproduces": "nothing (a test)", "model": "bert", "seeds": 3,
          "runs": { "scratch": { "method": "scratch" }, "fast": { "method": "apollo" } },
          "target": { "reference": "scratch", "smoothing": 0, "budgetFractions": "0.5,1" },
          "outputs": { "savings": { "type": "savings-table" } }
        }
        """;

    static readonly ReportContext Context = new() { Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "2024-01-01T00:00:00Z" };

    /// <summary>
    /// Three seeds of "fast": seed 42 reaches Scratch's final training loss with a 50% saving, seed 44 with 75%, seed 43
    /// never. Stored as version 1 stored them: the mean of the seeds that reached (62.5%), no speedup curves, no calibration.
    /// </summary>
    (ArtifactResults V1, Experiment E) Version1(string definition = Linear)
    {
        var e = ExperimentLoader.Parse("linear.json", "linear", definition, "cpu", [], Repo.Experiments);
        var settings = new RunSettings { Runs = Path.Combine(root, "runs"), Cache = Path.Combine(root, "cache"), Threads = 2 };
        var plan = RunPlanner.Plan(e, settings);
        foreach (var seed in e.SeedValues)
        {
            HandWrittenRunTests.WriteRun(plan.Get("scratch", seed).Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t));
            double slope = seed switch { 42 => 0.16, 44 => 0.32, _ => 0 };
            HandWrittenRunTests.WriteRun(plan.Get("fast", seed).Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => Math.Max(10 - slope * t, 1.5)));
        }
        var current = TrainingResults.Compute(plan, settings, Context);
        static SeedSummary Old(IEnumerable<double?> perSeed)
        {
            var values = perSeed.OfType<double>().ToList();
            return new SeedSummary(perSeed.Count(), values.Count, values.Count == 0 ? null : values.Average(), null, null);
        }
        static SavingsResult Downgrade(SavingsResult s) => s with
        {
            PerSeed = [.. s.PerSeed.Select(p => p with { ScratchNormalisedSeconds = null, MethodNormalisedSeconds = null, NormalisedWallSaving = null })],
            Targets = [.. s.PerSeed.GroupBy(p => p.Fraction).Select(g => new TargetSummary(g.Key, Old(g.Select(p => p.FlopsSaving)), Old(g.Select(p => p.WallSaving))))],
        };
        bool train = e.TargetsTrainingLoss;
        var v1 = current with
        {
            Version = 1,
            Speedup = null,
            Savings = [.. (train ? current.Savings : current.HeldOutSavings).Select(Downgrade)],
            HeldOutSavings = train ? [.. current.HeldOutSavings.Select(Downgrade)] : [],
            Curves = [.. current.Curves.Select(c => new CurveResult(c.Run, c.Label, c.Seed, c.SmoothingWindow, c.Flops, c.WallSeconds, c.Loss, c.ValidFlops, c.ValidWallSeconds, c.ValidLoss))],
        };
        return (ArtifactResults.FromJson(v1.ToJson()), e);
    }

    [Fact]
    public void Version_1_results_are_resummarised_over_every_seed_and_gain_speedup_curves()
    {
        var (v1, e) = Version1();
        Assert.Equal(1, v1.Version);
        // The training loss (every step, no smoothing): seed 44 reaches Scratch's final loss 2.0 at t = 25, seed 42 at t = 50.
        Assert.Equal(0.625, v1.Savings.Single().Targets.Single(t => t.Fraction == 1).Flops.Value!.Value, 9);

        var r = ResultsUpgrade.ToCurrent(v1);
        Assert.Equal(ArtifactResults.CurrentVersion, r.Version);
        // Ranked 75%, 50%, never: the median is 50%, not the 62.5% mean of the two seeds that reached it.
        var full = r.HeldOutSavings.Single().Targets.Single(t => t.Fraction == 1);
        Assert.Equal((3, 2, SeedSummary.Median), (full.Flops.Seeds, full.Flops.Reached, full.Flops.Statistic));
        Assert.Equal(0.5, full.Flops.Value!.Value, 9);
        Assert.Null(full.NormalisedWall);
        Assert.Equal((SeedSummary.Median, 0.5), (r.Savings.Single().Targets.Single(t => t.Fraction == 1).Flops.Statistic, r.Savings.Single().Targets.Single(t => t.Fraction == 1).Flops.Value!.Value));
        Assert.NotNull(r.Speedup);
        var points = r.Speedup!.PointsOf(r.Speedup.Methods.Single());
        Assert.Equal(91, points.Count);
        Assert.Equal(0.5, points[^1].Summary.Flops.Value!.Value, 9);
        // Stored by columns, one line each, and read back the same.
        var json = r.ToJson();
        Assert.Contains("\"reached\": [", json);
        var again = ArtifactResults.FromJson(json).Speedup!;
        Assert.Equal(points.Select(p => p.Summary), again.PointsOf(again.Methods.Single()).Select(p => p.Summary));
        Assert.Same(r, ResultsUpgrade.ToCurrent(r));

        var md = ReportBuilder.Build(r, e).Markdown;
        Assert.Contains("median 50.0% (reached in 2 of 3 seeds)", md);
        Assert.Contains("normalised wall time is not measured for these runs (they predate the calibration or timed its older matmul workload)", md);
        Assert.Contains("Not measured: these runs predate the collapse detector", md);
        Assert.Contains("![Iso-loss speedup: FLOPs saving against Scratch](speedup.png)", md);
        Assert.Contains("| not measured | not measured |", md);   // the runs table's normalised seconds and calibration speed
    }

    [Fact]
    public void A_version_1_held_out_target_moves_to_the_held_out_savings()
    {
        var (v1, e) = Version1(Linear.Replace("\"smoothing\": 0,", "\"loss\": \"valid\",", StringComparison.Ordinal));
        Assert.Empty(v1.HeldOutSavings);
        var r = ResultsUpgrade.ToCurrent(v1);
        Assert.Empty(r.Savings);
        Assert.Equal(0.5, r.HeldOutSavings.Single().Targets.Single(t => t.Fraction == 1).Flops.Value!.Value, 9);
        Assert.DoesNotContain("The paper's measure", ReportBuilder.Build(r, e).Markdown);
    }

    [Fact]
    public void A_version_from_the_future_is_refused()
    {
        var (v1, _) = Version1();
        Assert.Throws<InvalidOperationException>(() => ResultsUpgrade.ToCurrent(v1 with { Version = ArtifactResults.CurrentVersion + 1 }));
    }
}
