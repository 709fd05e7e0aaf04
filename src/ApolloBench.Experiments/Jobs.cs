using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ApolloBench.Core;
using ApolloBench.Downstream;
using ApolloBench.Growth;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// One fine-tuning of one run on one task (paper Table 4), stored in the run folder as
/// <c>downstream/&lt;task&gt;-seed&lt;seed&gt;-&lt;hash&gt;.json</c>, the hash covering every setting, so two
/// artifacts asking for different settings never read each other's score.
/// </summary>
public sealed record FinetuneJob(string Dataset, string TaskId, int? Epochs, int? MaxExamples, double? LearningRate, int? BatchSize, long Seed)
{
    public const string Folder = "downstream";

    /// <summary>Definition dataset names to <see cref="TaskCatalog"/> ids.</summary>
    public static string TaskFor(string dataset) => dataset switch
    {
        "squad-v1.1" => "squad1",
        "squad-v2.0" => "squad2",
        "spam-assassin" => "spam",
        "sotu-party" => "sotu-party",
        _ when dataset.StartsWith("glue-", StringComparison.Ordinal) => dataset["glue-".Length..],
        _ => throw new ArgumentOutOfRangeException(nameof(dataset), dataset, "unknown dataset"),
    };

    /// <summary>The job a definition asks for: the task's dataset with the downstream settings, for one pre-training seed.
    /// The one place jobs are built, so the trainer and the report always agree on the result's file name.</summary>
    public static FinetuneJob For(DownstreamDefinition d, TaskDefinition task, long seed)
        => new(task.Dataset!, TaskFor(task.Dataset!), d.Epochs, d.MaxExamples, d.LearningRate, d.BatchSize, seed);

    /// <summary>
    /// A fine-tuning run by hand (<c>finetune</c>): the same job, so the same file, as a definition's with these settings
    /// (null: the task's default, as a definition that leaves the setting out), so a downstream table picks it up.
    /// </summary>
    public static FinetuneJob ForTask(string taskId, int? epochs, int? maxExamples, double? learningRate, int? batchSize, long seed)
        => new(DatasetOf(taskId), taskId, epochs, maxExamples, learningRate, batchSize, seed);

    /// <summary><see cref="TaskCatalog"/> ids to definition dataset names (the inverse of <see cref="TaskFor"/>).</summary>
    static string DatasetOf(string taskId) => ExperimentValidator.Datasets.FirstOrDefault(d => TaskFor(d) == taskId)
                                              ?? throw new ArgumentOutOfRangeException(nameof(taskId), taskId, "unknown task");

    public bool StandIn => ExperimentValidator.StandInDatasets.Contains(Dataset);

    public string FileName
    {
        get
        {
            var canonical = JsonSerializer.Serialize(new { format = 1, task = TaskId, epochs = Epochs, maxExamples = MaxExamples, lr = LearningRate, batch = BatchSize, seed = Seed });
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))[..12];
            return $"{TaskId}-seed{Seed}-{hash}.json";
        }
    }

    public string PathIn(string runFolder) => System.IO.Path.Combine(runFolder, Folder, FileName);

    /// <summary>Stores <paramref name="result"/> as this job's result in <paramref name="runFolder"/>: the one place fine-tuning results are written.</summary>
    public string Write(string runFolder, TaskResult result)
    {
        var path = PathIn(runFolder);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        RunFiles.Atomic(path, tmp => File.WriteAllText(tmp, FinetuneRecord.From(result, MaxExamples).ToJson()));
        return path;
    }
}

