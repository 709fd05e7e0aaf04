using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Cli;

/// <summary>One line of <c>list</c>.</summary>
public sealed record ListEntry(string Id, string Reproduces, string Needs, IReadOnlyDictionary<string, string> Estimates);

/// <summary>
/// The experiment harness: <c>reproduce</c>, <c>report</c> and <c>list</c>. Every definition named is loaded and
/// validated, every run it needs resolved and checked, and every destination checked, before anything is computed,
/// trained or written. Training-driven artifacts expand into jobs (one per distinct run, <see cref="JobRunner"/>)
/// that <c>--shard</c> splits; an artifact's report is rendered once all its runs are complete, from the run
/// folders alone (<see cref="TrainingResults"/>).
/// </summary>
public static class Harness
{
    /// <summary>The folder a report of <paramref name="e"/> goes to under the reports root.</summary>
    public static string ReportDirectory(string root, Experiment e) => Path.Combine(root, e.Id, e.Scale.Name);

    /// <summary>
    /// <c>reproduce --status</c>: the jobs <c>reproduce</c> would run for <paramref name="ids"/>, each with where its run
    /// stands (<see cref="JobProgress"/>), and which artifacts are ready to report. Trains and writes nothing.
    /// </summary>
    public static int Status(string ids, ReproduceOptions o, TextWriter log)
    {
        var experiments = Load(ids, o);
        var settings = o.RunSettings();
        var plans = experiments.Where(e => e.NeedsTraining).Select(e => RunPlanner.Plan(e, settings)).ToList();
        var fromRecords = (o.FromRecords ? Pool(o) : RecordPool.Empty).Serving(plans, settings, line => log.WriteLine($"records: {line}"));
        var jobs = JobRunner.Expand(plans, settings, fromRecords);
        foreach (var line in JobProgress.Report(plans, jobs, settings, fromRecords)) log.WriteLine(line);
        foreach (var e in experiments.Where(e => !e.NeedsTraining)) log.WriteLine($"{e.Id}: pure math, computed in seconds by `reproduce {e.Id}`");
        return 0;
    }

    /// <summary>
    /// Whether a stored training report's runs are the runs this checkout plans for its artifact, scale and number of
    /// seeds (every run folder name, which carries the run's key, among the planned ones); null when its definition no
    /// longer loads or plans here.
    /// </summary>
    public static bool? PlannedNow(ArtifactResults r, ReproduceOptions o)
    {
        try
        {
            int seeds = r.Runs.Select(x => x.Seed).Distinct().Count();
            var e = ExperimentLoader.Load(o.Experiments, r.Id, r.Context.Scale, [$"seeds={seeds}"]);
            var planned = RunPlanner.Plan(e, o.RunSettings()).Runs.Select(x => Path.GetFileName(x.Folder)).ToHashSet(StringComparer.Ordinal);
            return r.Runs.All(x => planned.Contains(x.Folder));
        }
        catch (UsageException) { return null; }
    }

