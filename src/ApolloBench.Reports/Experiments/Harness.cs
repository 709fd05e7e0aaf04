using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using ApolloBench.Core;
using ApolloBench.Reports;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary><c>--shard k/n</c>: this process takes jobs k-1, k-1+n, k-1+2n, ... of the job list (1-based k).</summary>
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

    public override string ToString() => $"{Index}/{Count}";
}

/// <summary>What <c>reproduce</c> was asked for.</summary>
public sealed record ReproduceOptions
{
    public string Experiments { get; init; } = ExperimentLoader.DefaultDirectory;
    public string Scale { get; init; } = "cpu";
    public int? Seeds { get; init; }
    public Shard Shard { get; init; } = Shard.All;
    public bool Resume { get; init; }

    /// <summary>The reports root: artifact <c>id</c> at scale <c>s</c> goes to <c>Out/id/s/</c>, the index to <c>Out/README.md</c>.</summary>
    public string Out { get; init; } = "reports";

    /// <summary><c>--set key=value</c> overrides of the definitions.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];
}

/// <summary>One line of <c>list</c>.</summary>
public sealed record ListEntry(string Id, string Reproduces, string Needs, IReadOnlyDictionary<string, string> Estimates);

/// <summary>
/// The experiment harness: <c>reproduce</c>, <c>report</c> and <c>list</c>. Every definition named is
/// loaded and validated, and every destination checked, before anything is computed or written.
/// Artifacts that need training are refused for now (training-driven reproduction comes later).
/// </summary>
public static class Harness
{
    /// <summary>The folder a report of <paramref name="e"/> goes to under the reports root.</summary>
    public static string ReportDirectory(string root, Experiment e) => Path.Combine(root, e.Id, e.Scale.Name);

    public static int Reproduce(string ids, ReproduceOptions o, TextWriter log)
    {
        // 1. Validate everything.
        var scale = Scale.Parse(o.Scale);
        if (o.Seeds is { } seeds && seeds is < 1 or > 1000) throw new UsageException($"--seeds: must be between 1 and 1000 (got {seeds})");
        if (File.Exists(o.Out)) throw new UsageException($"--out: '{o.Out}' is a file, not a folder");
        var selected = ids.Trim() == "all" ? ExperimentLoader.Ids(o.Experiments) : Csv.Names(ids);
        if (selected.Count == 0 || selected.Any(id => id.Length == 0))
            throw new UsageException($"reproduce: '{ids}' must be an experiment id, a comma-separated list of ids, or all");
        var overrides = o.Seeds is { } n ? [.. o.Overrides, $"seeds={n}"] : o.Overrides;
        var experiments = selected.Distinct().Select(id => ExperimentLoader.Load(o.Experiments, id, scale.Name, overrides)).ToList();
        var training = experiments.Where(e => e.NeedsTraining).ToList();
        if (training.Count == 1 && experiments.Count == 1)
            throw new UsageException($"{training[0].File}: needs training runs ({string.Join(", ", training[0].Runs.Keys)}); " +
                                     "training-driven reproduction is not implemented yet (`list` shows which artifacts are pure math)");
        if (training.Count > 0)
        {
            var pure = experiments.Where(e => !e.NeedsTraining).Select(e => e.Id).ToList();
            throw new UsageException($"reproduce: {string.Join(", ", training.Select(e => e.Id))} need training runs, and training-driven reproduction is not implemented yet" +
                                     (pure.Count > 0 ? $"; reproduce the pure-math ones with `reproduce {string.Join(",", pure)}`" : ""));
        }
        foreach (var e in experiments) ReportWriter.CheckDestination(ReportDirectory(o.Out, e));

        // 2. Compute and write, one artifact at a time.
        var context = new ReportContext
        {
            Scale = scale.Name,
            Device = "cpu (exact computation, no training)",
            Seeds = "",
            Commit = ReportEnvironment.Commit(),
            Machine = ReportEnvironment.Machine(),
            Created = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        if (!PlotRenderer.FontInstalled)
            log.WriteLine($"warning: font '{PlotRenderer.FontName}' is not installed, so figures will have no text (Debian/Ubuntu: apt-get install fonts-dejavu-core)");
        for (int job = 0; job < experiments.Count; job++)
        {
            var e = experiments[job];
            var dir = ReportDirectory(o.Out, e);
            if (!o.Shard.Owns(job))
            {
                log.WriteLine($"{e.Id}: skipped (shard {o.Shard} does not own job {job + 1} of {experiments.Count})");
                continue;
            }
            if (o.Resume && StoredFingerprint(dir) == e.Fingerprint())
            {
                log.WriteLine($"{e.Id}: kept {dir} (--resume: same definition and scale)");
                continue;
            }
            var clock = Stopwatch.StartNew();
            var results = PureMath.Compute(e, context with { Seeds = string.Join(", ", e.SeedValues) });
            ReportWriter.Write(dir, results, e);
            log.WriteLine($"{e.Id}: {e.Reproduces} -> {Path.Combine(dir, ReportBuilder.ReportFile)} ({clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)");
        }
        ReportIndex.Write(o.Out, o.Experiments);
        log.WriteLine($"index: {Path.Combine(o.Out, ReportIndex.FileName)}");
        return 0;
    }

    /// <summary>Re-renders report folders from their results.json; never computes or trains. All are read before any is written.</summary>
    public static int Report(IReadOnlyList<string> dirs, string? indexRoot, string experimentsDir, TextWriter log)
    {
        var loaded = dirs.Select(dir => (dir, results: ReadResults(dir))).ToList();
        var withExperiments = loaded.Select(x => (x.dir, x.results, experiment: ExperimentLoader.Parse(
            $"{Path.Combine(x.dir, ArtifactResults.FileName)} (definition)", x.results.Id, x.results.Definition.ToJsonString(), x.results.Context.Scale, []))).ToList();
        if (!PlotRenderer.FontInstalled)
            log.WriteLine($"warning: font '{PlotRenderer.FontName}' is not installed, so figures will have no text (Debian/Ubuntu: apt-get install fonts-dejavu-core)");
        foreach (var (dir, results, experiment) in withExperiments)
        {
            ReportWriter.Write(dir, results, experiment);
            log.WriteLine($"{results.Id}: re-rendered {Path.Combine(dir, ReportBuilder.ReportFile)} from {ArtifactResults.FileName}");
        }
        if (indexRoot is not null)
        {
            ReportIndex.Write(indexRoot, experimentsDir);
            log.WriteLine($"index: {Path.Combine(indexRoot, ReportIndex.FileName)}");
        }
        return 0;
    }

    /// <summary>Every definition with what it reproduces, what it needs and its estimated time at each scale; all are validated at every scale.</summary>
    public static IReadOnlyList<ListEntry> List(string experimentsDir)
    {
        return ExperimentLoader.Ids(experimentsDir).Select(id =>
        {
            var atScale = Scale.All.ToDictionary(s => s.Name, s => ExperimentLoader.Load(experimentsDir, id, s.Name));
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
            if (results.Version != ArtifactResults.CurrentVersion)
                throw new UsageException($"{file}: results version {results.Version}, this build reads version {ArtifactResults.CurrentVersion}");
            return results;
        }
        catch (JsonException e)
        {
            throw new UsageException($"{file}: not readable as results: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

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
