using System.Text.Json.Nodes;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// Finished runs kept as records (<see cref="RunRecords"/>), which stand in for run folders so that a fresh clone trains
/// only what no record holds. Two places hold them: the committed reports (<c>reports/&lt;id&gt;/&lt;scale&gt;/runs/</c>, of
/// any artifact: a run shared between artifacts is one run, found by its folder name, which carries its key) and
/// <c>records/&lt;scale&gt;/</c>, where the <c>records</c> command keeps the finished runs of artifacts that are not rendered
/// yet (a long reproduction carried over several machines by git, weights never committed).
/// <para>
/// A record stands in for a planned run only when the run folder under --runs is not a finished run, the record is
/// whole (<see cref="RunRecords.Verify"/>), its manifest's run key is the planned run's, and every artifact that uses the
/// run reads nothing a record lacks: no probe (measured on weights) and no fine-tuning. A record that fails a check is
/// named with the reason and not used; the run trains instead.
/// </para>
/// </summary>
public sealed class RecordPool
{
    /// <summary>The folder of the checkout that keeps records of runs no committed report holds yet.</summary>
    public const string Folder = "records";

    readonly Dictionary<string, List<string>> candidates;
    readonly Dictionary<string, string?> checks = new(StringComparer.Ordinal);

    RecordPool(Dictionary<string, List<string>> candidates) => this.candidates = candidates;

    /// <summary>A pool with no records: every run trains.</summary>
    public static RecordPool Empty { get; } = new(new Dictionary<string, List<string>>(StringComparer.Ordinal));

    /// <summary>The records folder of the checkout whose definitions are in <paramref name="experiments"/>.</summary>
    public static string Kept(string experiments) => Path.Combine(Repository.RootOf(experiments), Folder);

    /// <summary>The folder under <paramref name="keptRoot"/> that holds the kept records of <paramref name="scale"/>.</summary>
    public static string KeptAt(string keptRoot, string scale) => Path.Combine(keptRoot, scale);

    /// <summary>
    /// Every record of <paramref name="scale"/> under the report roots (<c>&lt;root&gt;/&lt;id&gt;/&lt;scale&gt;/runs/&lt;run&gt;</c>) and the
    /// kept records (<c>&lt;keptRoot&gt;/&lt;scale&gt;/&lt;run&gt;</c>), in that order; nothing is read or verified until asked for.
    /// </summary>
    public static RecordPool Scan(IEnumerable<string> reportRoots, string? keptRoot, string scale)
    {
        var found = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        void Add(string recordsDir)
        {
            if (!Directory.Exists(recordsDir)) return;
            foreach (var dir in Directory.GetDirectories(recordsDir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(dir);
                if (!found.TryGetValue(name, out var list)) found[name] = list = [];
                if (!list.Contains(dir)) list.Add(dir);
            }
        }
        foreach (var root in reportRoots.Where(Directory.Exists).Select(Path.GetFullPath).Distinct())
        foreach (var report in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            Add(RunRecords.In(Path.Combine(report, scale)));
        if (keptRoot is not null) Add(KeptAt(Path.GetFullPath(keptRoot), scale));
        return new RecordPool(found);
    }

    /// <summary>
    /// The first whole record of <paramref name="run"/> (same folder name, same run key), or null. Each record found under
    /// the run's name that cannot be used is added to <paramref name="problems"/> with the reason.
    /// </summary>
    public string? Find(PlannedRun run, List<string>? problems = null)
    {
        var name = Path.GetFileName(run.Folder);
        if (!candidates.TryGetValue(name, out var dirs)) return null;
        foreach (var dir in dirs)
        {
            if (!checks.TryGetValue(dir, out var problem)) checks[dir] = problem = Check(dir, run.Spec.Key());
            if (problem is null) return dir;
            problems?.Add($"record {dir}: {problem}; not used");
        }
        return null;
    }

    /// <summary>Why the record in <paramref name="dir"/> cannot stand in for the run whose key is <paramref name="key"/>, or null.</summary>
    static string? Check(string dir, string key)
    {
        if (RunRecords.Verify(dir) is { } fault) return fault;
        string? recorded;
        try { recorded = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFiles.Manifest)))?["runKey"]?.GetValue<string>(); }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException) { recorded = null; }
        return recorded == key ? null : $"{RunFiles.Manifest}: run key {recorded ?? "(none)"}, not this run's {key}";
    }

    /// <summary>Whether <paramref name="plan"/> can read <paramref name="run"/> from a record: it probes no weights and fine-tunes nothing.</summary>
    public static bool CanServe(ArtifactPlan plan, PlannedRun run, RunSettings settings)
        => plan.Experiment.Definition.Probe is null && !JobRunner.Finetunes(plan, run, settings).Any();

    /// <summary>
    /// The runs of <paramref name="plans"/> that records stand in for (run folder to record folder): each run whose folder
    /// under --runs is not a finished run, which every plan using it can read from a record, and which has a whole record.
    /// Records found but not usable are reported through <paramref name="log"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> Serving(IReadOnlyList<ArtifactPlan> plans, RunSettings settings, Action<string>? log = null)
    {
        var serving = new Dictionary<string, string>(StringComparer.Ordinal);
        if (candidates.Count == 0) return serving;
        var uses = plans.SelectMany(p => p.Runs.Select(r => (Plan: p, Run: r))).GroupBy(x => x.Run.Folder, StringComparer.Ordinal);
        foreach (var use in uses)
        {
            var run = use.First().Run;
            if (!candidates.ContainsKey(Path.GetFileName(run.Folder)) || RunExecutor.IsComplete(run.Folder)) continue;
            if (!use.All(x => CanServe(x.Plan, x.Run, settings))) continue;
            var problems = new List<string>();
            if (Find(run, problems) is { } dir) serving[run.Folder] = dir;
            foreach (var line in problems) log?.Invoke($"{Path.GetFileName(run.Folder)}: {line}");
        }
        return serving;
    }
}