    /// <param name="stop">a stop request (the CLI's first SIGINT/SIGTERM): training checkpoints and stops, <see cref="JobsStopped"/> says where.</param>
    public static int Reproduce(string ids, ReproduceOptions o, TextWriter log, TrainDriver? driver = null, CancellationToken stop = default)
    {
        var started = DateTimeOffset.UtcNow;
        // 1. Validate everything: definitions, options, every run of every job, destinations.
        var experiments = Load(ids, o);
        var settings = o.RunSettings();
        var training = experiments.Where(e => e.NeedsTraining).ToList();
        var plans = training.Select(e => RunPlanner.Plan(e, settings)).ToList();
        // With --from-records, runs that committed or kept records hold are read from them, not trained (RecordPool).
        var fromRecords = (o.FromRecords ? Pool(o) : RecordPool.Empty).Serving(plans, settings, line => log.WriteLine($"records: {line}"));
        var jobs = JobRunner.Expand(plans, settings, fromRecords);
        JobRunner.Validate(jobs, settings);
        foreach (var e in experiments) ReportWriter.CheckDestination(ReportDirectory(o.Out, e));
        // The first lines: runs that would go over their corpus more than 10 times (CorpusPasses).
        foreach (var warning in JobRunner.PassWarnings(jobs, settings, log.WriteLine)) log.WriteLine(warning);
        var context = Context(o);
        if (!PlotRenderer.FontInstalled)
            log.WriteLine($"warning: font '{PlotRenderer.FontName}' is not installed, so figures will have no text (Debian/Ubuntu: apt-get install fonts-dejavu-core)");

        // 2. Pure math: one artifact per job of its own.
        var pure = experiments.Where(e => !e.NeedsTraining).ToList();
        for (int job = 0; job < pure.Count; job++)
        {
            var e = pure[job];
            var dir = ReportDirectory(o.Out, e);
            if (!o.Shard.Owns(job))
            {
                log.WriteLine($"{e.Id}: skipped (shard {o.Shard} does not own job {job + 1} of {pure.Count})");
                continue;
            }
            if (o.Resume && StoredFingerprint(dir) == e.Fingerprint())
            {
                log.WriteLine($"{e.Id}: kept {dir} (--resume: same definition and scale)");
                continue;
            }
            var clock = Stopwatch.StartNew();
            var results = ComputePureMath(e, context);
            ReportWriter.Write(dir, results, e);
            log.WriteLine($"{e.Id}: {e.Reproduces} -> {Path.Combine(dir, ReportBuilder.ReportFile)} ({Seconds(clock)})");
        }

        // 3. Training: this shard's runs, then every artifact whose runs are all there.
        int status = 0;
        if (plans.Count > 0)
        {
            var clock = Stopwatch.StartNew();
            foreach (var line in JobProgress.RecordLines(plans, fromRecords)) log.WriteLine(line);
            JobRunner.Run(jobs, settings, o.Shard, o.Resume, log, driver, stop, o.TimeLimit is { } limit ? started + limit : null);
            log.WriteLine($"jobs done ({Seconds(clock)})");
            foreach (var plan in plans)
            {
                var missing = TrainingResults.Missing(plan, settings, fromRecords);
                if (missing.Count > 0)
                {
                    foreach (var line in missing) log.WriteLine($"missing: {line}");
                    if (o.Shard.Count == 1) status = 1;   // everything was this process's to do, and something is still not there
                    log.WriteLine($"{plan.Experiment.Id}: report not rendered yet ({missing.Count} missing); once every shard has finished: " +
                                  $"`report {plan.Experiment.Id}` with the same options (--scale {plan.Experiment.Scale.Name} --runs {settings.Runs} ...)" +
                                  (plan.WhyNotInPart() is null ? $"; before that, `report {plan.Experiment.Id} --interim` renders the runs that have finished" : ""));
                    continue;
                }
                Render(plan, settings, context, o.Out, log, fromRecords);
            }
        }
        WriteProfiles(o.Out, log, o);
        ReportIndex.Write(o.Out, o.Experiments, r => PlannedNow(r, o));
        log.WriteLine($"index: {Path.Combine(o.Out, ReportIndex.FileName)}");
        log.WriteLine(Written(o.Out));
        return status;
    }

    /// <summary>The last line of <c>reproduce</c> and <c>report</c>: where the reports are.</summary>
    static string Written(string root) => $"reports: {Path.GetFullPath(root)}";

    /// <summary>A pure-math artifact's results: exact computation, so its device line says so.</summary>
    static ArtifactResults ComputePureMath(Experiment e, ReportContext context)
        => PureMath.Compute(e, context with { Device = "cpu (exact computation, no training)", Seeds = string.Join(", ", e.SeedValues) });