/// <summary>What a fine-tuning stored: the task's metrics (x100) and how it was run.</summary>
public sealed record FinetuneRecord(string Task, string Name, bool StandIn, Dictionary<string, double> Metrics, int TrainExamples,
    Dictionary<string, int> EvalExamples, int Epochs, double LearningRate, int BatchSize, int? MaxExamples, long Seed, long Steps,
    double Seconds, string DataSource, string Notes)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static FinetuneRecord From(TaskResult r, int? maxExamples) => new(r.Task, r.Name, r.StandIn, r.Metrics.ToDictionary(), r.TrainExamples,
        r.EvalExamples.ToDictionary(), r.Hyper.Epochs, r.Hyper.LearningRate, r.Hyper.BatchSize, maxExamples, r.Seed, r.Steps, r.Seconds, r.DataSource, r.Notes);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static FinetuneRecord Read(string path) => JsonSerializer.Deserialize<FinetuneRecord>(File.ReadAllText(path), Json)
                                                       ?? throw new InvalidDataException($"{path}: empty");
}

/// <summary>
/// The model at the end of every stage that is followed by a growth (Apollo, StackBERT), saved while the run trains
/// into <c>stages/end-&lt;N&gt;-weights.bin</c>: what Table 3 probes at 6 layers and, grown by the run's own mapping,
/// just after expanding to 12. Saved before any later checkpoint, so a resumed run has it too.
/// </summary>
public static class StageSnapshots
{
    public const string Folder = "stages";

    public static string PathFor(string runFolder, int weights) => System.IO.Path.Combine(runFolder, Folder, $"end-{weights}-weights.bin");

    /// <summary>The weights at the end of the stage with <paramref name="weights"/> weights: its snapshot, or for the last stage the run's model.bin.</summary>
    public static string EndOf(RunSpec spec, string runFolder, int weights)
        => weights == spec.Model.Layers ? System.IO.Path.Combine(runFolder, RunFiles.Weights) : PathFor(runFolder, weights);

    /// <summary>The run's method as the registry builds it from the run's options, if it trains in stages; else null.</summary>
    public static IStagedMethod? Method(RunSpec spec) => MethodRegistry.Create(spec.Method, spec.Options, spec.Model.Layers) as IStagedMethod;

    /// <summary>The stage schedule of a staged run, or null for a method that does not train in stages.</summary>
    public static StageSchedule? Schedule(RunSpec spec) => Method(spec)?.Stages(spec.Model.Layers);
}

/// <summary>
/// <c>--shard k/n</c>: this process takes the k-th of n shares of the jobs. Training jobs are split by estimated cost
/// (<see cref="Assign"/>, <see cref="TimeEstimate.JobSeconds"/>), so the shards finish at about the same time; pure-math
/// artifacts (seconds each) go round robin (<see cref="Owns"/>: jobs k-1, k-1+n, ...).
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static Shard All => new(1, 1);

    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw new UsageException($"--shard: '{text}' must look like k/n, e.g. 1/4");
        if (n < 1 || k < 1 || k > n) throw new UsageException($"--shard: '{text}' needs 1 <= k <= n");
        return new Shard(k, n);
    }

    public bool Owns(int job) => job % Count == Index - 1;

    /// <summary>
    /// The shard (1-based) of each job when <paramref name="count"/> shards split jobs of these estimated costs: the
    /// costliest job first, each to the shard with the least estimated time so far (the lower shard on a tie). Every shard
    /// computes the same split from the same job list, so the shards' jobs are disjoint and together are all of them.
    /// </summary>
    public static int[] Assign(IReadOnlyList<double> costs, int count)
    {
        var owners = new int[costs.Count];
        var load = new double[count];
        foreach (var job in Enumerable.Range(0, costs.Count).OrderByDescending(j => costs[j]).ThenBy(j => j))
        {
            int shard = 0;
            for (int s = 1; s < count; s++) if (load[s] < load[shard]) shard = s;
            owners[job] = shard + 1;
            load[shard] += costs[job];
        }
        return owners;
    }

    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>How a job went.</summary>
public enum JobStatus { Cached, Trained, Resumed }

/// <summary>
/// One run folder to fill: a resolved run (shared by every artifact and run name that resolves to it) and the
/// fine-tunings asked of it. Jobs are what <c>--shard k/n</c> splits.
/// </summary>
public sealed class Job(int index, RunSpec spec, string folder)
{
    public int Index { get; } = index;
    public RunSpec Spec { get; } = spec;
    public string Folder { get; } = folder;
    public List<string> Users { get; } = [];
    public List<FinetuneJob> Finetunes { get; } = [];

