using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;
using Snapshooter;
using Snapshooter.Xunit;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// `reproduce` and `report` of training-driven artifacts end to end at smoke scale (40 steps of 4 x 32 tokens per run,
/// a local corpus, one thread): runs trained once and shared, shards that write disjoint run folders and a report
/// that merges them, refusal while runs are missing, and a killed run resumed from its checkpoint.
/// </summary>
[Collection("cli")]
public class TrainingHarnessTests : IDisposable
{
    readonly HarnessWorkspace w = new();

    public void Dispose() => w.Dispose();

    [Fact]
    public void Reproduce_fig7_trains_its_runs_renders_the_report_and_a_second_artifact_reuses_the_shared_runs()
    {
        var (code, output, error) = w.Cli("reproduce", "fig7");
        Assert.True(code == 0, error + output);
        Assert.Equal(6, w.RunFolders().Length);
        Assert.Equal(6, output.Split('\n').Count(l => l.TrimEnd().EndsWith("): trained", StringComparison.Ordinal)));

        var dir = Path.Combine(w.Out, "fig7", "smoke");
        var markdown = File.ReadAllText(Path.Combine(dir, "report.md"));
        Assert.Contains("## Paper vs reproduced", markdown);
        Assert.Contains("| LVPS | 41.6% |", markdown);
        Assert.Contains("| smoke | cpu, 1 thread | 42 |", markdown);
        Assert.Contains("![Samplers: loss vs FLOPs (held-out loss)](curves-heldout.png)", markdown);   // held-out first,
        Assert.Contains("![Samplers: loss vs FLOPs (training loss, the paper's measure)](curves.png)", markdown);   // the paper's measure after it
        Assert.Contains("![Iso-loss speedup: FLOPs saving against Scratch](speedup.png)", markdown);
        Assert.True(File.Exists(Path.Combine(dir, "speedup.csv")));
        Assert.True(new FileInfo(Path.Combine(dir, "curves.png")).Length > 1000);
        Assert.True(File.Exists(Path.Combine(dir, "savings.csv")));
        Assert.Contains("[fig7/smoke/report.md](fig7/smoke/report.md)", File.ReadAllText(Path.Combine(w.Out, ReportIndex.FileName)));
        // The performance profile of the scale's training reports, beside the index that links it.
        Assert.True(File.Exists(Path.Combine(w.Out, "profiles-smoke.png")) && File.Exists(Path.Combine(w.Out, "profiles-smoke.csv")));
        Assert.Contains("[profiles-smoke.png](profiles-smoke.png)", File.ReadAllText(Path.Combine(w.Out, ReportIndex.FileName)));

        // Re-render from results.json alone: the same page.
        File.Delete(Path.Combine(dir, "report.md"));
        Assert.Equal(0, w.Cli("report", dir).Code);
        Assert.Equal(markdown, File.ReadAllText(Path.Combine(dir, "report.md")));

        // report of ids: fig7 from its stored runs, table1 computed (pure math); nothing trains.
        (code, output, error) = w.Cli("report", "fig7,table1");
        Assert.True(code == 0, error + output);
        Assert.Equal(markdown, File.ReadAllText(Path.Combine(dir, "report.md")));
        Assert.True(File.Exists(Path.Combine(w.Out, "table1", "smoke", "report.md")));
        Assert.DoesNotContain("jobs:", output);

        // table3 needs Scratch and Apollo-I (fig7's scratch and lvps): only Apollo-S is trained.
        (code, output, error) = w.Cli("reproduce", "table3");
        Assert.True(code == 0, error + output);
        Assert.Contains("(table3:scratch): cached", output);
        Assert.Contains("(table3:apollo-i): cached", output);
        Assert.Single(output.Split('\n'), l => l.TrimEnd().EndsWith("): trained", StringComparison.Ordinal));
        Assert.Equal(7, w.RunFolders().Length);
        var table3 = File.ReadAllText(Path.Combine(w.Out, "table3", "smoke", "report.md"));
        Assert.Contains("| Apollo-S, 6 layers | 1.82 |", table3);
        Assert.Contains("1,1,2,2,3,3,4,4,5,5,6,6", table3);   // Apollo-I at 6 weights runs them interpolated onto 12 layers

        // At smoke scale a fixed seed and thread count train bit-identical runs: the computed numbers themselves are held,
        // not only the paper's constants. A change here is a change in what training or the savings compute.
        foreach (var id in new[] { "fig7", "table3" })
            Snapshot.Match(ComputedNumbers(ArtifactResults.FromJson(File.ReadAllText(Path.Combine(w.Out, id, "smoke", ArtifactResults.FileName)))),
                SnapshotNameExtension.Create(id));
    }