    static List<Experiment> Load(string ids, ReproduceOptions o)
    {
        var scale = Scales.Load(o.Experiments).Get(o.Scale);
        if (o.Seeds is { } seeds && seeds is < 1 or > 1000) throw new UsageException($"--seeds: must be between 1 and 1000 (got {seeds})");
        if (o.Threads is { } threads && threads < 1) throw new UsageException($"--threads: must be >= 1 (got {threads})");
        if (o.CheckpointEvery is { } every) Durations.Seconds("--checkpoint-every", every, zeroAllowed: true);
        if (o.TimeLimit is { } limit && !(limit > TimeSpan.Zero)) throw new UsageException($"--time-limit: must be more than 0 minutes (got {limit.TotalMinutes.ToString(CultureInfo.InvariantCulture)})");
        if (File.Exists(o.Out)) throw new UsageException($"--out: '{o.Out}' is a file, not a folder");
        if (o.Runs is { } runs && File.Exists(runs)) throw new UsageException($"--runs: '{runs}' is a file, not a folder");
        var selected = ids.Trim() == "all" ? ExperimentLoader.Ids(o.Experiments) : Csv.Names(ids);
        if (selected.Count == 0 || selected.Any(id => id.Length == 0))
            throw new UsageException($"reproduce: '{ids}' must be an experiment id, a comma-separated list of ids, or all");
        var overrides = o.Seeds is { } n ? [.. o.Overrides, $"seeds={n}"] : o.Overrides;
        return selected.Distinct().Select(id => ExperimentLoader.Load(o.Experiments, id, scale.Name, overrides)).ToList();
    }

    static ReportContext Context(ReproduceOptions o) => new()
    {
        Scale = Scales.Load(o.Experiments).Get(o.Scale).Name,
        Device = "",
        Seeds = "",
        Commit = ReportEnvironment.Commit(),
        Machine = ReportEnvironment.Machine(),
        Created = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
    };

    static string Seconds(Stopwatch clock) => $"{clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s";

    /// <summary>
    /// Renders a training-driven artifact from its finished run folders and, for the runs in <paramref name="fromRecords"/>,
    /// from their records (unpacked as the runs wrote them), and puts the runs' records beside the report (a record read
    /// from elsewhere is copied byte for byte).
    /// </summary>
    static void Render(ArtifactPlan plan, RunSettings settings, ReportContext context, string outRoot, TextWriter log,
        IReadOnlyDictionary<string, string>? fromRecords = null, InterimState? interim = null)
    {
        var clock = Stopwatch.StartNew();
        var e = plan.Experiment;
        var dir = ReportDirectory(outRoot, e);
        var recorded = plan.Runs.Select(r => r.Folder).Where(f => fromRecords?.ContainsKey(f) == true).Distinct().ToList();
        if (recorded.Count == 0)
        {
            var results = TrainingResults.Compute(plan, settings, context, log.WriteLine) with { Interim = interim };
            ReportWriter.Write(dir, results, e, tmp => RunRecords.Write(plan, RunRecords.In(tmp)));
            log.WriteLine($"{e.Id}: {e.Reproduces} -> {Path.Combine(dir, ReportBuilder.ReportFile)} ({InterimLog(interim)}{Seconds(clock)})");
            return;
        }
        var unpacked = Directory.CreateTempSubdirectory("apollobench-records-").FullName;
        try
        {
            foreach (var folder in recorded) RunRecords.Extract(fromRecords![folder], Path.Combine(unpacked, Path.GetFileName(folder)));
            var mixed = plan with
            {
                Runs = plan.Runs.Select(r => recorded.Contains(r.Folder) ? r with { Folder = Path.Combine(unpacked, Path.GetFileName(r.Folder)) } : r).ToList(),
            };
            var trained = plan with { Runs = plan.Runs.Where(r => !recorded.Contains(r.Folder)).ToList() };
            var results = TrainingResults.Compute(mixed, settings, context, log.WriteLine) with { Interim = interim };
            ReportWriter.Write(dir, results, e, tmp =>
            {
                RunRecords.Write(trained, RunRecords.In(tmp));
                foreach (var folder in recorded) RunRecords.CopyOne(fromRecords![folder], RunRecords.In(tmp));
            });
        }
        finally
        {
            Directory.Delete(unpacked, recursive: true);
        }
        log.WriteLine($"{e.Id}: {e.Reproduces} -> {Path.Combine(dir, ReportBuilder.ReportFile)} " +
                      $"({InterimLog(interim)}{recorded.Count} of {plan.Runs.Select(r => r.Folder).Distinct().Count()} runs from their records; {Seconds(clock)})");
    }