    public override string ToString() => $"{Path.GetFileName(Folder)} ({string.Join(", ", Users)})";
}

/// <summary>
/// Thrown when <c>reproduce</c> was asked to stop (<see cref="JobRunner.Run"/>'s token): the message says where it stopped
/// (in which job, at which step, its checkpoint saved) and which of this shard's jobs are left.
/// </summary>
public sealed class JobsStopped(string message) : Exception(message);

/// <summary>Drives a trainer: the CLI draws a progress bar; the default logs a line every tenth of the run.</summary>
public delegate RunResult TrainDriver(Trainer trainer, Checkpointing checkpoints, string description, long steps, Action<StepRecord, EvalRecord?> onStep);

/// <summary>
/// Expands artifacts into jobs and runs them: every run spec validated before any training; a finished run folder
/// (manifest written last) is reused; an unfinished one is continued from its checkpoint with <c>resume</c> and
/// started over without; fine-tunings whose result file exists are reused. A job holds its run folder's lock
/// (<see cref="RunExecutor.LockFile"/>) from the first look to its last fine-tuning, so two processes (shards, or two
/// reproductions sharing a run) never write one folder: a run another process holds is put off until this process's
/// other jobs are done, and then waited for (saying for whom) and reused. So two processes started alike, without
/// <c>--shard</c>, share a plan's runs as they go (each takes the next one nobody trains), where shards split it by estimate up front.
/// </summary>
public static class JobRunner
{
    /// <summary>
    /// The distinct runs of <paramref name="plans"/> in order of first appearance, with the fine-tunings their artifacts ask
    /// for; the runs that records stand in for (<paramref name="fromRecords"/>, by run folder: <see cref="RecordPool.Serving"/>) are no jobs.
    /// </summary>
    public static IReadOnlyList<Job> Expand(IReadOnlyList<ArtifactPlan> plans, RunSettings settings, IReadOnlyDictionary<string, string>? fromRecords = null)
    {
        var jobs = new List<Job>();
        var byFolder = new Dictionary<string, Job>(StringComparer.Ordinal);
        foreach (var plan in plans)
        foreach (var run in plan.Runs)
        {
            if (fromRecords?.ContainsKey(run.Folder) == true) continue;
            if (!byFolder.TryGetValue(run.Folder, out var job))
            {
                job = new Job(jobs.Count, run.Spec, run.Folder);
                byFolder[run.Folder] = job;
                jobs.Add(job);
            }
            var user = $"{plan.Experiment.Id}:{run.Name}";
            if (!job.Users.Contains(user)) job.Users.Add(user);
            foreach (var f in Finetunes(plan, run, settings))
                if (!job.Finetunes.Contains(f)) job.Finetunes.Add(f);
        }
        return jobs;
    }

    /// <summary>The runs a downstream table shows, each fine-tuned on every task it can be: stand-ins always, GLUE and SQuAD with --data-dir.</summary>
    public static IEnumerable<FinetuneJob> Finetunes(ArtifactPlan plan, PlannedRun run, RunSettings settings)
    {
        var e = plan.Experiment;
        if (e.Definition.Downstream is not { } d || !DownstreamRuns(e).Contains(run.Name)) yield break;
        foreach (var task in d.Tasks!.Values)
        {
            var job = FinetuneJob.For(d, task, run.Seed);
            if (job.StandIn || settings.DataDir is not null) yield return job;
        }
    }

    /// <summary>The runs the artifact's downstream tables show.</summary>
    public static IReadOnlyList<string> DownstreamRuns(Experiment e) => e.Outputs.Values.Where(o => o.Type == "downstream-table")
        .SelectMany(o => e.Included(o, e.Runs.Keys)).Distinct().ToList();