    /// <summary>
    /// What a results.json computed, to six significant digits: each run's FLOPs and final losses (not its folder: the key
    /// covers the test corpus's temporary path), every saving per seed and target (training and held-out loss), the probes.
    /// Wall time is left out: it is the one thing a rerun does not repeat.
    /// </summary>
    static object ComputedNumbers(ArtifactResults r)
    {
        static string? G(double? v) => v?.ToString("G6", System.Globalization.CultureInfo.InvariantCulture);
        object Savings(string loss, IEnumerable<SavingsResult> rows) => rows.Select(s => new
        {
            Loss = loss, s.Run, s.WithDependency,
            PerSeed = s.PerSeed.Select(p => new { p.Seed, p.Fraction, Target = G(p.TargetLoss), ScratchFlops = G(p.ScratchFlops), MethodFlops = G(p.MethodFlops), FlopsSaving = G(p.FlopsSaving) }),
        }).ToList();
        return new
        {
            Runs = r.Runs.Select(x => new { x.Run, x.Seed, x.Steps, Flops = G(x.Flops), FinalTrainLoss = G(x.FinalTrainLoss), FinalValidLoss = G(x.FinalValidLoss) }),
            Savings = Savings("target", r.Savings),
            HeldOutSavings = Savings("valid", r.HeldOutSavings),
            Probes = r.Probes.Select(p => new { p.Row, p.Seed, p.Layers, p.Plan, Loss = G(p.Loss), GradMean = G(p.GradMean), GradStd = G(p.GradStd) }),
        };
    }

