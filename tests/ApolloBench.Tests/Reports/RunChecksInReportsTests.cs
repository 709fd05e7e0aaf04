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

    ArtifactResults Results(string id, Func<string, Func<int, double>>? loss = null) => Results(id, loss is null ? null : (name, _) => loss(name));

    ArtifactResults Results(string id, Func<string, long, Func<int, double>>? loss)
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, "cpu"), Settings);
        foreach (var run in plan.Runs)
            HandWrittenRunTests.WriteRun(run.Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, loss?.Invoke(run.Name, run.Seed) ?? (t => 10 - 0.05 * t)));
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

    [Fact]
    public void The_final_loss_table_pairs_each_run_with_scratch_of_the_same_seed_and_gives_the_difference_an_interval()
    {
        // fig7 at cpu scale: three seeds. Scratch ends at 5.1 + 0.01 x (seed - 42) held-out (training loss + 0.1); LVPS ends
        // 0.01, 0.02, 0.03 above it (mean 0.02, sd 0.01: half-width t(0.975, 2) x 0.01 / sqrt(3) = 0.0248); ES 0.1 below it in every seed.
        var results = Results("fig7", (name, seed) => t => 10 - 0.05 * t + 0.01 * (seed - 42)
            + (t < 100 ? 0 : name == "lvps" ? 0.01 * (seed - 41) : name == "es" ? -0.1 : 0));
        var rows = TrainingReport.FinalLossSummaries(results, "scratch");
        var scratch = rows.Single(x => x.Label == "Scratch");
        Assert.Null(scratch.Difference);
        Assert.Equal(5.11, scratch.Final.Value!.Value, 9);
        var lvps = rows.Single(x => x.Label == "LVPS");
        Assert.Equal(0.02, lvps.Difference!.Value!.Value, 9);
        Assert.Equal(0.02 - 4.302652730 * 0.01 / Math.Sqrt(3), lvps.Difference.Low!.Value, 9);
        Assert.Equal(0, lvps.Below);
        var es = rows.Single(x => x.Label == "ES");
        Assert.Equal(-0.1, es.Difference!.Value!.Value, 9);
        Assert.Equal(3, es.Below);

        var md = ReportBuilder.Build(results, RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig7", "cpu"), Settings).Experiment).Markdown;
        Assert.Contains("| Scratch | 5.110 [5.085, 5.135] (n=3) | - | - |", md);
        Assert.Contains("| LVPS | 5.130 [5.080, 5.180] (n=3) | +0.020 [-0.005, +0.045] (n=3) | 0 of 3 |", md);
        Assert.Contains("an interval that contains 0 means these seeds cannot tell its final loss from the reference's (mean [95% Student-t interval] over the seeds)", md);
    }

    /// <summary>
    /// The stage-by-stage table: a method that grows during training is set against Scratch at each growth (the evaluation
    /// just before it) and at its end, same step and same seed. Worked by hand: Apollo trails Scratch by 0.2 + 0.01 x (seed -
    /// 42) until step 50 and by 0.1 after, and spends half Scratch's FLOPs per step until step 50, all of them after, so
    /// its share is 0.50 at steps 20 and 50 and 75 / 100 at the end. Runs whose manifests record no growth have no rows.
    /// </summary>
    [Fact]
    public void The_stage_table_sets_each_growing_method_against_scratch_at_its_growths_and_end()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu"), Settings);
        foreach (var run in plan.Runs)
        {
            bool apollo = run.Name == "apollo";
            double lag = 0.2 + 0.01 * (run.Seed - 42);
            HandWrittenRunTests.WriteRun(run.Folder, HandWrittenRunTests.Steps(100, t => apollo && t <= 50 ? 0.5e12 : 1e12, _ => 1,
                t => 10 - 0.05 * t + (apollo ? t <= 50 ? lag : 0.1 : 0)), growths: apollo ? [(20, "1 weights", "3 weights"), (50, "3 weights", "12 weights")] : null);
        }
        var results = TrainingResults.Compute(plan, Settings, new ReportContext { Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "" });
        var rows = TrainingReport.StageSummaries(results, "scratch");
        Assert.Equal(["before growing to 3 weights", "before growing to 12 weights", "end"], rows.Select(x => x.At));
        Assert.All(rows, x => Assert.Equal("Apollo", x.Label));
        Assert.Equal([20L, 50L, 100L], rows.Select(x => x.Step));
        Assert.Equal(0.21, rows[0].Difference.Value!.Value, 9);
        Assert.Equal(0.21, rows[1].Difference.Value!.Value, 9);
        Assert.Equal(0.1, rows[2].Difference.Value!.Value, 9);
        Assert.Equal([0.5, 0.5, 0.75], rows.Select(x => Math.Round(x.FlopsShare.Value!.Value, 9)));
        Assert.All(rows, x => Assert.Equal(3, x.Difference.Seeds));
        var md = ReportBuilder.Build(results, plan.Experiment).Markdown;
        Assert.Contains("| Apollo | before growing to 3 weights | 20 | +0.210 [+0.185, +0.235] (n=3) | 0.50 |", md);   // t(2) = 4.303, s = 0.01
        Assert.Contains("| Apollo | end | 100 | +0.100 [+0.100, +0.100] (n=3) | 0.75 |", md);

        // The gap figure draws the same gaps at every evaluation (every 10 steps), its band, and the growths as points.
        var figure = TrainingReport.GapFigure(TrainingReport.GapFile, results, "scratch")!;
        var line = figure.Series.Single(x => x.Name == "Apollo");
        Assert.Equal(Enumerable.Range(1, 10).Select(i => 10.0 * i), line.X);
        Assert.Equal(0.21, line.Y[1], 9);   // step 20
        Assert.Equal(0.1, line.Y[^1], 9);
        Assert.Equal([20.0, 50.0], figure.Series.Single(x => x.Name == "Apollo grows").X);
        Assert.Equal(SeriesKind.Band, figure.Series.Single(x => x.Name == "Apollo (95% interval)").Kind);
        Assert.All(figure.Series.Where(x => x.Name == "StackBERT").SelectMany(x => x.Y), y => Assert.Equal(0, y, 9));   // Scratch's curve
        Assert.DoesNotContain(figure.Series, x => x.Name == "StackBERT grows");
        Assert.Contains("![Held-out loss minus Scratch's at the same step](gap.png)", md);
    }

    [Fact]
    public void A_method_below_the_targets_at_its_first_evaluation_is_marked_at_least_and_named_beside_the_speedup_curve()
    {
        // ES starts (first evaluation, step 10: held-out 3.1) below every Scratch target (Scratch's held-out falls from 9.6 to 5.1).
        var results = Results("fig7", (name, _) => name == "es" ? _ => 3.0 : t => 10 - 0.05 * t);
        var es = results.HeldOutSavings.Single(x => x.Label == "ES");
        Assert.All(es.Targets, t => Assert.True(t.Flops.AtLeast));
        Assert.DoesNotContain(results.HeldOutSavings.Single(x => x.Label == "LVPS").Targets, t => t.Flops.AtLeast);
        var md = ReportBuilder.Build(results, RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig7", "cpu"), Settings).Experiment).Markdown;
        Assert.Contains("ES was already below some of these targets at its first evaluation", md);
        Assert.Contains("| at least 90.0% [90.0%, 90.0%] (n=3) |", md);   // the 100% target: 10 steps' FLOPs against Scratch's 100

        // speedup.csv marks the same lower bounds point by point: every ES seed at every target; LVPS (Scratch's curve) only
        // at the first target, Scratch's loss at its 10-step point, which is LVPS's first evaluation too.
        var dir = Path.Combine(root, "report");
        ReportWriter.Write(dir, results, RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig7", "cpu"), Settings).Experiment);
        var rows = File.ReadAllLines(Path.Combine(dir, TrainingReport.SpeedupCsv));
        var header = rows[0].Split(',');
        int label = Array.IndexOf(header, "Label"), seed = Array.IndexOf(header, "Seed"), early = Array.IndexOf(header, "AtFirstEvaluation");
        Assert.True(early > 0, rows[0]);
        var cells = rows.Skip(1).Select(r => r.Split(',')).ToList();
        Assert.All(cells.Where(c => c[label] == "ES"), c => Assert.Equal(c[seed] == "" ? "3" : "1", c[early]));
        int fraction = Array.IndexOf(header, "Fraction");
        Assert.All(cells.Where(c => c[label] == "LVPS"), c => Assert.Equal(c[fraction] == "0.1" ? (c[seed] == "" ? "3" : "1") : "0", c[early]));
        Assert.Contains(cells, c => c[label] == "LVPS");
    }
}
