using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Experiments;
using Markdig;

namespace ApolloBench.Reports;

/// <summary>
/// The published reports as a static site (<c>publish</c>): <c>index.html</c> lists every artifact with its status and
/// headline numbers, and each rendered report gets <c>&lt;id&gt;/&lt;scale&gt;/index.html</c> with its figures, its
/// paper-vs-reproduced tables (the report's own markdown), where and how the numbers were made (scale, device, seeds,
/// commit, TorchSharp, CPU/GPU) and its data to download: results.json, the CSV tables, and every run's records
/// decompressed (<see cref="RunRecords"/>). Plain HTML and one small stylesheet, no script. Like every report, a
/// function of stored results: it computes no number. Savings are read from results.json as JSON, whatever savings
/// lists and summaries it holds, so a field added to the results appears without a change here.
/// </summary>
public static class Site
{
    public const string PageFile = "index.html", StyleFile = "style.css";

    /// <summary>Marks a folder as a site this command wrote, so it may be replaced.</summary>
    const string Generator = "ApolloBench publish";

    const string PaperUrl = "https://arxiv.org/abs/2401.09192";

    static readonly MarkdownPipeline Markdown = new MarkdownPipelineBuilder().UsePipeTables().Build();

    /// <summary>A report the site shows: where it is, its results typed (facts) and as JSON (numbers).</summary>
    sealed record Published(string Id, string Scale, string Dir, ArtifactResults Results, JsonObject Json)
    {
        public string Path => $"{Id}/{Scale}/";
        public string Title => Results.Definition["title"]?.GetValue<string>() ?? Id;
        public string Reproduces => Results.Definition["reproduces"]?.GetValue<string>() ?? "";
    }

    /// <summary>An artifact of the definitions with no report in any root.</summary>
    sealed record Unpublished(string Id, string Reproduces, string Needs);