    [Fact]
    public void Shards_train_disjoint_runs_and_report_renders_only_once_every_run_is_there()
    {
        var (code, output, error) = w.Cli("reproduce", "table3", "--shard", "1/2");
        Assert.True(code == 0, error + output);
        var first = w.RunFolders();
        Assert.Single(first);   // by estimated cost: Scratch (every layer every step) alone, the two Apollo runs (shallower) together
        Assert.Contains("table3: report not rendered yet (2 missing)", output);
        Assert.False(File.Exists(Path.Combine(w.Out, "table3", "smoke", "report.md")));

        // report leaves table3 out, naming the missing run on a line of its own and what finds a run; --strict makes that exit 1.
        (code, output, error) = w.Cli("report", "table3");
        Assert.True(code == 0, error + output);
        var missing = output.Split('\n').Where(l => l.StartsWith("missing: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, missing.Count);
        Assert.Contains("run apollo-s (seed 42): not trained", missing[0]);
        Assert.Contains("run apollo-i (seed 42): not trained", missing[1]);
        var summary = output.Split('\n').Single(l => l.StartsWith("not rendered: ", StringComparison.Ordinal));
        Assert.StartsWith("not rendered: table3 (2 missing); 2 runs or results are missing under", summary);
        Assert.Contains("the scale, --seeds, --set and --corpus must be those that trained it (the thread count is not part of it)", summary);
        Assert.False(File.Exists(Path.Combine(w.Out, "table3", "smoke", "report.md")));
        Assert.Equal(1, w.Cli("report", "table3", "--strict").Code);

        // report all renders every artifact it can (the pure-math ones here) and lists the rest.
        (code, output, error) = w.Cli("report", "all");
        Assert.True(code == 0, error + output);
        Assert.True(File.Exists(Path.Combine(w.Out, "table1", "smoke", "report.md")));
        Assert.Contains("table3 (2 missing)", output);
        Assert.Equal($"reports: {w.Out}", output.TrimEnd().Split('\n')[^1]);

        (code, output, error) = w.Cli("reproduce", "table3", "--shard", "2/2");
        Assert.True(code == 0, error + output);
        var second = w.RunFolders().Except(first).ToArray();
        Assert.Equal(2, second.Length);
        Assert.Empty(first.Intersect(second));
        var rendered = File.ReadAllText(Path.Combine(w.Out, "table3", "smoke", "report.md"));

        // The merge: report renders from the stored runs alone, training nothing.
        File.Delete(Path.Combine(w.Out, "table3", "smoke", "report.md"));
        (code, output, error) = w.Cli("report", "table3");
        Assert.True(code == 0, error + output);
        Assert.DoesNotContain("jobs:", output);
        Assert.Equal(rendered, File.ReadAllText(Path.Combine(w.Out, "table3", "smoke", "report.md")));
        Assert.Equal(3, w.RunFolders().Length);

        // The thread count is not part of a run's key: report without --threads finds the runs trained with one thread.
        var log = new StringWriter();
        var anyThreads = new ReproduceOptions { Experiments = Repo.Experiments, Scale = "smoke", Out = w.Out, Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus };
        Assert.Equal(0, Harness.Report(["table3"], anyThreads, null, log, strict: true));
        Assert.DoesNotContain("missing", log.ToString());
        Assert.Equal(3, w.RunFolders().Length);
    }

    const string OneRun = """
        {
          "title": "One Scratch run", "reproduces": "nothing (a test)", "model": "bert", "seeds": 1,
          "runs": { "scratch": { "method": "scratch" } },
          "target": { "reference": "scratch" },
          "outputs": { "curves": { "type": "loss-vs-flops" } }
        }
        """;

    sealed class Killed : Exception;

    [Fact]
    public void A_killed_run_continues_from_its_checkpoint_with_resume_and_ends_as_an_uninterrupted_one()
    {
        var experiments = Repo.NewExperimentsFolder(w.Root);
        File.WriteAllText(Path.Combine(experiments, "one.json"), OneRun);
        ReproduceOptions Options(string runs, bool resume = false) => new()
        {
            Experiments = experiments, Scale = "smoke", Out = w.Out, Runs = runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1,
            CheckpointEvery = 0, Resume = resume,
        };
        // Killed in step 26 of 40, after the checkpoint of step 25 (one is written after every step).
        TrainDriver dies = (trainer, checkpoints, _, _, onStep) => trainer.Run(checkpointing: checkpoints, onStep: (s, e) =>
        {
            onStep(s, e);
            if (s.Step == 25) throw new Killed();
        });
        string Status()
        {
            var status = new StringWriter();
            Assert.Equal(0, Harness.Status("one", Options(w.Runs), status));
            return status.ToString();
        }
        Assert.Contains("): not started, ~", Status());
        Assert.False(Directory.Exists(w.Runs) && w.RunFolders().Length > 0, "--status made a run folder");
        Assert.Throws<Killed>(() => Harness.Reproduce("one", Options(w.Runs), TextWriter.Null, dies));
        var folder = Path.Combine(w.Runs, w.RunFolders().Single());
        Assert.False(File.Exists(Path.Combine(folder, RunFiles.Manifest)));
        // reproduce --status: where the run stands, read from its folder (trains nothing).
        Assert.Contains("): stopped at step 25 of 40 (its checkpoint); --resume continues it, ~", Status());
        // ... and at the run's own pace so far: the seconds its checkpoint records over the estimate for its 25 steps.
        var settings = Options(w.Runs).RunSettings();
        var job = JobRunner.Expand([RunPlanner.Plan(ExperimentLoader.Load(experiments, "one", "smoke"), settings)], settings).Single();
        Assert.Equal(folder, job.Folder);
        var checkpoint = Checkpoint.Latest(Path.Combine(folder, Checkpoint.Folder))!.State;
        double pace = checkpoint.Wall / (TimeEstimate.JobSeconds(job, 0) - TimeEstimate.JobSeconds(job, 25.0 / 40));
        var progress = JobProgress.Of(job);
        Assert.Equal(pace, progress.OwnPace!.Value, 9);
        Assert.Contains($" by the estimate, {TimeEstimate.Format(TimeSpan.FromSeconds(progress.SecondsLeft * pace))} at its own pace so far ({pace.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}x the estimate)", Status());
        Assert.Contains("one: 1 run or result to go", Status());
        using (ApolloBench.Core.FolderLock.TryAcquire(Path.Combine(folder, ApolloBench.Core.FolderLock.FileName), out _))
            Assert.Contains($"): training now (process {Environment.ProcessId}): step 25 of 40 at its last checkpoint, ~", Status());

        var log = new StringWriter();
        Assert.Equal(1, Harness.Report(["one"], Options(w.Runs), null, log, strict: true));
        Assert.Contains("unfinished, checkpoint at step 25 of 40 (continue with --resume)", log.ToString());

        log = new StringWriter();
        Assert.Equal(0, Harness.Reproduce("one", Options(w.Runs, resume: true), log));
        Assert.Contains("resuming from step 25", log.ToString());
        Assert.Contains("resumed from its checkpoint and finished", log.ToString());
        Assert.Contains("): finished (", Status());
        Assert.Contains("finished 1 of 1; training now 0; stopped 0; not started 0; damaged 0", Status());
        Assert.Contains("one: every run and result it needs is there; `report one` renders it", Status());
        // The index says the report's runs are the ones this checkout plans now.
        Assert.Contains("| one | ", File.ReadAllText(Path.Combine(w.Out, ReportIndex.FileName)));
        Assert.Contains(" | smoke | yes | ", File.ReadAllText(Path.Combine(w.Out, ReportIndex.FileName)));

        var straight = Path.Combine(w.Root, "straight");
        Assert.Equal(0, Harness.Reproduce("one", Options(straight), TextWriter.Null));
        var resumed = RunFiles.ReadCurve(folder);
        var uninterrupted = RunFiles.ReadCurve(Path.Combine(straight, Path.GetFileName(folder)));
        Assert.Equal(uninterrupted.Select(r => (r.Loss, r.Flops, r.ValidLoss)), resumed.Select(r => (r.Loss, r.Flops, r.ValidLoss)));
    }

    [Fact]
    public void Reproduce_table4_pretrains_each_method_fine_tunes_the_stand_ins_and_leaves_glue_to_the_data_dir()
    {
        var (code, output, error) = w.Cli("reproduce", "table4");
        Assert.True(code == 0, error + output);
        Assert.Equal(5, w.RunFolders().Length);   // the small model is bert2BERT's and LiGO's dependency, not a run folder
        Assert.Contains("small model Bert 12x16 (1 heads): cached", output);   // LiGO reuses the one bert2BERT trained

        var markdown = File.ReadAllText(Path.Combine(w.Out, "table4", "smoke", "report.md"));
        Assert.Contains("| bert2BERT + small model's cost | the paper does not charge the small model |", markdown);
        Assert.Contains("is not a run folder of its own: it is the small model that bert2BERT and LiGO grow from", markdown);
        var apollo = markdown.Split('\n').Single(l => l.StartsWith("| Apollo | reproduced (smoke, n=1) |", StringComparison.Ordinal));
        var cells = apollo.Split('|').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray();
        Assert.Equal("not run", cells[4]);                                   // SQuAD v1.1: needs --data-dir
        Assert.Matches(@"^\d+\.\d\d$", cells[^4]);                           // SpamAssassin
        Assert.Matches(@"^\d+\.\d\d$", cells[^3]);                           // SOTU party
        Assert.Equal(["needs every task", "needs every task"], cells[^2..]);  // the stand-ins are never averaged into SQuAD or GLUE
        foreach (var folder in w.RunFolders())
        {
            Assert.Equal(2, Directory.GetFiles(Path.Combine(w.Runs, folder, "downstream"), "*.json").Length);
            // The report's run records carry the fine-tuning results it shows.
            var record = Path.Combine(RunRecords.In(Path.Combine(w.Out, "table4", "smoke")), folder);
            Assert.Equal(2, Directory.GetFiles(Path.Combine(record, "downstream"), "*.json").Length);
            Assert.Null(RunRecords.Verify(record));
        }
    }
}