    /// <summary>"interim: 10 of 16 runs; " for an interim render's log line, else "".</summary>
    static string InterimLog(InterimState? interim) => interim is null ? "" : $"interim: {interim.Finished} of {interim.PlannedRuns} runs; ";

    /// <summary>
    /// <c>records</c>: keeps the record of every finished run of <paramref name="ids"/> that no report under the report roots
    /// holds in <c>records/&lt;scale&gt;/</c> of the checkout (or under <paramref name="to"/>), so that git carries the finished
    /// runs of an artifact that is not rendered yet to the next machine, where <c>reproduce --from-records</c> reads them
    /// instead of training. A kept record that a report now holds is removed (the report keeps the same bytes); a damaged
    /// kept record is named and written again from the run. Trains nothing; each run gets one line.
    /// </summary>
    public static int Records(string ids, ReproduceOptions o, string? to, TextWriter log)
    {
        var experiments = Load(ids, o);
        var settings = o.RunSettings();
        var scale = Scales.Load(o.Experiments).Get(o.Scale).Name;
        var kept = RecordPool.KeptAt(to ?? RecordPool.Kept(o.Experiments), scale);
        if (File.Exists(kept)) throw new UsageException($"--to: '{kept}' is a file, not a folder");
        var reports = RecordPool.Scan(RecordRoots(o), null, scale);
        var keptPool = RecordPool.Scan([], to ?? RecordPool.Kept(o.Experiments), scale);
        var plans = experiments.Where(e => e.NeedsTraining).Select(e => RunPlanner.Plan(e, settings)).ToList();
        int written = 0, held = 0, already = 0, unfinished = 0, removed = 0;
        foreach (var run in plans.SelectMany(p => p.Runs).DistinctBy(r => r.Folder))
        {
            var name = Path.GetFileName(run.Folder);
            var dest = Path.Combine(kept, name);
            if (reports.Find(run) is { } inReport)
            {
                held++;
                if (!Directory.Exists(dest)) continue;
                Directory.Delete(dest, recursive: true);
                removed++;
                log.WriteLine($"  {name}: removed from {kept}: the report in {Path.GetDirectoryName(Path.GetDirectoryName(inReport))} holds it");
                continue;
            }
            var keptProblem = !Directory.Exists(dest) ? "absent" : keptPool.Find(run) is null ? "damaged or of another run key" : null;
            if (keptProblem is null)
            {
                already++;
                continue;
            }
            if (!RunExecutor.IsComplete(run.Folder))
            {
                unfinished++;
                if (keptProblem != "absent") log.WriteLine($"  {name}: the kept record in {dest} is {keptProblem}, and the run is not finished under {settings.Runs} to write it again");
                continue;
            }
            RunRecords.WriteRun(plans, run, dest);
            written++;
            log.WriteLine($"  {name}: kept in {dest}{(keptProblem == "absent" ? "" : $" (the record there was {keptProblem}; written again)")}");
        }
        log.WriteLine($"records: {written} written, {already} kept already, {held} held by reports, {unfinished} not finished under {settings.Runs}" +
                      (removed > 0 ? $", {removed} removed (a report holds them)" : "") + $"; kept records of {scale}: {kept}");
        return 0;
    }

    /// <summary>The records that may stand in for runs (<see cref="RecordPool"/>): every report root's at this scale, and the checkout's kept records.</summary>
    static RecordPool Pool(ReproduceOptions o)
        => RecordPool.Scan(RecordRoots(o), RecordPool.Kept(o.Experiments), Scales.Load(o.Experiments).Get(o.Scale).Name);

