using System.Globalization;
using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>Where a job's run stands, as read from its folder.</summary>
public enum JobState
{
    /// <summary>A manifest whose seals every file matches: reused as it is.</summary>
    Finished,
    /// <summary>A manifest, but a file that does not match its seal: <c>reproduce</c> trains it again.</summary>
    Damaged,
    /// <summary>Another process holds the run's lock: it is being trained now.</summary>
    Training,
    /// <summary>Not finished, not locked, with a whole checkpoint: <c>--resume</c> continues it from there.</summary>
    Stopped,
    /// <summary>Nothing a resume could use.</summary>
    NotStarted,
}

/// <summary>
/// One job of <c>reproduce --status</c>: its state, the step its newest whole checkpoint continues from, the estimated
/// time it still needs (<see cref="TimeEstimate.JobSeconds(Job, double)"/>: the steps left at their stages' depths), and for a finished run the
/// seconds it trained. Reading it never writes into a run folder that does not exist yet, and never trains.
/// </summary>
/// <para>A bert2BERT or LiGO run trains its small model first (a cached dependency, checkpointed in the cache): until the
/// run has a checkpoint of its own, <see cref="SmallStep"/> is how far the small model has come (of <see cref="SmallSteps"/>),
/// read through the pointer the run leaves in its folder (<see cref="RunExecutor.SmallModelPointer"/>).</para>
/// <para><see cref="CheckpointSeconds"/>: the training seconds an unfinished run's newest checkpoint records (every process
/// that trained it so far), from which <see cref="OwnPace"/> paces what it has left.</para>
public sealed record JobProgress(Job Job, JobState State, long? NextStep, long Steps, int? Holder, double EstimatedSeconds, double? TrainedSeconds, string? Fault,
    long? SmallStep = null, long SmallSteps = 0, int? TrainedThreads = null, double? CheckpointSeconds = null)
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Estimated seconds still to train: all of it when nothing can be resumed, the part after the checkpoint otherwise.</summary>
    public double SecondsLeft => State switch
    {
        JobState.Finished => 0,
        JobState.Training or JobState.Stopped when NextStep is { } next && Steps > 0 => TimeEstimate.JobSeconds(Job, (double)next / Steps),
        _ when SmallStep is { } small && SmallSteps > 0 => EstimatedSeconds - TimeEstimate.SmallModelSeconds(Job) * Math.Min(1, (double)small / SmallSteps),
        _ => EstimatedSeconds,
    };

    /// <summary>
    /// An unfinished run's own pace so far: the training seconds its checkpoint records over the estimate for the steps
    /// they trained (its small model, which it does not record, left out of both); null without a checkpoint. A run that
    /// spans sessions is better paced by its own steps than by other runs' (the same machine, load and thread count).
    /// </summary>
    public double? OwnPace
    {
        get
        {
            if (State is not (JobState.Training or JobState.Stopped) || NextStep is not > 0 || Steps <= 0 || CheckpointSeconds is not > 0) return null;
            double done = TimeEstimate.JobSeconds(Job, 0) - TimeEstimate.SmallModelSeconds(Job) - TimeEstimate.JobSeconds(Job, (double)NextStep.Value / Steps);
            return done > 0 ? CheckpointSeconds / done : null;
        }
    }

    public static JobProgress Of(Job job)
    {
        long steps = job.Spec.Train.Steps;
        double estimate = TimeEstimate.JobSeconds(job);
        var folder = job.Folder;
        if (!Directory.Exists(folder)) return new(job, JobState.NotStarted, null, steps, null, estimate, null, null);
        if (RunFiles.IsFinished(folder))
        {
            var fault = RunFiles.Verify(folder);
            var (trained, threads) = fault is null ? SecondsTrained(folder) : (null, null);
            // A finished run is compared with the estimate at the thread count it trained with, not at this call's.
            if (threads is { } t && t != job.Spec.Train.Threads) estimate = TimeEstimate.JobSeconds(WithThreads(job, t));
            return new(job, fault is null ? JobState.Finished : JobState.Damaged, null, steps, null, estimate, trained, fault, TrainedThreads: threads);
        }
        var newest = NewestCheckpoint(Path.Combine(folder, Checkpoint.Folder));
        var next = newest?.NextStep;
        int? holder = null;
        bool held = false;
        if (File.Exists(RunExecutor.LockFile(folder)))
        {
            using var probe = FolderLock.TryAcquire(RunExecutor.LockFile(folder), out holder);
            held = probe is null;
        }
        var state = held ? JobState.Training : next is null ? JobState.NotStarted : JobState.Stopped;
        var (smallStep, smallSteps) = next is null ? SmallModelProgress(folder) : (null, 0);
        return new(job, state, next, steps, held ? holder : null, estimate, null, null, smallStep, smallSteps, CheckpointSeconds: newest?.Wall);
    }

    /// <summary>The small model's newest checkpoint step (all its steps once it is cached), through the run folder's pointer.</summary>
    static (long? Step, long Steps) SmallModelProgress(string folder)
    {
        if (RunExecutor.ReadSmallModelPointer(folder) is not { } pointer) return (null, 0);
        if (File.Exists(Path.Combine(pointer.Folder, SmallModelDependency.ModelFile))) return (pointer.Steps, pointer.Steps);
        return (NewestCheckpoint(pointer.Folder + ".checkpoint")?.NextStep ?? 0, pointer.Steps);
    }

    /// <summary>
    /// The newest whole checkpoint's state (the step it continues from, the seconds trained). The run may be training
    /// beside this read: a checkpoint it retires while it is being verified vanishes mid-read, so the read is tried again
    /// (and after a few tries given up).
    /// </summary>
    static Checkpoint.State? NewestCheckpoint(string dir)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return Checkpoint.NewestState(dir); }
            catch (IOException) when (attempt < 5) { Thread.Sleep(20); }
            catch (IOException) { return null; }
        }
    }

    /// <summary>A finished run's training seconds (its small model's included) and the thread count its manifest records.</summary>
    static (double? Seconds, int? Threads) SecondsTrained(string folder)
    {
        try
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, RunFiles.Manifest)));
            var results = manifest?["results"];
            double? seconds = results?["trainingWallSeconds"]?.GetValue<double>() is { } wall ? wall + (results["externalWallSeconds"]?.GetValue<double>() ?? 0) : null;
            return (seconds, manifest?["environment"]?["threads"]?.GetValue<int>() is { } t and > 0 ? t : null);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException) { return (null, null); }
    }

    static Job WithThreads(Job job, int threads)
    {
        var copy = new Job(job.Index, job.Spec with { Train = job.Spec.Train with { Threads = threads } }, job.Folder);
        copy.Finetunes.AddRange(job.Finetunes);
        return copy;
    }

    /// <summary>"finished (42 min of training)", "training now (process 1234): step 2,335 of 6,000 at its last checkpoint, ~21 min left", ...</summary>
    public string Describe() => State switch
    {
        JobState.Finished => $"finished{(TrainedSeconds is { } s ? $" ({TimeEstimate.Format(TimeSpan.FromSeconds(s)).TrimStart('~')} of training)" : "")}",
        JobState.Damaged => $"finished but damaged ({Fault}): reproduce trains it again, ~{Left}",
        JobState.Training => $"training now ({FolderLock.Describe(Holder)}): " +
                             (NextStep is { } n ? $"step {n.ToString("N0", Inv)} of {Steps.ToString("N0", Inv)} at its last checkpoint, ~{Left} left{AtOwnPace}"
                              : SmallModelText is { } small ? $"{small}, ~{Left} left" : $"no checkpoint yet, ~{Left} left"),
        JobState.NotStarted when SmallModelText is { } small => $"stopped in its small model: {small}; --resume continues it, ~{Left} left",
        JobState.Stopped => $"stopped at step {NextStep!.Value.ToString("N0", Inv)} of {Steps.ToString("N0", Inv)} (its checkpoint); --resume continues it, ~{Left} left{AtOwnPace}",
        _ => $"not started, ~{Left}",
    };

    /// <summary>"its small model at step 2,367 of 6,000 (its checkpoint)", "its small model is trained (cached), no checkpoint of the run yet", or null.</summary>
    string? SmallModelText => SmallStep is not { } small ? null
        : small >= SmallSteps ? "its small model is trained (cached), no checkpoint of the run yet"
        : small == 0 ? $"its small model has no checkpoint yet (of {SmallSteps.ToString("N0", Inv)} steps)"
        : $"its small model at step {small.ToString("N0", Inv)} of {SmallSteps.ToString("N0", Inv)} (its checkpoint)";

    string Left => TimeEstimate.Format(TimeSpan.FromSeconds(SecondsLeft)).TrimStart('~');

    /// <summary>" by the estimate, ~3.5 h at its own pace so far (1.75x the estimate)", or "" without a checkpoint.</summary>
    string AtOwnPace => OwnPace is { } pace
        ? $" by the estimate, {TimeEstimate.Format(TimeSpan.FromSeconds(SecondsLeft * pace))} at its own pace so far ({pace.ToString("0.00", Inv)}x the estimate)"
        : "";

    /// <summary>
    /// The finished runs' training seconds over their estimates (their pace), in ascending order: of the runs made at
    /// <paramref name="threads"/> when any was (the estimate scales with the thread count, a real run need not), of all of them otherwise.
    /// </summary>
    public static IReadOnlyList<double> Paces(IEnumerable<JobProgress> progress, int? threads = null)
    {
        var finished = progress.Where(p => p.State == JobState.Finished && p.TrainedSeconds is > 0 && p.EstimatedSeconds > 0).ToList();
        var same = finished.Where(p => threads is not null && p.TrainedThreads == threads).ToList();
        return (same.Count > 0 ? same : finished).Select(p => p.TrainedSeconds!.Value / p.EstimatedSeconds).Order().ToList();
    }

    /// <summary>The (upper) median of <see cref="Paces"/>; null when no run has finished.</summary>
    public static double? MedianPace(IEnumerable<JobProgress> progress, int? threads = null)
        => Paces(progress, threads) is { Count: > 0 } paces ? paces[paces.Count / 2] : null;

    /// <summary>
    /// The status report: one line per job, the totals, how the finished runs' times compared with their estimates, and
    /// which artifacts have every run finished (ready for <c>report</c>). A finished run's estimate is at the thread count it
    /// trained with (its manifest's), so its pace is the run's own, whatever <c>--threads</c> this call names.
    /// </summary>
    public static IReadOnlyList<string> Report(IReadOnlyList<ArtifactPlan> plans, IReadOnlyList<Job> jobs, RunSettings settings,
        IReadOnlyDictionary<string, string>? fromRecords = null)
    {
        fromRecords ??= new Dictionary<string, string>();
        var progress = jobs.Select(Of).ToList();
        var lines = new List<string>
        {
            $"status: {jobs.Count} run{(jobs.Count == 1 ? "" : "s")} for {string.Join(", ", plans.Select(p => p.Experiment.Id))} " +
            $"at {string.Join(", ", plans.Select(p => p.Experiment.Scale.Name).Distinct())} scale in {settings.Runs} (nothing is trained)",
        };
        lines.AddRange(progress.Select(p => $"  [{p.Job.Index + 1}/{jobs.Count}] {p.Job}: {p.Describe()}"));
        lines.AddRange(RecordLines(plans, fromRecords));
        string Count(JobState s) => progress.Count(p => p.State == s).ToString(Inv);
        double left = progress.Sum(p => p.SecondsLeft);
        lines.Add($"finished {Count(JobState.Finished)} of {jobs.Count}; training now {Count(JobState.Training)}; stopped {Count(JobState.Stopped)}; " +
                  $"not started {Count(JobState.NotStarted)}; damaged {Count(JobState.Damaged)}" +
                  (left > 0 ? $"; about {TimeEstimate.Format(TimeSpan.FromSeconds(left)).TrimStart('~')} of training left in one process by the estimate (--shard k/n splits it between processes)" : ""));
        var paces = Paces(progress);
        if (paces.Count > 0)
        {
            double pace = MedianPace(progress)!.Value;
            // Made at several thread counts: each count's own median, and what is left paced by its job's count
            // (with one count, or none recorded, every job falls back to the one median).
            var counts = progress.Where(p => p.State == JobState.Finished && p.TrainedThreads is not null).Select(p => p.TrainedThreads!.Value).Distinct().Order().ToList();
            string perCount = counts.Count < 2 ? "" : "; " + string.Join(", ", counts.Select(t =>
                $"{t.ToString(Inv)} thread{(t == 1 ? "" : "s")}: {MedianPace(progress, t)!.Value.ToString("0.00", Inv)}x of {Paces(progress, t).Count.ToString(Inv)}"));
            // A run with a checkpoint goes at its own pace so far; the others at the finished runs'.
            double paced = progress.Sum(p => p.SecondsLeft * (p.OwnPace ?? MedianPace(progress, p.Job.Spec.Train.Threads)!.Value));
            lines.Add($"the finished runs took {pace.ToString("0.00", Inv)}x their estimate (median of {paces.Count}, " +
                      $"{paces[0].ToString("0.00", Inv)}x-{paces[^1].ToString("0.00", Inv)}x{perCount}; the estimate assumes {(TimeEstimate.CpuFlopsPerSecond / 1e9).ToString("0", Inv)} GFLOP/s on {TimeEstimate.CpuRateThreads} CPU threads, in proportion for fewer)" +
                      (left > 0 ? $": at their pace (a run with a checkpoint at its own), about {TimeEstimate.Format(TimeSpan.FromSeconds(paced)).TrimStart('~')} left" : ""));
        }
        foreach (var plan in plans)
        {
            var missing = TrainingResults.Missing(plan, settings, fromRecords);
            lines.Add(missing.Count == 0
                ? $"{plan.Experiment.Id}: every run and result it needs is there; `report {plan.Experiment.Id}` renders it"
                : $"{plan.Experiment.Id}: {missing.Count} run{(missing.Count == 1 ? "" : "s")} or result{(missing.Count == 1 ? "" : "s")} to go");
        }
        return lines;
    }

    /// <summary>One line per run that a record stands in for: "  from a record: &lt;run folder&gt; (fig7:scratch): &lt;record folder&gt;".</summary>
    public static IEnumerable<string> RecordLines(IReadOnlyList<ArtifactPlan> plans, IReadOnlyDictionary<string, string> fromRecords)
        => plans.SelectMany(p => p.Runs.Select(r => (User: $"{p.Experiment.Id}:{r.Name}", r.Folder)))
            .Where(x => fromRecords.ContainsKey(x.Folder))
            .GroupBy(x => x.Folder, StringComparer.Ordinal)
            .Select(g => $"  from a record: {Path.GetFileName(g.Key)} ({string.Join(", ", g.Select(x => x.User).Distinct())}): {fromRecords[g.Key]} (not trained)");
}
