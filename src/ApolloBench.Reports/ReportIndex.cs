using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Reports;

/// <summary>
/// Writes <c>README.md</c> in a reports root: one row per rendered report (<c>id/scale/</c>) naming
/// scale, device, seeds and commit, then the definitions that have no report yet, then a link to each other
/// markdown file in the root (performance.md, reliability.md, scales.md: reports about the suite, not the paper).
/// </summary>
public static class ReportIndex
{
    public const string FileName = "README.md";

    /// <param name="current">
    /// Whether a training report's runs are the ones this checkout's definitions and scales plan now (true), are not (an
    /// earlier scale, or other options: false), or cannot be told (null); pure-math reports are not asked. Without it the
    /// index does not say.
    /// </param>
    public static void Write(string root, string experimentsDir, Func<ArtifactResults, bool?>? current = null)
    {
        var reports = new List<(string Dir, ArtifactResults Results, string Title, string Reproduces, JsonObject Json)>();
        if (Directory.Exists(root))
        {
            foreach (var idDir in Directory.GetDirectories(root))
            foreach (var scaleDir in Directory.GetDirectories(idDir))
            {
                if (Path.GetFileName(scaleDir).Contains(".tmp-") || Path.GetFileName(scaleDir).Contains(".old-")) continue; // a write in progress or killed
                var file = Path.Combine(scaleDir, ArtifactResults.FileName);
                if (!File.Exists(file)) continue;
                try
                {
                    var text = File.ReadAllText(file);
                    var r = ArtifactResults.FromJson(text);
                    var title = r.Definition["title"]?.GetValue<string>() ?? r.Id;
                    var reproduces = r.Definition["reproduces"]?.GetValue<string>() ?? "";
                    reports.Add((Path.GetRelativePath(root, scaleDir).Replace('\\', '/'), r, title, reproduces, JsonNode.Parse(text)!.AsObject()));
                }
                catch (JsonException) { /* not ours or broken: not indexed */ }
            }
        }
        var scaleOrder = ExperimentIds.ScaleNames(experimentsDir);
        reports = reports.OrderBy(x => ExperimentIds.IndexOf(experimentsDir, x.Results.Id)).ThenBy(x => x.Results.Id, StringComparer.Ordinal)
            .ThenBy(x => scaleOrder.IndexOf(x.Results.Context.Scale)).ToList();

        var md = new StringBuilder();
        md.AppendLine("# reports/").AppendLine();
        md.AppendLine("Rendered reports of the paper's tables and figures, one folder per artifact and scale (`<id>/<scale>/`):");
        md.AppendLine("`report.md` sets the paper's numbers beside the reproduced ones, `results.json` holds everything the report");
        md.AppendLine("shows, figures are PNG and data CSV; a training report keeps its runs' records in `runs/` (manifest, every step's");
        md.AppendLine("curve, growth, ledger, fine-tuning results). Regenerate one with");
        md.AppendLine("`dotnet run --project src/ApolloBench.Cli -c Release -- reproduce <id> --scale <scale> --out reports`, re-render it");
        md.AppendLine("from its stored results with `... -- report reports/<id>/<scale>`, or recompute it from the run records (no training)");
        md.AppendLine("with `... -- report <id> --scale <scale> --out DIR`. This file is generated.").AppendLine();
        // Asked once per report (it plans the artifact anew): pure-math reports have no runs to ask about.
        var plannedNow = reports.ToDictionary(x => x.Dir, x => x.Results.Runs.Count == 0 ? null : current?.Invoke(x.Results));
        string Planned(string dir, ArtifactResults r) => r.Runs.Count == 0 ? "-" : plannedNow[dir] switch
        {
            true => "yes",
            false => "**no**: an earlier scale or other options",
            null => "?",
        } + (r.Interim is { } interim ? $"; **interim**: {interim.Finished} of {interim.PlannedRuns} runs" : "");
        string[] columns = current is null
            ? ["artifact", "reproduces", "scale", "device", "seeds", "commit", "report"]
            : ["artifact", "reproduces", "scale", "runs as planned now", "device", "seeds", "commit", "report"];
        md.Append(ReportBuilder.Table(columns, reports.Select(x => new[]
            {
                x.Results.Id, x.Reproduces, x.Results.Context.Scale, current is null ? null : Planned(x.Dir, x.Results), x.Results.Context.Device, x.Results.Context.Seeds,
                x.Results.Context.Commit, $"[{x.Dir}/report.md]({x.Dir}/report.md)",
            }.OfType<string>().ToArray())));
        if (plannedNow.Values.Any(v => v == false))
            md.AppendLine().AppendLine("\"Runs as planned now\": whether a training report's runs (their keys) are the ones this checkout's definitions and " +
                                       "`experiments/scales.json` plan today; **no** marks a report made at an earlier definition of its scale (or with " +
                                       "other options), whose numbers are that scale's, not the current one's.");

        var headlines = reports.SelectMany(x => HeadlineRows(x.Results, x.Json, $"{x.Dir}/report.md", plannedNow[x.Dir] == false)).ToList();
        if (headlines.Count > 0)
        {
            md.AppendLine().AppendLine("Headline numbers, read from each report's results.json: every method's saving of training FLOPs to Scratch's held-out loss " +
                                       "at the end of Scratch's budget (over the seeds: the mean and its 95% interval when every seed reached it, else the median " +
                                       "with the seeds that did not ranked last), its final held-out loss minus Scratch's of the same seed (the mean and its 95% " +
                                       "interval from two seeds), beside the paper's saving to its own target, Scratch's training loss; for a wall-time artifact " +
                                       "(the paper gives wall-time savings only, as Figure 6b), the wall-time saving beside the paper's, marked \"wall time\". " +
                                       "A reduced scale's number is that scale's, not the paper's.").AppendLine();
            md.Append(ReportBuilder.Table(HeadlineColumns, headlines));
        }
        // The README shows the reports whose runs are the ones planned now (an earlier scale's stay in this index only).
        WriteReadmeHeadline(root, experimentsDir, reports.Where(x => plannedNow[x.Dir] != false)
            .SelectMany(x => HeadlineRows(x.Results, x.Json, $"reports/{x.Dir}/report.md", earlier: false)).ToList());

        var profiles = reports.Select(x => x.Results.Context.Scale).Distinct().Where(scale => File.Exists(Path.Combine(root, ProfileReport.FileStem(scale) + ".png"))).ToList();
        if (profiles.Count > 0)
        {
            md.AppendLine().AppendLine("Performance profiles (AlgoPerf's form, over the training reports of a scale whose runs are planned now, or over all of them when none are): for each method, the fraction of " +
                                       "(workload, held-out target) pairs it reaches within tau x the FLOPs of the best method on that pair, tau from 1 to 4:").AppendLine();
            foreach (var scale in profiles)
            {
                var stem = ProfileReport.FileStem(scale);
                md.AppendLine($"- scale {scale}: [{stem}.png]({stem}.png), data [{stem}.csv]({stem}.csv), every pair [{stem}-pairs.csv]({stem}-pairs.csv)");
            }
        }

        var missing = ExperimentIds.All(experimentsDir).Where(id => reports.All(x => x.Results.Id != id)).ToList();
        if (missing.Count > 0)
        {
            md.AppendLine().AppendLine("Not reproduced yet:").AppendLine();
            md.Append(ReportBuilder.Table(["artifact", "reproduces", "needs"], missing.Select(id =>
            {
                try
                {
                    var e = ExperimentLoader.Load(experimentsDir, id, "cpu");
                    return new[]
                    {
                        id, e.Reproduces,
                        e.NeedsTraining ? $"training runs: `reproduce {id}` (about {TimeEstimate.Format(TimeEstimate.Training(e)).TrimStart('~')} of training at cpu scale)" : $"pure math: `reproduce {id}`",
                    };
                }
                catch (Core.UsageException ex)
                {
                    return new[] { id, "", "its definition does not validate: " + ex.Message };
                }
            })));
        }
        var others = Directory.Exists(root)
            ? Directory.GetFiles(root, "*.md").Select(Path.GetFileName).OfType<string>().Where(n => n != FileName).Order(StringComparer.Ordinal).ToList()
            : [];
        if (others.Count > 0)
        {
            md.AppendLine().AppendLine("Reports about the suite itself:").AppendLine();
            foreach (var name in others)
            {
                var title = File.ReadLines(Path.Combine(root, name)).FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim();
                md.AppendLine($"- [{name}]({name}){(title is null ? "" : $": {title}")}");
            }
        }
        Directory.CreateDirectory(root);
        RunFiles.Atomic(Path.Combine(root, FileName), path => File.WriteAllText(path, md.ToString().ReplaceLineEndings("\n")));
    }