    /// <summary>
    /// Renders a training-driven artifact from the run records of the report in <paramref name="source"/> (no run folders
    /// needed; probes as that report measured them), and copies the records, byte for byte, beside the new report.
    /// </summary>
    static void RenderFromRecords(ArtifactPlan plan, string source, RunSettings settings, ReportContext context, string outRoot, TextWriter log,
        InterimState? interim = null)
    {
        var clock = Stopwatch.StartNew();
        var e = plan.Experiment;
        var dir = ReportDirectory(outRoot, e);
        var unpacked = Directory.CreateTempSubdirectory("apollobench-records-").FullName;
        try
        {
            var fromRecords = RunRecords.Unpack(plan, source, unpacked);
            var results = TrainingResults.Compute(fromRecords, settings, context, log.WriteLine, RunRecords.MeasuredProbes(plan, source)) with { Interim = interim };
            ReportWriter.Write(dir, results, e, tmp => RunRecords.Copy(RunRecords.In(source), RunRecords.In(tmp), plan.Runs.Select(r => Path.GetFileName(r.Folder))));
        }
        finally
        {
            Directory.Delete(unpacked, recursive: true);
        }
        log.WriteLine($"{e.Id}: {e.Reproduces} -> {Path.Combine(dir, ReportBuilder.ReportFile)} ({InterimLog(interim)}from the run records in {RunRecords.In(source)}; {Seconds(clock)})");
    }

    /// <summary>The report roots whose stored reports <c>report</c> may render from: the checkout's committed reports/, then --out's.</summary>
    static IReadOnlyList<string> RecordRoots(ReproduceOptions o)
        => new[] { Repository.Reports(o.Experiments), o.Out }.Select(Path.GetFullPath).Distinct().ToList();

