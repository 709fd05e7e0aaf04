using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

/// <summary>A report whose runs train at another learning rate than the scale's says so beside the scale, with both rates.</summary>
public class LearningRateNoteTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-lr-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    RunSettings Settings => new() { Runs = Path.Combine(root, "runs"), Cache = Path.Combine(root, "cache"), Threads = 1 };

    string Header(string id)
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, "cpu"), Settings);
        foreach (var run in plan.Runs)
            HandWrittenRunTests.WriteRun(run.Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.05 * t));
        var results = TrainingResults.Compute(plan, Settings, new ReportContext { Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "" });
        return ReportBuilder.Build(results, plan.Experiment).Markdown;
    }

    [Fact]
    public void The_gpt_lr_report_names_the_rate_its_runs_trained_at_and_fig6c_names_none()
    {
        Assert.Contains("Numbers at the reduced scale cpu; they are this suite's, not the paper's. Every run here trains at 0.5x the scale's peak learning rate (0.0005 instead of 0.001).", Header("gpt-lr"));
        Assert.DoesNotContain("peak learning rate", Header("fig6c"));
    }
}
