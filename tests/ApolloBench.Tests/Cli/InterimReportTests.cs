using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Reports;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// <c>report --interim</c>: an artifact whose runs have not all finished is rendered from those that have, as a report that
/// says so and names the rest; a fresh clone renders the same interim report from its records; an artifact whose results
/// need every run is refused, with the reason.
/// </summary>
[Collection("cli")]
public class InterimReportTests : IDisposable
{
    readonly HarnessWorkspace w = new();

    public void Dispose() => w.Dispose();

    ArtifactPlan Plan(string id) => RunPlanner.Plan(ExperimentLoader.Load(w.Experiments, id, "smoke"),
        new ReproduceOptions { Experiments = w.Experiments, Scale = "smoke", Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1 }.RunSettings());

    void Finish(ArtifactPlan plan, params string[] names)
    {
        foreach (var name in names)
            HandWrittenRunTests.WriteRun(plan.Get(name, 42).Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.05 * t));
    }

    [Fact]
    public void Budget_is_rendered_from_its_finished_pairs_and_a_fresh_clone_renders_the_same_interim_report()
    {
        w.MakeCheckout();
        var committed = Path.Combine(w.Checkout, Repository.ReportsFolder);
        w.Out = committed;
        // Finished: BERT's 0.5x and 1x pairs, and GPT's 2x Scratch without its Apollo: 5 of budget's 16 runs.
        Finish(Plan("budget"), "bert-scratch-05x", "bert-apollo-05x", "bert-scratch-1x", "bert-apollo-1x", "gpt-scratch-2x");

        var (code, output, error) = w.Cli("report", "budget");
        Assert.True(code == 0, error + output);
        Assert.Contains("not rendered: budget (11 missing)", output);
        var dir = Path.Combine(committed, "budget", "smoke");
        Assert.False(Directory.Exists(dir));

        (code, output, error) = w.Cli("report", "budget", "--interim");
        Assert.True(code == 0, error + output);
        Assert.Contains("(interim: 5 of 16 runs; ", output);
        Assert.Contains("not in the interim report: budget: run gpt-apollo-2x (seed 42): not trained: ", output);
        var results = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(dir, ArtifactResults.FileName)));
        Assert.Equal(16, results.Interim!.PlannedRuns);
        Assert.Equal(11, results.Interim.Missing.Count);
        Assert.Contains("gpt-apollo-2x (seed 42)", results.Interim.Missing);
        // The two whole pairs are compared; GPT's 2x Scratch is shown as a run, with nothing to compare it to.
        Assert.Equal(["bert-apollo-05x", "bert-apollo-1x"], results.BudgetSavings.Select(b => b.Run));
        Assert.Equal(5, results.Runs.Count);
        // budget's labels repeat across models and budgets ("Apollo"), so each run is shown with its name beside it.
        Assert.Equal(["Scratch 0.5x (bert-scratch-05x)", "Apollo (bert-apollo-05x)", "Scratch 1x (bert-scratch-1x)", "Apollo (bert-apollo-1x)", "Scratch 2x (gpt-scratch-2x)"],
            results.Runs.Select(r => r.Label));
        Assert.Equal(5, Directory.GetDirectories(RunRecords.In(dir)).Length);
        Assert.Contains("**Interim report: 5 of 16 runs.** Rendered from the runs that had finished", File.ReadAllText(Path.Combine(dir, ReportBuilder.ReportFile)));
        var index = File.ReadAllText(Path.Combine(committed, ReportIndex.FileName));
        Assert.Contains("| yes; **interim**: 5 of 16 runs |", index);
        // The headline rows: one per compared pair, the scale marked interim.
        Assert.Contains("| smoke (**interim**: 5 of 16 runs) | 1 | Apollo, BERT 0.5x | 0.0% (n=1) | 0.000 | 41.6% (at the paper's budget) |", index);
        Assert.DoesNotContain("GPT 2x", index);

        // A fresh clone: no runs. Without --interim the stored interim report is rendered as it was, from its own records.
        Directory.Delete(w.Runs, recursive: true);
        w.Out = Path.Combine(w.Root, "rendered");
        (code, output, error) = w.Cli("report", "budget", "--strict");
        Assert.True(code == 0, error + output);
        Assert.Contains("budget: rendered as its stored interim report was", output);
        ReportFolders.AssertSame(dir, Path.Combine(w.Out, "budget", "smoke"));

        // A damaged record in the committed interim report is named, and nothing is rendered from that report.
        var record = Path.Combine(RunRecords.In(dir), Path.GetFileName(Plan("budget").Get("bert-apollo-1x", 42).Folder));
        File.AppendAllText(Path.Combine(record, "ledger.csv"), "0,tampered,1,1,true\n");
        w.Out = Path.Combine(w.Root, "after-damage");
        (code, output, _) = w.Cli("report", "budget", "--strict");
        Assert.Equal(1, code);
        Assert.Contains($"record {record}: ", output);
        Assert.False(Directory.Exists(Path.Combine(w.Out, "budget")));

        // Every run finished: the full report replaces the interim one, and the index no longer calls it interim.
        var plan = Plan("budget");
        Finish(plan, [.. plan.Runs.Select(r => r.Name)]);
        w.Out = committed;
        (code, output, error) = w.Cli("report", "budget", "--strict");
        Assert.True(code == 0, error + output);
        results = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(dir, ArtifactResults.FileName)));
        Assert.Null(results.Interim);
        Assert.Equal(16, results.Runs.Count);
        Assert.Equal(8, results.BudgetSavings.Count);
        Assert.DoesNotContain("Interim report", File.ReadAllText(Path.Combine(dir, ReportBuilder.ReportFile)));
        Assert.DoesNotContain("interim", File.ReadAllText(Path.Combine(committed, ReportIndex.FileName)));
    }

    [Fact]
    public void An_artifact_whose_savings_need_every_run_is_not_rendered_in_part_and_says_why()
    {
        w.MakeCheckout();
        Finish(Plan("fig7"), "scratch");
        var (code, output, _) = w.Cli("report", "fig7", "--interim", "--strict");
        Assert.Equal(1, code);
        Assert.Contains("fig7: not rendered in part: its savings summarise every seed against its reference run, so it needs them all", output);
        Assert.False(Directory.Exists(Path.Combine(w.Out, "fig7")));
    }
}
