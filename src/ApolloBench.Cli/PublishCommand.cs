using System.CommandLine;
using ApolloBench.Experiments;
using ApolloBench.Reports;

namespace ApolloBench.Cli;

/// <summary>`publish`: the reports as a static site (<see cref="Site"/>), for GitHub Pages or any web server.</summary>
static class PublishCommand
{
    public static Command Build()
    {
        var output = new Option<string?>("--out") { Description = "site folder: index.html, style.css, <id>/<scale>/index.html (default: out/site of the checkout)" };
        var reports = new Option<string[]>("--reports") { Description = "reports roots to publish, repeatable; a later root's report of the same artifact and scale wins (default: reports/ of the checkout)" };
        var experiments = new Option<string?>("--experiments") { Description = "folder of experiment definitions: the artifacts listed as not reproduced yet (default: experiments/ of the checkout around the current folder)" };
        var cmd = new Command("publish", "Render the reports as a static site: an index of every artifact (status, headline numbers with intervals) and a page per report " +
                                         "(figures, paper-vs-reproduced tables, provenance, results and run records to download). No JavaScript.");
        foreach (var o in new Option[] { output, reports, experiments }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var dir = Repository.Experiments(p.GetValue(experiments));
            var roots = p.GetValue(reports) is { Length: > 0 } given ? given : [Repository.Reports(dir)];
            var site = p.GetValue(output) ?? Path.Combine(Repository.RootOf(dir), Repository.OutFolder, "site");
            var pages = Site.Write(site, roots, dir);
            Console.WriteLine($"site: {Path.Combine(Path.GetFullPath(site), Site.PageFile)} ({pages.Count} page{(pages.Count == 1 ? "" : "s")}, from {string.Join(", ", roots)})");
            return 0;
        });
        return cmd;
    }
}
