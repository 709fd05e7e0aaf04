using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Tests.Training;

public class ResumeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ab-resume-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    sealed class Killed : Exception;

    static RunResult Uninterrupted(Architecture arch, Func<GrowthMethod> method)
        => TrainingFixtures.Trainer(arch, method(), TrainingFixtures.Train(40)).Run();

    RunResult KilledThenResumed(Architecture arch, Func<GrowthMethod> method, long killAfter)
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(arch, method(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == killAfter) throw new Killed(); }, checkpoints));
        Assert.NotNull(Checkpoint.Latest(checkpoints.Dir));
        // A fresh process would build everything anew: a new model from the same seed, a new stream, a new method.
        return TrainingFixtures.Trainer(arch, method(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
    }

    // A checkpoint as a build that did not record the field wrote it: without it, and the state's own hash to match.
    static void AsAnOlderBuildWroteIt(Checkpoint.Found checkpoint, string field)
    {
        var state = Path.Combine(checkpoint.Dir, "state.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(state))!.AsObject();
        Assert.True(json.Remove(field));
        File.WriteAllText(state, json.ToJsonString());
        File.WriteAllText(Path.Combine(checkpoint.Dir, "state.sha256"), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(state))));
    }

    static void AssertSameRun(RunResult a, RunResult b)
    {
        Assert.Equal(a.Steps.Select(s => (s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.LearningRate, s.GradNorm, s.Tokens)),
                     b.Steps.Select(s => (s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.LearningRate, s.GradNorm, s.Tokens)));
        Assert.Equal(a.Evals.Select(e => (e.Step, e.ValidLoss, e.Flops)), b.Evals.Select(e => (e.Step, e.ValidLoss, e.Flops)));
        Assert.Equal(a.Growths, b.Growths);
    }

    [Theory]
    [InlineData(Architecture.Gpt, 3)]     // inside stage 2, before the 3 -> 6 growth
    [InlineData(Architecture.Bert, 17)]   // inside the last stage
    [InlineData(Architecture.Gpt, 9)]     // the step before a growth boundary
    public void Apollo_killed_and_resumed_equals_an_uninterrupted_run(Architecture arch, long killAfter)
    {
        var a = Uninterrupted(arch, () => TrainingFixtures.Apollo());
        var b = KilledThenResumed(arch, () => TrainingFixtures.Apollo(), killAfter);
        AssertSameRun(a, b);
    }

    /// <summary>
    /// A run records what its calibration timed in every checkpoint; resumed from a checkpoint of an older build (no such
    /// field: it timed a matmul), its speeds mix two workloads, so the run says so and its wall time is not normalised.
    /// Resumed from its own build's checkpoint it keeps the current kind.
    /// </summary>
    [Fact]
    public void A_run_resumed_from_an_older_builds_checkpoint_marks_its_calibration_mixed()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == 12) throw new Killed(); }, checkpoints));
        var same = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints with { Resume = false });
        Assert.Equal(Calibration.Kind, same.CalibrationKind);

        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == 12) throw new Killed(); }, checkpoints with { Resume = false }));
        var newest = Checkpoint.Latest(checkpoints.Dir)!;
        Assert.Equal(Calibration.Kind, newest.State.Calibration);
        AsAnOlderBuildWroteIt(newest, "Calibration");

        var resumed = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
        Assert.StartsWith(RunResult.MixedCalibration, resumed.CalibrationKind);
        Assert.Contains($"before step {newest.State.NextStep},", resumed.CalibrationKind);
        Assert.False(ApolloBench.Experiments.WallTime.IsCurrentCalibration(resumed.CalibrationKind));
    }

    /// <summary>
    /// Every checkpoint carries which process and build trained which steps (a resumed run's are checked through the CLI in
    /// KillResumeTests); a run resumed from a checkpoint of an older build (no such field) records that its first steps'
    /// trainer is not known instead of crediting them to this build.
    /// </summary>
    [Fact]
    public void A_run_resumed_from_an_older_builds_checkpoint_leaves_its_first_stretch_unknown()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == 12) throw new Killed(); }, checkpoints));
        var newest = Checkpoint.Latest(checkpoints.Dir)!;
        var commit = ApolloBench.Runtime.BuildInfo.Commit;
        Assert.Equal([(0L, commit)], newest.State.Stretches!.Select(t => (t.FromStep, t.Commit)));
        AsAnOlderBuildWroteIt(newest, "Stretches");

        var resumed = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
        Assert.Equal([(0L, (DateTimeOffset?)null, (string?)null), (newest.State.NextStep, resumed.Stretches[1].Started, commit)],
            resumed.Stretches.Select(t => (t.FromStep, t.Started, t.Commit)));
        Assert.NotNull(resumed.Stretches[1].Started);
    }

    [Fact]
    public void Resume_without_a_checkpoint_starts_from_step_zero()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "none"), TimeSpan.FromHours(1), Resume: true);
        var a = Uninterrupted(Architecture.Gpt, () => new Scratch());
        var b = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
        AssertSameRun(a, b);
    }

    /// <summary>Stops a GPT Apollo run after step 12 with a checkpoint after every step; the two newest are kept.</summary>
    Checkpointing KilledAt12()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == 12) throw new Killed(); }, checkpoints));
        Assert.Equal(["step-000000011", "step-000000012"], Directory.GetDirectories(checkpoints.Dir).Select(Path.GetFileName).Order());
        return checkpoints;
    }

    public static TheoryData<string, string> Damages => new()
    {
        { "model.bin", "flip" }, { "model.bin", "truncate" }, { "optimizer.bin", "empty" }, { "optimizer.bin", "delete" },
        { "state.json", "flip" }, { "state.json", "truncate" }, { "state.json", "garbage" },
    };

    /// <summary>Damages a checkpoint file the way disks, copies and kills do.</summary>
    internal static void Damage(string path, string how)
    {
        switch (how)
        {
            case "flip":
                var bytes = File.ReadAllBytes(path);
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(path, bytes);
                break;
            case "truncate": File.WriteAllBytes(path, File.ReadAllBytes(path)[..(int)(new FileInfo(path).Length / 2)]); break;
            case "empty": File.WriteAllBytes(path, []); break;
            case "delete": File.Delete(path); break;
            case "garbage": File.WriteAllText(path, "{\"NextStep\": 3, \"garbage\": true}"); break;
            default: throw new ArgumentException(how);
        }
    }

    [Theory]
    [MemberData(nameof(Damages))]
    public void A_damaged_newest_checkpoint_is_named_and_the_previous_one_continues_the_run_exactly(string file, string how)
    {
        var checkpoints = KilledAt12();
        Damage(Path.Combine(checkpoints.Dir, "step-000000012", file), how);
        var log = new List<string>();
        var b = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40))
            .Run(checkpointing: checkpoints with { Log = log.Add });
        AssertSameRun(Uninterrupted(Architecture.Gpt, () => TrainingFixtures.Apollo()), b);
        var line = Assert.Single(log);
        Assert.StartsWith($"checkpoint/step-000000012/{file}:", line);
        Assert.EndsWith("using the one from step 11", line);
    }

    /// <summary>
    /// Old checkpoints are renamed out of the step-* names before they are deleted, so a writer killed half-way through a
    /// delete leaves a hidden folder (never a step folder missing files): the resume ignores it, and the next save removes it.
    /// </summary>
    [Fact]
    public void A_half_deleted_old_checkpoint_is_never_read_and_the_next_save_removes_it()
    {
        var checkpoints = KilledAt12();
        var halfDeleted = Path.Combine(checkpoints.Dir, ".step-000000010.old-99999");
        Directory.CreateDirectory(halfDeleted);
        File.WriteAllText(Path.Combine(halfDeleted, "state.json"), "{}");   // model.bin already gone
        var log = new List<string>();
        var b = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40))
            .Run(checkpointing: checkpoints with { Log = log.Add });
        AssertSameRun(Uninterrupted(Architecture.Gpt, () => TrainingFixtures.Apollo()), b);
        Assert.Empty(log);
        Assert.False(Directory.Exists(halfDeleted));
        Assert.Equal(2, Directory.GetDirectories(checkpoints.Dir).Length);
    }

    [Fact]
    public void With_no_whole_checkpoint_left_the_resume_stops_with_one_line_naming_the_file()
    {
        var checkpoints = KilledAt12();
        Damage(Path.Combine(checkpoints.Dir, "step-000000012", "model.bin"), "flip");
        Damage(Path.Combine(checkpoints.Dir, "step-000000011", "optimizer.bin"), "truncate");
        var e = Assert.Throws<ApolloBench.Core.UsageException>(() => TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40))
            .Run(checkpointing: checkpoints));
        Assert.StartsWith("checkpoint/step-000000012/model.bin: SHA-256 does not match; no whole checkpoint is left: delete", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_checkpoint_of_a_different_run_is_refused_naming_each_field_that_differs()
    {
        var checkpoints = KilledAt12();
        var e = Assert.Throws<ApolloBench.Core.UsageException>(() => TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(80))
            .Run(checkpointing: checkpoints));
        Assert.Contains("method: checkpoint apollo, asked scratch", e.Message);
        Assert.Contains("train.Steps: checkpoint 40, asked 80", e.Message);
        var threads = Assert.Throws<ApolloBench.Core.UsageException>(() => TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40, threads: 2))
            .Run(checkpointing: checkpoints));
        Assert.Contains("train.Threads: checkpoint 1, asked 2", threads.Message);
    }

    [Fact]
    public void A_stop_request_finishes_the_step_writes_a_checkpoint_and_the_resume_is_exact()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.FromHours(1), Resume: true);
        using var stop = new CancellationTokenSource();
        var stopped = Assert.Throws<RunStopped>(() => TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == 14) stop.Cancel(); }, checkpoints, stop.Token));
        Assert.Equal(15, stopped.NextStep);
        Assert.True(stopped.Saved);
        Assert.Equal(15, Checkpoint.NextStep(checkpoints.Dir));
        var b = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
        AssertSameRun(Uninterrupted(Architecture.Gpt, () => TrainingFixtures.Apollo()), b);
    }
}