    /// <summary>
    /// <c>report</c>: each target is a report folder, re-rendered from its results.json alone, or experiment ids
    /// (<c>fig7</c>, <c>fig7,table3</c>, <c>all</c>): a training-driven one is rendered from its stored run folders
    /// (merging what every shard trained), a pure-math one computed (seconds). Nothing trains: an artifact whose runs
    /// are not all there is left out, each missing run named on its own line, and every other one is rendered;
    /// <paramref name="strict"/> makes that exit code 1. <paramref name="interim"/>: such an artifact is rendered from the
    /// runs that have finished (run folders and records) as an interim report naming the rest, where its results allow it
    /// (<see cref="ArtifactPlan.WhyNotInPart"/>); without it, a stored interim report is rendered again from its own records.
    /// </summary>
    public static int Report(IReadOnlyList<string> targets, ReproduceOptions o, string? indexRoot, TextWriter log, bool strict = false, bool interim = false)
    {
        var folders = new List<string>();
        var ids = new List<string>();
        foreach (var target in targets)
        {
            var names = target.Trim() == "all" ? ExperimentLoader.Ids(o.Experiments) : Csv.Names(target);
            bool isIds = !Directory.Exists(target) && Directory.Exists(o.Experiments) && names.All(ExperimentLoader.Ids(o.Experiments).Contains);
            if (isIds) ids.AddRange(names);
            else folders.Add(target);
        }
        var loaded = folders.Select(dir => (dir, results: ReadResults(dir))).ToList();
        var withExperiments = loaded.Select(x => (x.dir, x.results, experiment: ExperimentLoader.Parse(
            $"{Path.Combine(x.dir, ArtifactResults.FileName)} (definition)", x.results.Id, x.results.Definition.ToJsonString(), x.results.Context.Scale, [], o.Experiments))).ToList();
        var experiments = ids.Count == 0 ? [] : Load(string.Join(",", ids.Distinct()), o);
        var settings = o.RunSettings();
        var plans = experiments.Where(e => e.NeedsTraining).Select(e => RunPlanner.Plan(e, settings)).ToList();
        foreach (var e in experiments) ReportWriter.CheckDestination(ReportDirectory(o.Out, e));

        if (!PlotRenderer.FontInstalled)
            log.WriteLine($"warning: font '{PlotRenderer.FontName}' is not installed, so figures will have no text (Debian/Ubuntu: apt-get install fonts-dejavu-core)");
        foreach (var (dir, results, experiment) in withExperiments)
        {
            // The report's run records stay: they are what results.json was computed from.
            var records = RunRecords.In(dir);
            var runs = Directory.Exists(records) ? Directory.GetDirectories(records).Select(Path.GetFileName).OfType<string>().ToList() : [];
            ReportWriter.Write(dir, results, experiment, tmp => RunRecords.Copy(records, RunRecords.In(tmp), runs));
            log.WriteLine($"{results.Id}: re-rendered {Path.Combine(dir, ReportBuilder.ReportFile)} from {ArtifactResults.FileName}");
        }
        var context = Context(o);
        foreach (var e in experiments.Where(e => !e.NeedsTraining))
        {
            var dir = ReportDirectory(o.Out, e);
            var results = ComputePureMath(e, context);
            // Recomputed to the same numbers as a stored report: that report's commit and machine computed them first, so they stay.
            var same = RecordRoots(o).Select(root => StoredResults(ReportDirectory(root, e))).FirstOrDefault(r => r is not null && SameNumbers(r, results));
            if (same is not null) results = results with { Context = same.Context with { Created = results.Context.Created } };
            ReportWriter.Write(dir, results, e);
            log.WriteLine($"{e.Id}: computed {Path.Combine(dir, ReportBuilder.ReportFile)} (pure math{(same is null ? "" : $"; the numbers of commit {same.Context.Commit}, which it keeps")})");
        }
        var left = new List<(string Id, int Missing)>();
        foreach (var plan in plans)
        {
            var missing = TrainingResults.Missing(plan, settings);
            if (missing.Count == 0)
            {
                Render(plan, settings, context, o.Out, log);
                continue;
            }
            // No runs here: the run records of a stored report of the same runs (the committed reports carry theirs).
            var sources = RecordRoots(o).Select(root => ReportDirectory(root, plan.Experiment)).Where(d => Directory.Exists(RunRecords.In(d)))
                .Select(d => (Dir: d, Missing: RunRecords.Missing(plan, d))).ToList();
            if (sources.FirstOrDefault(x => x.Missing.Count == 0).Dir is { } source)
            {
                RenderFromRecords(plan, source, settings, context, o.Out, log);
                continue;
            }
            // Runs here and records elsewhere (another artifact's report, or records/): what each run is found as.
            var problems = new List<string>();
            var fromRecords = Pool(o).Serving([plan], settings, problems.Add);
            if (fromRecords.Count > 0 && TrainingResults.Missing(plan, settings, fromRecords).Count == 0)
            {
                Render(plan, settings, context, o.Out, log, fromRecords);
                continue;
            }
            // In part: every finished run (--interim), or the runs a stored interim report holds, rendered from its records.
            var why = plan.WhyNotInPart();
            if (interim && why is null)
            {
                var (part, state) = plan.Part(plan.Runs.Select(r => r.Folder).Where(f => RunExecutor.IsComplete(f) || fromRecords.ContainsKey(f)).ToHashSet(StringComparer.Ordinal));
                if (part.Runs.Count > 0)
                {
                    Render(part, settings, context, o.Out, log, fromRecords, state);
                    foreach (var line in TrainingResults.Missing(plan, settings, fromRecords)) log.WriteLine($"not in the interim report: {line}");
                    continue;
                }
            }
            if (!interim && why is null && StoredInterim(plan, sources.Select(x => x.Dir)) is { } stored)
            {
                RenderFromRecords(stored.Part, stored.Dir, settings, context, o.Out, log, stored.Interim);
                log.WriteLine($"{plan.Experiment.Id}: rendered as its stored interim report was; `report {plan.Experiment.Id} --interim` takes every run finished since");
                continue;
            }
            if (interim) log.WriteLine($"{plan.Experiment.Id}: not rendered in part: {why ?? $"none of its {plan.Runs.Count} runs has finished"}");
            foreach (var line in missing) log.WriteLine($"missing: {line}");
            foreach (var line in sources.SelectMany(x => x.Missing)) log.WriteLine($"records: {line}");
            foreach (var line in problems) log.WriteLine($"records: {line}");
            left.Add((plan.Experiment.Id, missing.Count));
        }
        indexRoot ??= experiments.Count > 0 ? o.Out : null;
        if (indexRoot is not null)
        {
            WriteProfiles(indexRoot, log, o);
            ReportIndex.Write(indexRoot, o.Experiments, r => PlannedNow(r, o));
            log.WriteLine($"index: {Path.Combine(indexRoot, ReportIndex.FileName)}");
        }
        if (left.Count > 0) log.WriteLine(NotRendered(left, settings));
        if (experiments.Count > 0) log.WriteLine(Written(o.Out));
        return strict && left.Count > 0 ? 1 : 0;
    }