    /// <summary>Checks every job's run spec (options, shapes, budgets, device) before anything trains; throws the first problem.</summary>
    public static void Validate(IReadOnlyList<Job> jobs, RunSettings settings)
    {
        foreach (var job in jobs)
        {
            try
            {
                RunExecutor.Validate(job.Spec);
            }
            catch (UsageException ex)
            {
                throw new UsageException($"{job.Users[0]} (seed {job.Spec.Train.Seed}): {ex.Message}");
            }
        }
        if (jobs.FirstOrDefault(j => j.Finetunes.Count > 0 && j.Spec.Arch != Models.Architecture.Bert) is { } gpt)
            throw new UsageException($"{gpt.Users[0]}: a downstream table fine-tunes BERT runs only (GLUE/SQuAD heads are defined for BERT); this run is {gpt.Spec.Arch}");
        if (settings.DataDir is { } dataDir && !Directory.Exists(dataDir))
            throw new UsageException($"--data-dir: folder '{dataDir}' not found");
        if (settings.Corpus is { } corpus && Data.Corpus.FetchedParts(corpus) is null && !File.Exists(corpus) && !Directory.Exists(corpus))
            throw new UsageException($"--corpus: '{corpus}' not found");
    }

    /// <summary>
    /// One warning line (<see cref="Data.CorpusPasses.Warning"/>) for each group of jobs that make the same number of passes, more
    /// than <see cref="Data.CorpusPasses.Limit"/>, over the same corpus: what <c>reproduce</c> and <c>scales</c> print first.
    /// A corpus's training tokens come from the manifest of a finished run on it, else from the corpus tokenised as
    /// the runs will read it (a cached file after the first time).
    /// </summary>
    public static IReadOnlyList<string> PassWarnings(IReadOnlyList<Job> jobs, RunSettings settings, Action<string>? log = null)
    {
        var corpusTokens = new Dictionary<(string Corpus, int Vocab), long>();
        long CorpusTokens(RunSpec spec)
        {
            var key = (Data.Corpus.Key(spec.Corpus), spec.Model.Vocab);
            if (corpusTokens.TryGetValue(key, out var known)) return known;
            var recorded = jobs.Where(j => Data.Corpus.Key(j.Spec.Corpus) == key.Item1 && j.Spec.Model.Vocab == key.Vocab)
                .Select(j => RecordedTrainTokens(j.Folder)).FirstOrDefault(n => n is not null);
            return corpusTokens[key] = recorded ?? RunExecutor.Tokens(spec.Corpus, spec.Model.Vocab, settings.Cache, log).Train.Length;
        }
        return jobs
            .Select(j => (Job: j, Passes: j.Spec.PassesOver(CorpusTokens(j.Spec))))
            .Where(x => x.Passes.TooMany)
            .GroupBy(x => (Corpus: Data.Corpus.Describe(x.Job.Spec.Corpus), x.Passes))
            .Select(g =>
            {
                var group = g.Select(x => x.Job).ToList();
                var users = group.SelectMany(j => j.Users).Distinct().ToList();
                var label = group.Count == 1 ? Path.GetFileName(group[0].Folder)
                    : $"{group.Count} runs ({string.Join(", ", users.Take(4))}{(users.Count > 4 ? ", ..." : "")})";
                return g.Key.Passes.Warning(label, g.Key.Corpus)!;
            })
            .ToList();
    }