    static readonly string[] HeadlineColumns = ["artifact", "scale", "seeds", "run", "FLOPs saving (held-out)", "final held-out minus Scratch's", "paper (training loss)"];

    /// <summary>The markers of the repository README's generated headline table (<see cref="WriteReadmeHeadline"/>).</summary>
    public const string ReadmeBegin = "<!-- headline table: begin (written by `report --index reports` from the committed reports; do not edit by hand) -->",
        ReadmeEnd = "<!-- headline table: end -->";

    /// <summary>
    /// When <paramref name="root"/> is the repository's own reports/ folder (beside <paramref name="experimentsDir"/>) and the
    /// repository's README.md has the headline markers, the table between them is replaced by the headline rows of the
    /// reports whose runs are planned now, so the README's results overview is always the committed reports' numbers. Any
    /// other root leaves the README alone.
    /// </summary>
    static void WriteReadmeHeadline(string root, string experimentsDir, IReadOnlyList<string[]> rows)
    {
        var repository = Path.GetDirectoryName(Path.GetFullPath(experimentsDir).TrimEnd(Path.DirectorySeparatorChar));
        if (repository is null || Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar) != Path.Combine(repository, "reports")) return;
        var readme = Path.Combine(repository, "README.md");
        if (!File.Exists(readme)) return;
        var text = File.ReadAllText(readme);
        int from = text.IndexOf(ReadmeBegin, StringComparison.Ordinal), to = text.IndexOf(ReadmeEnd, StringComparison.Ordinal);
        if (from < 0 || to < from) return;
        var section = ReadmeBegin + "\n" + (rows.Count == 0 ? "No committed report has a headline number yet.\n" : ReportBuilder.Table(HeadlineColumns, rows)) + ReadmeEnd;
        var updated = text[..from] + section + text[(to + ReadmeEnd.Length)..];
        if (updated != text) RunFiles.Atomic(readme, path => File.WriteAllText(path, updated.ReplaceLineEndings("\n")));
    }

    /// <summary>
    /// One row per run of the report's first savings list (the held-out one), with the run's final held-out loss minus the
    /// target reference's of the same seed (mean and 95% interval over seeds; "-" for a row that is not a run of its own,
    /// such as a small model's cost) and the paper's number from its training-loss list.
    /// </summary>
    static IEnumerable<string[]> HeadlineRows(ArtifactResults results, JsonObject json, string link, bool earlier)
    {
        if (Headline.Leading(json) is not { } lead) return BudgetHeadlineRows(results, link, earlier);
        var finals = Headline.FinalGaps(results);
        int seeds = results.Runs.Select(r => r.Seed).Distinct().Count();
        return lead.List.Rows.Select(row => new[]
        {
            $"[{results.Id}]({link})", earlier ? $"{results.Context.Scale} (**earlier**)" : results.Context.Scale, seeds.ToString(System.Globalization.CultureInfo.InvariantCulture), row.Label,
            Headline.LeadValue(lead, row), finals.GetValueOrDefault(row.Label, "-"),
            lead.Paper.GetValueOrDefault(row.Label, "-") is var p && lead.Wall && p.EndsWith('%') ? $"wall time: {p}" : p,
        });
    }

    /// <summary>
    /// A saving-vs-budget report's rows: one per method run (model and budget), its saving to Scratch's final held-out loss
    /// of the same budget and its final held-out loss minus that Scratch's, over seeds; an interim report says so beside its scale.
    /// </summary>
    static IEnumerable<string[]> BudgetHeadlineRows(ArtifactResults results, string link, bool earlier)
    {
        var seeds = results.Runs.Select(r => r.Seed).Distinct().Count().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var scale = results.Context.Scale + (earlier ? " (**earlier**)" : "") +
                    (results.Interim is { } interim ? $" (**interim**: {interim.Finished} of {interim.PlannedRuns} runs)" : "");
        return Headline.BudgetRows(results).Select(x => new[] { $"[{results.Id}]({link})", scale, seeds, x.Run, x.Saving, x.Gap, x.Paper });
    }

    /// <summary>The definition ids and scale names, if the experiments folder is there (the index can be built without it).</summary>
    static class ExperimentIds
    {
        public static IReadOnlyList<string> All(string dir) => Directory.Exists(dir) ? ExperimentLoader.Ids(dir) : [];

        public static List<string> ScaleNames(string dir)
            => File.Exists(Path.Combine(dir, Scales.FileName)) ? Scales.Load(dir).Names.ToList() : [];

        public static int IndexOf(string dir, string id)
        {
            int i = All(dir).ToList().IndexOf(id);
            return i < 0 ? int.MaxValue : i;
        }
    }
}