    /// <summary>
    /// The first stored interim report among <paramref name="dirs"/> whose runs are all among the plan's and whose records
    /// hold every one of them: the plan cut to those runs, and the report's interim state recomputed against the plan.
    /// </summary>
    static (string Dir, ArtifactPlan Part, InterimState Interim)? StoredInterim(ArtifactPlan plan, IEnumerable<string> dirs)
    {
        foreach (var dir in dirs)
        {
            if (StoredResults(dir) is not { Interim: not null } stored) continue;
            var held = stored.Runs.Select(r => r.Folder).ToHashSet(StringComparer.Ordinal);
            var (part, state) = plan.Part(plan.Runs.Select(r => r.Folder).Where(f => held.Contains(Path.GetFileName(f))).ToHashSet(StringComparer.Ordinal));
            if (part.Runs.Count == stored.Runs.Count && part.Runs.Count > 0 && RunRecords.Missing(part, dir).Count == 0) return (dir, part, state);
        }
        return null;
    }

    /// <summary>One line for the artifacts <c>report</c> left out: which, how much is missing, and what finds a run.</summary>
    static string NotRendered(IReadOnlyList<(string Id, int Missing)> left, RunSettings settings)
    {
        int n = left.Sum(x => x.Missing);
        return $"not rendered: {string.Join(", ", left.Select(x => $"{x.Id} ({x.Missing} missing)"))}; {n} run{(n == 1 ? "" : "s")} or result{(n == 1 ? " is" : "s are")} " +
               $"missing under {settings.Runs} (listed above). A run is found by its key: the scale, --seeds, --set and --corpus must be those " +
               "that trained it (the thread count is not part of it). Train what is missing with `reproduce` (every shard), or point --runs at the folder that holds the runs";
    }

    /// <summary>
    /// The performance profile of every scale that has training reports under <paramref name="root"/> (each report's
    /// results.json, brought up to date), written beside the index that links it.
    /// </summary>
    /// <summary>
    /// The performance profile of each scale over the training reports under <paramref name="root"/>: those whose runs are
    /// the ones this checkout plans now (<see cref="PlannedNow"/>) when there are any, so that no profile mixes a scale's
    /// earlier definition with its current one; otherwise over the reports there are (all of an earlier definition, as the
    /// index marks them).
    /// </summary>
    static void WriteProfiles(string root, TextWriter log, ReproduceOptions o)
    {
        if (!Directory.Exists(root)) return;
        var results = new List<ArtifactResults>();
        foreach (var file in Directory.GetDirectories(root).SelectMany(Directory.GetDirectories).Select(d => Path.Combine(d, ArtifactResults.FileName)).Where(File.Exists))
        {
            try { results.Add(ResultsUpgrade.ToCurrent(ArtifactResults.FromJson(File.ReadAllText(file)))); }
            catch (Exception e) when (e is JsonException or InvalidOperationException) { log.WriteLine($"warning: {file} left out of the performance profile: {e.Message}"); }
        }
        foreach (var scale in results.Select(r => r.Context.Scale).Distinct())
        {
            var (over, leftOut) = ProfileReports(results.Where(r => r.Context.Scale == scale).ToList(), r => PlannedNow(r, o) == true);
            if (leftOut.Count > 0)
                log.WriteLine($"profile {scale}: over the {over.Count} report(s) whose runs are planned now, leaving out {string.Join(", ", leftOut.Select(r => r.Id))} (an earlier definition of the scale)");
            if (PerformanceProfiles.Compute(over, scale) is not { } profile) continue;
            ProfileReport.Write(root, profile);
            log.WriteLine($"profile: {Path.Combine(root, ProfileReport.FileStem(scale))}.png ({profile.Pairs.Count} pairs)");
        }
    }

