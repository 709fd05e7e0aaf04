using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

/// <summary>
/// What a training report says about how its runs were made and where they ended: another learning rate than the scale's
/// (beside the scale, with both rates), and whether every run ends past where Scratch stood at 5% of its budget.
/// </summary>
public class RunChecksInReportsTests() : InTempFolder("ab-lr-")
{

    RunSettings Settings => TempSettings();

    ArtifactResults Results(string id, Func<string, Func<int, double>>? loss = null)
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, "cpu"), Settings);
        foreach (var run in plan.Runs)
            HandWrittenRunTests.WriteRun(run.Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, loss?.Invoke(run.Name) ?? (t => 10 - 0.05 * t)));
        return TrainingResults.Compute(plan, Settings, new ReportContext { Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "" });
    }

    string Header(string id, Func<RunRecord, double?>? rate = null)
    {
        var results = Results(id);
        if (rate is not null) results = results with { Runs = [.. results.Runs.Select(x => x with { LearningRate = rate(x) })] };
        return ReportBuilder.Build(results, RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, "cpu"), Settings).Experiment).Markdown;
    }

    [Fact]
    public void The_gpt_lr_report_names_the_rate_its_runs_trained_at_and_fig6c_names_none()
    {
        Assert.Contains("Numbers at the reduced scale cpu; they are this suite's, not the paper's. Every run here trains at 0.5x the scale's peak learning rate (0.0005 instead of 0.001).", Header("gpt-lr"));
        Assert.DoesNotContain("peak learning rate", Header("fig6c"));
    }

    [Fact]
    public void The_rate_note_comes_from_the_rates_the_runs_trained_at_when_they_record_one()
    {
        // The runs' manifests outrank the definition: gpt-lr's runs saying they trained at the scale's rate get no note,
        // and one fig6c run at half of it is named alone.
        Assert.DoesNotContain("peak learning rate", Header("gpt-lr", _ => 1e-3));
        Assert.Contains("they are this suite's, not the paper's. Apollo trains at 0.5x the scale's peak learning rate (0.0005 instead of 0.001).",
            Header("fig6c", x => x.Run == "apollo" ? 5e-4 : 1e-3));
        // A run without a recorded rate (results from before it was recorded) falls back to the definition for every run.
        Assert.Contains("Every run here trains at 0.5x", Header("gpt-lr", x => x.Run == "apollo" ? null : 1e-3));
    }

    [Fact]
    public void A_run_that_ends_no_lower_than_scratch_at_5_percent_of_its_budget_is_named_and_one_past_it_is_not()
    {
        // Held-out loss is the training loss + 0.1, every 10 steps. Scratch's at 5% of its budget (before its first
        // evaluation, so its first one): 10 - 0.05 * 10 + 0.1 = 9.6. StackBERT ends at 5.1; Apollo stays at 9.6 + 0.1.
        var results = Results("gpt-lr", name => name == "apollo" ? _ => 9.6 : t => 10 - 0.05 * t);
        Assert.Equal("**Stuck near the start:** Apollo (seed 42) ends at 9.700: not below Scratch's held-out loss at 5% of its budget (9.600 for seed 42); " +
                     "a saving of such a run measures one that never got past where Scratch stood near its start.", TrainingReport.EarlyLossCheck(results));
        Assert.Equal("**Past the start:** every run ends below Scratch's held-out loss at 5% of its budget (9.600 for seed 42).",
            TrainingReport.EarlyLossCheck(Results("gpt-lr")));
    }
}