    /// <summary>The corpus training tokens a finished run's manifest records, or null when there is none to read.</summary>
    static long? RecordedTrainTokens(string runFolder)
    {
        var path = Path.Combine(runFolder, RunFiles.Manifest);
        if (!File.Exists(path)) return null;
        try { return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?["corpus"]?["trainTokens"]?.GetValue<long>(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or IOException) { return null; }
    }

    /// <summary>
    /// Runs the jobs <paramref name="shard"/> owns, in order; one line per job saying what happened. When
    /// <paramref name="stop"/> is cancelled, a training job finishes its step and checkpoints, and the runner stops there or
    /// before the next job or fine-tuning, throwing <see cref="JobsStopped"/>.
    /// </summary>
    /// <param name="deadline">
    /// a time limit (<c>--time-limit</c>): a job whose training left, by the estimate at the pace of the runs finished so
    /// far (<see cref="Pace"/>) and with a <see cref="DeadlineMargin"/>, would end after it is not started (it is left for a
    /// later call, which finds it not started), and the next one that fits is taken; a finished run is still reused.
    /// </param>
    public static void Run(IReadOnlyList<Job> jobs, RunSettings settings, Shard shard, bool resume, TextWriter log, TrainDriver? driver = null,
        CancellationToken stop = default, DateTimeOffset? deadline = null)
    {
        driver ??= PlainDriver(log);
        var costs = jobs.Select(j => TimeEstimate.JobSeconds(j)).ToList();
        var owners = Shard.Assign(costs, shard.Count);
        bool Owns(Job job) => owners[job.Index] == shard.Index;
        int owned = jobs.Count(Owns);
        log.WriteLine($"jobs: {jobs.Count} run{(jobs.Count == 1 ? "" : "s")}, {owned} in shard {shard} " +
                      $"(estimated {TimeEstimate.Format(TimeSpan.FromSeconds(jobs.Where(Owns).Sum(j => costs[j.Index])))} of {TimeEstimate.Format(TimeSpan.FromSeconds(costs.Sum()))}); runs in {settings.Runs}");
        // A run another process trains now (a shard, or a second reproduce without --shard) is put off: this process takes
        // the jobs after it first, and comes back to it at the end, when it waits for it (or finds it finished) and reuses it.
        var putOff = new List<Job>();
        var done = new HashSet<int>();
        foreach (var job in jobs)
        {
            if (!Owns(job))
            {
                log.WriteLine($"  {Where(job)}: another shard's");
                continue;
            }
            if (LeftForNow(job)) continue;
            if (FolderLock.TryAcquire(RunExecutor.LockFile(job.Folder), out var holder) is not { } held)
            {
                log.WriteLine($"  {Where(job)}: {FolderLock.Describe(holder)} trains it; taking the jobs after it first");
                putOff.Add(job);
                continue;
            }
            Do(job, held);
        }
        // the other process may have stopped with a checkpoint that this one would now continue: the limit holds for it too
        foreach (var job in putOff)
            if (!LeftForNow(job)) Do(job, held: null);

        // stops before the job when asked to; true (said in the log) when the time limit leaves it for a later call
        bool LeftForNow(Job job)
        {
            if (stop.IsCancellationRequested) throw Stopped($"before job {job.Index + 1}/{jobs.Count}");
            if (deadline is not { } end || LeftForLater(jobs, job, end) is not { } why) return false;
            log.WriteLine($"  {Where(job)}: left for a later call: {why}");
            return true;
        }
        string Where(Job job) => $"[{job.Index + 1}/{jobs.Count}] {job}";
        // this process's jobs not done yet (those left for a later call included)
        List<Job> Left() => jobs.Where(j => Owns(j) && !done.Contains(j.Index)).ToList();
        JobsStopped Stopped(string when)
        {
            var left = Left();
            // a job not passed yet may be a finished run that the next call only reuses: say which have training left
            var toTrain = left.Where(j => JobProgress.Of(j).State != JobState.Finished).ToList();
            string what = toTrain.Count == left.Count ? ""
                : toTrain.Count == 0 ? (left.Count == 1 ? ": a finished run the next call reuses" : ": all finished runs the next call reuses")
                : $": {toTrain.Count} with training left ({Numbers(toTrain)}), the rest finished runs the next call reuses";
            return new JobsStopped($"stopped {when}; {left.Count} job{(left.Count == 1 ? "" : "s")} of {jobs.Count} left{(shard.Count > 1 ? $" in shard {shard}" : "")} ({Numbers(left)}){what}");
        }
        static string Numbers(List<Job> some)
        {
            var numbers = some.Select(j => (j.Index + 1).ToString(CultureInfo.InvariantCulture)).ToList();
            return numbers.Count <= 12 ? string.Join(", ", numbers) : string.Join(", ", numbers.Take(12)) + ", ...";
        }
        // trains (or reuses) the job's run and its fine-tunings, holding the run folder's lock throughout (taken here,
        // waiting for another process, when not held yet)
        void Do(Job job, FolderLock? held)
        {
            var where = Where(job);
            try
            {
                using var _ = held ??= FolderLock.Acquire(RunExecutor.LockFile(job.Folder), $"  {where}", log.WriteLine, stop);
                var status = Train(job, settings, resume, log, driver, where, held, stop);
                log.WriteLine($"  {where}: {Describe(status)}");
                foreach (var f in job.Finetunes)
                {
                    if (stop.IsCancellationRequested) throw Stopped($"in job {job.Index + 1}/{jobs.Count}, its run finished, before fine-tuning {f.TaskId}");
                    Finetune(job, f, settings, log, where);
                }
                done.Add(job.Index);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)   // waiting for the run or its small model
            {
                throw Stopped($"while job {job.Index + 1}/{jobs.Count} waited for another process");
            }
            catch (RunStopped stopped)
            {
                throw Stopped($"at step {stopped.NextStep}{(stopped.Run is null ? "" : $" of {stopped.Run}")} in job {job.Index + 1}/{jobs.Count} ({Path.GetFileName(job.Folder)}), " +
                                                 (stopped.Saved ? "its checkpoint saved" : "nothing saved"));
            }
        }
    }

    /// <summary>How much longer than its estimate a job is given before a time limit: a tenth (the estimates' spread; <c>reproduce --status</c> reports it).</summary>
    public const double DeadlineMargin = 1.1;

    /// <summary>
    /// Why <paramref name="job"/> is not started before <paramref name="deadline"/>: the training it has left (after its
    /// checkpoint, if any), at the median pace of the finished runs among <paramref name="jobs"/> against their estimates
    /// (of those at the job's thread count when any; 1 when none has finished) and with <see cref="DeadlineMargin"/>, ends after the deadline. Null when it fits or is finished.
    /// </summary>
    public static string? LeftForLater(IReadOnlyList<Job> jobs, Job job, DateTimeOffset deadline, DateTimeOffset? now = null)
    {
        var progress = JobProgress.Of(job);
        if (progress.State == JobState.Finished) return null;
        double pace = Pace(jobs, job.Spec.Train.Threads);
        double need = progress.SecondsLeft * pace * DeadlineMargin;
        double left = (deadline - (now ?? DateTimeOffset.UtcNow)).TotalSeconds;
        if (need <= left) return null;
        return $"it needs {TimeEstimate.Format(TimeSpan.FromSeconds(need))} (the estimate at {pace.ToString("0.00", CultureInfo.InvariantCulture)}x, the finished runs' pace, " +
               $"and {DeadlineMargin.ToString("0.0", CultureInfo.InvariantCulture)}x to spare), and {TimeEstimate.Format(TimeSpan.FromSeconds(Math.Max(0, left)))} is left before the time limit";
    }

    /// <summary>
    /// The median of the finished runs' training seconds over their estimates among <paramref name="jobs"/>, of those made at
    /// <paramref name="threads"/> when any was (<see cref="JobProgress.Paces"/>); 1 when none has finished.
    /// </summary>
    public static double Pace(IReadOnlyList<Job> jobs, int? threads = null) => JobProgress.MedianPace(jobs.Select(JobProgress.Of), threads) ?? 1;

    static string Describe(JobStatus s) => s switch
    {
        JobStatus.Cached => "cached (finished earlier)",
        JobStatus.Resumed => "resumed from its checkpoint and finished",
        _ => "trained",
    };

    /// <summary>Trains (or reuses) a job's run; the caller holds the run folder's lock (<paramref name="held"/>).</summary>
    static JobStatus Train(Job job, RunSettings settings, bool resume, TextWriter log, TrainDriver driver, string where, FolderLock held, CancellationToken stop)
    {
        if (RunFiles.IsFinished(job.Folder))
        {
            if (RunFiles.Verify(job.Folder) is not { } fault) return JobStatus.Cached;
            log.WriteLine($"  {where}: {fault}: the finished run is damaged; training it again");
            RunFiles.Clear(job.Folder);
        }
        var checkpointDir = Path.Combine(job.Folder, Checkpoint.Folder);
        bool hasCheckpoint = Checkpoint.Exists(checkpointDir);
        bool resuming = resume && hasCheckpoint;
        if (!resuming && Directory.EnumerateFileSystemEntries(job.Folder).Any(e => Path.GetFileName(e) != FolderLock.FileName))
        {
            log.WriteLine($"  {where}: an unfinished run is there; starting it over{(hasCheckpoint ? " (pass --resume to continue from its checkpoint)" : "")}");
            RunFiles.Clear(job.Folder);
        }
        log.WriteLine($"  {where}: {(resuming ? $"resuming from step {Checkpoint.NextStep(checkpointDir)?.ToString() ?? "?"}" : "training")}");
        var spec = job.Spec;
        var schedule = StageSnapshots.Schedule(spec);
        var description = $"{spec.Arch.ToString().ToLowerInvariant()} {spec.Method} seed {spec.Train.Seed}";
        RunExecutor.Execute(spec, job.Folder, settings.Cache, resuming, line => log.WriteLine($"    {line}"), (trainer, checkpoints) =>
            driver(trainer, checkpoints, description, spec.Train.Steps, (step, _) =>
            {
                // The end of a stage that is followed by a growth: keep the model for the probes (Table 3).
                if (schedule is null || step.Step + 1 >= spec.Train.Steps || !schedule.IsBoundary(step.Step + 1, spec.Train.Steps)) return;
                int weights = schedule.WeightsAt(step.Step, spec.Train.Steps);
                var path = StageSnapshots.PathFor(job.Folder, weights);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                RunFiles.Atomic(path, tmp => trainer.Session.Model.save(tmp));
            }), settings.CheckpointEvery, stop, held);
        return resuming ? JobStatus.Resumed : JobStatus.Trained;
    }

    static void Finetune(Job job, FinetuneJob f, RunSettings settings, TextWriter log, string where)
    {
        var path = f.PathIn(job.Folder);
        if (File.Exists(path))
        {
            log.WriteLine($"  {where}: fine-tuning {f.TaskId}: cached");
            return;
        }
        var downstream = new DownstreamSettings
        {
            DataDir = settings.DataDir,
            CacheDir = settings.Cache,
            Seed = f.Seed,
            Epochs = f.Epochs,
            LearningRate = f.LearningRate,
            BatchSize = f.BatchSize,
            MaxExamples = f.MaxExamples,
            Threads = job.Spec.Train.Threads,
            WriteResults = false,
            Log = line => log.WriteLine($"    {line}"),
        };
        var result = DownstreamEvaluation.Evaluate(job.Folder, [TaskCatalog.Get(f.TaskId)], downstream)[0];
        f.Write(job.Folder, result);
        log.WriteLine($"  {where}: fine-tuned {f.TaskId}: {result.Headline} {result.HeadlineValue.ToString("F2", CultureInfo.InvariantCulture)} ({result.Seconds.ToString("F0", CultureInfo.InvariantCulture)} s)");
    }

    /// <summary>Plain progress: a line at every tenth of the run.</summary>
    public static TrainDriver PlainDriver(TextWriter log) => (trainer, checkpoints, description, steps, onStep) =>
    {
        var progress = new TenthsProgress(steps);
        return trainer.Run(checkpointing: checkpoints, onStep: (s, e) =>
        {
            onStep(s, e);
            if (progress.Step(s, e, out var rate))
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {StepText(description, s, steps, progress.Valid)}, {s.WallSeconds:F0} s{rate}"));
        });
    };

    /// <summary>A run's state in one line, as every progress display shows it (valid: the latest held-out loss, NaN before the first).</summary>
    public static string StepText(string description, StepRecord s, long steps, double valid) => string.Create(CultureInfo.InvariantCulture,
        $"{description}: step {s.Step + 1}/{steps}, loss {s.Loss:F3}, valid {ProgressText.Loss(valid)}");
}