    /// <summary>
    /// The training reports a scale's profile is drawn over: those <paramref name="current"/> says are planned now when
    /// any are, else all of them; and the ones left out.
    /// </summary>
    public static (IReadOnlyList<ArtifactResults> Over, IReadOnlyList<ArtifactResults> LeftOut) ProfileReports(IReadOnlyList<ArtifactResults> reports, Func<ArtifactResults, bool> current)
    {
        var training = reports.Where(r => r.Runs.Count > 0).ToList();
        var now = training.Where(current).ToList();
        return now.Count > 0 ? (now, training.Except(now).ToList()) : (training, []);
    }

    /// <summary>Every definition with what it reproduces, what it needs and its estimated time at each scale; all are validated at every scale.</summary>
    public static IReadOnlyList<ListEntry> List(string experimentsDir)
    {
        return ExperimentLoader.Ids(experimentsDir).Select(id =>
        {
            var atScale = Scales.Load(experimentsDir).Names.ToDictionary(s => s, s => ExperimentLoader.Load(experimentsDir, id, s));
            var cpu = atScale["cpu"];
            var needs = !cpu.NeedsTraining ? "pure math"
                : cpu.Runs.Count == 0 ? "trained models"
                : $"{cpu.Runs.Count} run{(cpu.Runs.Count == 1 ? "" : "s")} x {cpu.Seeds} seed{(cpu.Seeds == 1 ? "" : "s")}";
            return new ListEntry(id, cpu.Reproduces, needs, atScale.ToDictionary(kv => kv.Key, kv => TimeEstimate.Format(TimeEstimate.Training(kv.Value))));
        }).ToList();
    }

    static ArtifactResults ReadResults(string dir)
    {
        var file = Path.Combine(dir, ArtifactResults.FileName);
        if (!File.Exists(file))
            throw new UsageException($"report: '{dir}' has no {ArtifactResults.FileName} (reports are re-rendered from stored results only)");
        try
        {
            var results = ArtifactResults.FromJson(File.ReadAllText(file));
            if (results.Version is < 1 or > ArtifactResults.CurrentVersion)
                throw new UsageException($"{file}: results version {results.Version}, this build reads versions 1 to {ArtifactResults.CurrentVersion}");
            return ResultsUpgrade.ToCurrent(results);   // an older file is brought up to date from what it stores; nothing is retrained
        }
        catch (JsonException e)
        {
            throw new UsageException($"{file}: not readable as results: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>The results of the report in <paramref name="dir"/>, or null when there is none this build can read.</summary>
    static ArtifactResults? StoredResults(string dir)
    {
        try
        {
            var file = Path.Combine(dir, ArtifactResults.FileName);
            var results = File.Exists(file) ? ArtifactResults.FromJson(File.ReadAllText(file)) : null;
            return results?.Version is >= 1 and <= ArtifactResults.CurrentVersion ? ResultsUpgrade.ToCurrent(results) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The same results but for where and when they were computed.</summary>
    static bool SameNumbers(ArtifactResults a, ArtifactResults b) => (a with { Context = b.Context }).ToJson() == b.ToJson();

    static string? StoredFingerprint(string dir)
    {
        try
        {
            var file = Path.Combine(dir, ArtifactResults.FileName);
            return File.Exists(file) ? ArtifactResults.FromJson(File.ReadAllText(file)).Fingerprint : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