    /// <summary>Refuses a destination that exists and is not a site written by <c>publish</c> (it is replaced wholesale).</summary>
    public static void CheckDestination(string dir)
    {
        if (File.Exists(dir)) throw new UsageException($"--out: '{dir}' is a file, not a folder");
        if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any()) return;
        var index = System.IO.Path.Combine(dir, PageFile);
        if (!File.Exists(index) || !File.ReadAllText(index).Contains($"<meta name=\"generator\" content=\"{Generator}\">", StringComparison.Ordinal))
            throw new UsageException($"--out: '{dir}' exists and is not a site written by publish (no {PageFile} of ours); choose a new or empty folder");
    }

    /// <summary>
    /// Writes the site of the reports under <paramref name="roots"/> (<c>&lt;root&gt;/&lt;id&gt;/&lt;scale&gt;/results.json</c>;
    /// a later root's report of the same artifact and scale wins) into <paramref name="outDir"/>, listing the artifacts of
    /// <paramref name="experimentsDir"/> that have none. Returns the pages written, relative to the site.
    /// </summary>
    public static IReadOnlyList<string> Write(string outDir, IReadOnlyList<string> roots, string? experimentsDir)
    {
        CheckDestination(outDir);
        var reports = Collect(roots);
        var ids = experimentsDir is not null && Directory.Exists(experimentsDir) ? ExperimentLoader.Ids(experimentsDir) : [];
        var order = ids.Concat(reports.Select(r => r.Id)).Distinct().ToList();
        reports = reports.OrderBy(r => order.IndexOf(r.Id)).ThenBy(r => r.Scale, StringComparer.Ordinal).ToList();
        var unpublished = ids.Where(id => reports.All(r => r.Id != id)).Select(id => Describe(experimentsDir!, id)).ToList();
        var pages = new List<string> { PageFile };
        ReportWriter.ReplaceDirectory(outDir, tmp =>
        {
            File.WriteAllText(System.IO.Path.Combine(tmp, StyleFile), Style);
            foreach (var report in reports) pages.Add(WriteReport(tmp, report));
            File.WriteAllText(System.IO.Path.Combine(tmp, PageFile), Index(reports, unpublished, order));
        });
        return pages;
    }

    static List<Published> Collect(IReadOnlyList<string> roots)
    {
        var byKey = new Dictionary<(string, string), Published>();
        foreach (var root in roots)
        {
            if (!Directory.Exists(root)) throw new UsageException($"--reports: folder '{root}' not found");
            foreach (var idDir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            foreach (var scaleDir in Directory.GetDirectories(idDir).Order(StringComparer.Ordinal))
            {
                var name = System.IO.Path.GetFileName(scaleDir);
                if (name.Contains(".tmp-", StringComparison.Ordinal) || name.Contains(".old-", StringComparison.Ordinal)) continue;
                var file = System.IO.Path.Combine(scaleDir, ArtifactResults.FileName);
                if (!File.Exists(file)) continue;
                try
                {
                    var text = File.ReadAllText(file);
                    var results = ArtifactResults.FromJson(text);
                    byKey[(results.Id, results.Context.Scale)] = new Published(results.Id, results.Context.Scale, scaleDir, results, JsonNode.Parse(text)!.AsObject());
                }
                catch (JsonException)
                {
                    // not ours, or from a version this build cannot read: not published
                }
            }
        }
        return byKey.Values.ToList();
    }

    static Unpublished Describe(string experimentsDir, string id)
    {
        try
        {
            var e = ExperimentLoader.Load(experimentsDir, id, "cpu");
            return new Unpublished(id, e.Reproduces, e.NeedsTraining ? $"training runs: reproduce {id}" : $"pure math: reproduce {id}");
        }
        catch (UsageException ex)
        {
            return new Unpublished(id, "", "its definition does not validate: " + ex.Message);
        }
    }

    // ---- one report -------------------------------------------------------------------------

    /// <summary>Copies the report's files, unpacks its run records and writes its page; returns the page's path in the site.</summary>
    static string WriteReport(string site, Published r)
    {
        var dir = System.IO.Path.Combine(site, r.Id, r.Scale);
        Directory.CreateDirectory(dir);
        foreach (var file in Directory.GetFiles(r.Dir).Order(StringComparer.Ordinal))
            File.Copy(file, System.IO.Path.Combine(dir, System.IO.Path.GetFileName(file)));
        var records = new List<(string Run, string? Problem, IReadOnlyList<string> Files, JsonObject? Environment)>();
        var recordsDir = RunRecords.In(r.Dir);
        if (Directory.Exists(recordsDir))
        {
            foreach (var record in Directory.GetDirectories(recordsDir).Order(StringComparer.Ordinal))
            {
                var run = System.IO.Path.GetFileName(record);
                var problem = RunRecords.Verify(record);
                var files = problem is null ? RunRecords.Extract(record, System.IO.Path.Combine(dir, RunRecords.Folder, run)) : [];
                JsonObject? environment = null;
                if (problem is null)
                    environment = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(record, Training.RunFiles.Manifest)))?["environment"] as JsonObject;
                records.Add((run, problem, files, environment));
            }
        }
        File.WriteAllText(System.IO.Path.Combine(dir, PageFile), Page(r, records));
        return r.Path + PageFile;
    }

    static string Page(Published r, IReadOnlyList<(string Run, string? Problem, IReadOnlyList<string> Files, JsonObject? Environment)> records)
    {
        var c = r.Results.Context;
        var html = new StringBuilder();
        Head(html, $"{r.Id} ({r.Scale}): {r.Title}", "../../");
        html.AppendLine($"<h1>{E(r.Id)} at scale {E(r.Scale)}: {E(r.Title)}</h1>");
        html.AppendLine($"<p>Reproduces {E(r.Reproduces)} of <a href=\"{PaperUrl}\">the Apollo paper</a>.</p>");

        var environments = records.Where(x => x.Environment is not null).Select(x => x.Environment!).ToList();
        string FromRuns(string key, string none) => environments.Count == 0 ? none
            : string.Join("; ", environments.Select(env => env[key]?.GetValue<string>() ?? "not recorded").Distinct());
        bool trained = r.Results.Runs.Count > 0;
        string noRecords = trained ? "not in this report's run records" : "none (exact computation, no training)";
        html.AppendLine("<h2 id=\"provenance\">Where these numbers come from</h2>");
        html.AppendLine("<table class=\"facts\"><tbody>");
        foreach (var (name, value) in new[]
                 {
                     ("scale", c.Scale), ("device", c.Device), ("seeds", c.Seeds), ("commit", c.Commit), ("machine", c.Machine),
                     ("TorchSharp", FromRuns("torchSharp", noRecords)), ("CPU", FromRuns("cpu", noRecords)),
                     ("GPU", environments.Count == 0 ? noRecords : string.Join("; ", environments.Select(env => env["gpu"]?.GetValue<string>() ?? "none").Distinct())),
                     ("computed", c.Created),
                 })
            html.AppendLine($"<tr><th scope=\"row\">{E(name)}</th><td>{E(value)}</td></tr>");
        html.AppendLine("</tbody></table>");

        var headlines = Headline.Lists(r.Json);
        if (headlines.Count > 0)
        {
            html.AppendLine("<h2 id=\"headline\">Headline numbers</h2>");
            foreach (var list in headlines)
            {
                html.AppendLine($"<p>{E(list.Title)} (over seeds: the mean and its 95% interval when every seed reached the target):</p>");
                html.AppendLine($"<table><thead><tr><th>run</th><th>paper</th>{string.Concat(list.Columns.Select(k => $"<th>{E(k)}</th>"))}</tr></thead><tbody>");
                foreach (var row in list.Rows)
                    html.AppendLine($"<tr><td>{E(row.Label)}</td><td>{E(row.Paper)}</td>{string.Concat(list.Columns.Select(k => $"<td>{E(row.Values.GetValueOrDefault(k, "-"))}</td>"))}</tr>");
                html.AppendLine("</tbody></table>");
            }
        }

        html.AppendLine("<h2 id=\"report\">The report</h2>");
        html.AppendLine("<div class=\"report\">");
        var markdownFile = System.IO.Path.Combine(r.Dir, ReportBuilder.ReportFile);
        var markdown = File.Exists(markdownFile) ? File.ReadAllText(markdownFile) : "";
        // The page has its own title: the report's first heading is left out, every other heading moves down a level.
        var body = string.Join("\n", markdown.Split('\n').SkipWhile(l => l.StartsWith("# ", StringComparison.Ordinal)).Select(l => l.StartsWith('#') ? "#" + l : l));
        html.AppendLine(Markdig.Markdown.ToHtml(body, Markdown).TrimEnd());
        html.AppendLine("</div>");

        html.AppendLine("<h2 id=\"data\">Data</h2>");
        html.AppendLine("<ul>");
        foreach (var file in Directory.GetFiles(r.Dir).Select(System.IO.Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)
                     .Where(f => f.EndsWith(".csv", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".md", StringComparison.Ordinal)))
            html.AppendLine($"<li><a href=\"{Href(file)}\">{E(file)}</a></li>");
        html.AppendLine("</ul>");
        if (trained)
        {
            html.AppendLine("<h3 id=\"records\">Run records</h3>");
            if (records.Count == 0)
                html.AppendLine("<p>This report carries no run records (it was rendered before reports kept them).</p>");
            else
            {
                html.AppendLine("<p>Every run's own files, verified against the seals of its manifest: every step's loss, FLOPs and seconds " +
                                "(curve.csv), growth events, the FLOPs ledger and fine-tuning results. <code>report " + E(r.Id) + " --scale " +
                                E(r.Scale) + "</code> in a clone recomputes this report from them.</p>");
                html.AppendLine("<table><thead><tr><th>run</th><th>files</th></tr></thead><tbody>");
                foreach (var (run, problem, files, _) in records)
                {
                    var cell = problem is not null
                        ? $"damaged, not published: {E(problem)}"
                        : string.Join(" ", files.Select(f => $"<a href=\"{Href($"{RunRecords.Folder}/{run}/{f}")}\">{E(f)}</a>"));
                    html.AppendLine($"<tr><td><code>{E(run)}</code></td><td>{cell}</td></tr>");
                }
                html.AppendLine("</tbody></table>");
            }
        }
        Foot(html);
        return html.ToString();
    }

    // ---- the index ----------------------------------------------------------------------------

    static string Index(IReadOnlyList<Published> reports, IReadOnlyList<Unpublished> unpublished, IReadOnlyList<string> order)
    {
        var html = new StringBuilder();
        Head(html, "ApolloBench: reproduction reports", "");
        html.AppendLine("<h1>ApolloBench: reproduction reports</h1>");
        html.AppendLine($"<p>Every table and figure of <a href=\"{PaperUrl}\">\"Preparing Lessons for Progressive Training on Language Models\"</a> " +
                        "(Apollo, AAAI 2024), reproduced by this suite. A reduced scale's numbers are the suite's, not the paper's; every report " +
                        "names its scale, device, seeds and commit, and sets the paper's numbers beside its own.</p>");
        html.AppendLine("<table class=\"index\"><thead><tr><th>artifact</th><th>reproduces</th><th>scale</th><th>status</th><th>headline: FLOPs saving to Scratch's final held-out loss (wall time where the paper gives only that), or what it holds</th></tr></thead><tbody>");
        foreach (var id in order)
        {
            foreach (var r in reports.Where(x => x.Id == id))
            {
                var c = r.Results.Context;
                var status = (r.Results.Interim is { } interim ? $"interim: {interim.Finished} of {interim.PlannedRuns} runs finished; " : "") +
                             $"reproduced on {c.Device}; seeds {c.Seeds}; commit {c.Commit}";
                html.AppendLine($"<tr><td><a href=\"{Href(r.Path + PageFile)}\">{E(r.Id)}</a></td><td>{E(r.Reproduces)}</td><td>{E(r.Scale)}</td>" +
                                $"<td>{E(status)}</td><td>{IndexHeadline(r)}</td></tr>");
            }
            foreach (var u in unpublished.Where(x => x.Id == id))
                html.AppendLine($"<tr class=\"missing\"><td>{E(u.Id)}</td><td>{E(u.Reproduces)}</td><td>-</td><td>not reproduced yet</td><td>{E(u.Needs)}</td></tr>");
        }
        html.AppendLine("</tbody></table>");
        html.AppendLine("<p>Headline savings are of training FLOPs (of wall time, marked so, where the paper reports only that) to Scratch's held-out loss at the end of its budget (where a report has no " +
                        "held-out savings, its first list of savings), over seeds with a 95% interval where there are several, each run's beside its final held-out loss " +
                        "minus Scratch's of the same seed (negative: it ends below Scratch). Each report page " +
                        "has the paper's measure beside it, its figures, tables and data, and the records of its runs.</p>");
        Foot(html);
        return html.ToString();
    }

    /// <summary>
    /// The first savings list at its last target: the FLOPs saving, or the wall-time saving marked as such where the paper
    /// gives only wall-time numbers (<see cref="Headline.Leading"/>, as the markdown index), each run's with its final
    /// held-out loss minus Scratch's (<see cref="Headline.FinalGaps"/>, so a "not reached" says by how much); or what a
    /// result without savings holds.
    /// </summary>
    static string IndexHeadline(Published r)
    {
        if (Headline.Leading(r.Json) is { } lead)
        {
            var gaps = Headline.FinalGaps(r.Results);
            return "<ul>" + string.Concat(lead.List.Rows.Select(row => $"<li>{E(row.Label)}: {E(Headline.LeadValue(lead, row))}" +
                (gaps.TryGetValue(row.Label, out var gap) ? $"; final held-out minus Scratch's {E(gap)}" : "") + "</li>")) + "</ul>";
        }
        if (r.Results.BudgetSavings.Count > 0)
            return "<ul>" + string.Concat(Headline.BudgetRows(r.Results).Select(x => $"<li>{E(x.Run)}: {E(x.Saving)}; final held-out minus Scratch's {E(x.Gap)}</li>")) + "</ul>";
        var counts = r.Json.Where(kv => kv.Value is JsonArray { Count: > 0 } && kv.Key != "curves" && kv.Key != "runs" && kv.Key != "dependencies")
            .Select(kv => $"{((JsonArray)kv.Value!).Count} {Headline.Words(kv.Key).ToLowerInvariant()}").ToList();
        return E(counts.Count == 0 ? "-" : string.Join(", ", counts));
    }

    // ---- html ---------------------------------------------------------------------------------

    static void Head(StringBuilder html, string title, string root)
    {
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\">");
        html.AppendLine("<head>");
        html.AppendLine("<meta charset=\"utf-8\">");
        html.AppendLine("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.AppendLine($"<meta name=\"generator\" content=\"{Generator}\">");
        html.AppendLine($"<title>{E(title)}</title>");
        html.AppendLine($"<link rel=\"stylesheet\" href=\"{root}{StyleFile}\">");
        html.AppendLine("</head>");
        html.AppendLine("<body>");
        html.AppendLine($"<header><a href=\"{root}{PageFile}\">ApolloBench</a> reports</header>");
        html.AppendLine("<main>");
    }

    static void Foot(StringBuilder html)
    {
        html.AppendLine("</main>");
        html.AppendLine("<footer>Generated by <code>publish</code> from the stored results; nothing on this site is the paper's number unless it says so.</footer>");
        html.AppendLine("</body>");
        html.AppendLine("</html>");
    }

    static string E(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A relative link to a file of the site, each path segment escaped.</summary>
    static string Href(string path) => string.Join("/", path.Split('/').Select(Uri.EscapeDataString));

    const string Style = """
        body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 0; color: #1b1b1b; background: #fff; line-height: 1.45; }
        header, footer { background: #f3f4f6; padding: 0.6rem 1.5rem; font-size: 0.9rem; }
        header a { font-weight: bold; color: #1b1b1b; text-decoration: none; }
        main { max-width: 72rem; padding: 0 1.5rem 2rem; margin: 0 auto; }
        h1 { font-size: 1.5rem; margin-top: 1.5rem; }
        h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
        h3 { font-size: 1.05rem; }
        table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
        th, td { border: 1px solid #d0d4da; padding: 0.3rem 0.55rem; text-align: left; vertical-align: top; }
        thead th { background: #f3f4f6; }
        table.facts th { background: #f8f9fa; font-weight: normal; color: #555; }
        table.index ul { margin: 0; padding-left: 1rem; }
        table.index td:nth-child(4) { font-size: 0.8rem; color: #444; max-width: 16rem; }
        table.index td:last-child { min-width: 20rem; }
        tr.missing td { color: #777; }
        img { max-width: 100%; height: auto; border: 1px solid #eee; }
        code { font-size: 0.85rem; background: #f5f5f5; padding: 0 0.2rem; }
        a { color: #0b57d0; }
        """;
}
