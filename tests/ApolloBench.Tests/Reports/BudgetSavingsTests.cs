using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

/// <summary>saving-vs-budget: each method against the Scratch run of its own model and budget, worked out by hand.</summary>
public class BudgetSavingsTests() : InTempFolder("ab-budget-")
{

    RunSettings Settings => TempSettings();

    const string Definition = """
        {
          "title": "Budget", "reproduces": "nothing (a test)", "model": "bert", "seeds": 1,
          "runs": {
            "scratch-1x": { "method": "scratch" },
            "apollo-1x": { "method": "apollo", "paper": { "flopsSaving": 41.6 } },
            "scratch-2x": { "method": "scratch", "budget": 2 },
            "apollo-2x": { "method": "apollo", "budget": 2, "paper": { "flopsSaving": 41.6 } }
          },
          "outputs": { "budget": { "type": "saving-vs-budget", "title": "Saving against budget" } }
        }
        """;

    [Fact]
    public void Each_method_is_measured_against_the_scratch_run_of_its_own_budget()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("budget.json", "budget", Definition, "cpu", [], Repo.Experiments), Settings);
        // 1x: Scratch falls 0.08 a step over 100 steps; Apollo at the same rate, so it reaches Scratch's final loss only at its end.
        // 2x: Scratch 0.04 a step over 200 steps; Apollo twice as fast: Scratch's final loss (2.1 held-out) at step 100 of 200.
        // Apollo 2x then rises 0.001 a step from step 150 (over-fitting on its 12.4 passes): it ends at 2.15 held-out, 0.05 above its lowest.
        HandWrittenRunTests.WriteRun(plan.Get("scratch-1x", 42).Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t), passes: 6.2);
        HandWrittenRunTests.WriteRun(plan.Get("apollo-1x", 42).Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t), passes: 6.2);
        HandWrittenRunTests.WriteRun(plan.Get("scratch-2x", 42).Folder, HandWrittenRunTests.Steps(200, _ => 1e12, _ => 1, t => 10 - 0.04 * t), passes: 12.4);
        HandWrittenRunTests.WriteRun(plan.Get("apollo-2x", 42).Folder, HandWrittenRunTests.Steps(200, _ => 1e12, _ => 1,
            t => 10 - 0.08 * Math.Min(t, 100) + 0.001 * Math.Max(0, t - 150)), passes: 12.4);

        var results = TrainingResults.Compute(plan, Settings, new ReportContext { Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "" });
        Assert.Equal(
            [("apollo-1x", "scratch-1x", 1.0, 0.0, 0.0), ("apollo-2x", "scratch-2x", 2.0, 0.5, 0.5)],
            results.BudgetSavings.Select(b => (b.Run, b.Reference, b.Budget, Math.Round(b.Half!.Value, 9), Math.Round(b.Final!.Value, 9))));
        Assert.Equal(results.BudgetSavings.Select(b => b.Steps), plan.Runs.Where(r => r.Name.StartsWith("apollo", StringComparison.Ordinal)).Select(r => r.Spec.Train.Steps));

        var report = ReportBuilder.Build(results, plan.Experiment);
        Assert.Contains("| BERT | apollo-1x | 1x |", report.Markdown);
        Assert.Contains("| 50.0% (n=1) | 50.0% (n=1) | 41.6% |", report.Markdown);
        Assert.Contains("| 6.2 | 2.100 | 2.100 | 0.0% (n=1) | 0.0% (n=1) | 41.6% |", report.Markdown);
        Assert.Contains("| 12.4 | 2.100 | 2.150 (lowest 2.100) | 50.0% (n=1) |", report.Markdown);
        Assert.Contains("**Repeated data:** the runs at BERT 2x (12.4) go over their corpus more than 10 times", report.Markdown);
        var figure = Assert.Single(report.Figures, f => f.File == "budget.png");
        Assert.Contains(figure.Series, s => s.Name.EndsWith("the paper (41.6%)", StringComparison.Ordinal));
    }

    [Fact]
    public void A_run_made_before_passes_were_recorded_gets_them_from_its_manifests_tokens()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("budget.json", "budget", Definition, "cpu", [], Repo.Experiments), Settings);
        foreach (var run in plan.Runs)
            HandWrittenRunTests.WriteRun(run.Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t), passes: run.Name == "apollo-1x" ? 3.5 : null);
        // scratch-1x: an older manifest with no corpus.passes, but its corpus's tokens and the shape it trained: 100 x 2 x 3 x 50 / 1,000 = 30.
        var path = Path.Combine(plan.Get("scratch-1x", 42).Folder, "manifest.json");
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        manifest["corpus"] = new System.Text.Json.Nodes.JsonObject { ["trainTokens"] = 1000 };
        manifest["train"] = new System.Text.Json.Nodes.JsonObject { ["Steps"] = 100, ["BatchSize"] = 2, ["Accumulation"] = 3 };
        manifest["modelConfig"] = new System.Text.Json.Nodes.JsonObject { ["SeqLen"] = 50 };
        File.WriteAllText(path, manifest.ToJsonString());

        var results = TrainingResults.Compute(plan, Settings, new ReportContext { Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "" });
        Assert.Equal(30, results.Runs.Single(r => r.Run == "scratch-1x").Passes);
        Assert.Equal(3.5, results.Runs.Single(r => r.Run == "apollo-1x").Passes);   // recorded: taken as it is
        Assert.Null(results.Runs.Single(r => r.Run == "scratch-2x").Passes);   // neither: not recorded
        Assert.Contains("| BERT | apollo-2x | 2x | 12000 | not recorded |", ReportBuilder.Build(results, plan.Experiment).Markdown);
    }

    [Fact]
    public void A_method_without_a_scratch_run_of_its_budget_is_one_line_naming_it()
    {
        var broken = Definition.Replace("\"scratch-2x\": { \"method\": \"scratch\", \"budget\": 2 },", "");
        var e = Assert.Throws<UsageException>(() => ExperimentLoader.Parse("budget.json", "budget", broken, "cpu", [], Repo.Experiments));
        Assert.Equal("budget.json: outputs.budget.include: run 'apollo-2x' has no scratch run of the same model, layers, heads, budget and learning rate to be measured against", e.Message);
    }

    [Fact]
    public void The_shipped_budget_artifact_trains_the_1x_runs_of_fig6a_and_fig6c_and_no_others_twice()
    {
        var settings = Settings;
        string Key(string id, string run) => RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, "cpu"), settings).Of(run).First().Spec.Key();
        Assert.Equal(Key("fig6a", "scratch"), Key("budget", "bert-scratch-1x"));
        Assert.Equal(Key("fig6a", "apollo"), Key("budget", "bert-apollo-1x"));
        Assert.Equal(Key("fig6c", "scratch"), Key("budget", "gpt-scratch-1x"));
        Assert.Equal(Key("fig6c", "apollo"), Key("budget", "gpt-apollo-1x"));
    }
}
