using System.Text.Json.Nodes;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;
using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Cli;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Reports;

/// <summary>
/// The published site (<c>publish</c>): every page parses as HTML5 without a single parse error (AngleSharp in strict
/// mode), every link and image resolves to a file of the site (or is an absolute web address), there is no script, the
/// index lists every artifact, and a report page names its provenance and offers its run records to download.
/// </summary>
[Collection("cli")]
public class SiteTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-site-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static readonly HtmlParser Strict = new(new HtmlParserOptions { IsStrictMode = true });

    /// <summary>Parses every page of the site and checks its links; returns the pages by their path in the site.</summary>
    static Dictionary<string, IHtmlDocument> ParseAndCheck(string site)
    {
        var pages = new Dictionary<string, IHtmlDocument>();
        foreach (var file in Directory.GetFiles(site, "*.html", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(site, file).Replace('\\', '/');
            IHtmlDocument page;
            try
            {
                page = Strict.ParseDocument(File.ReadAllText(file));
            }
            catch (HtmlParseException e)
            {
                throw new Xunit.Sdk.XunitException($"{name}: {e.Message} at line {e.Position.Line}, column {e.Position.Column}");
            }
            Assert.True(page.QuerySelector("title")?.TextContent.Length > 0, $"{name}: no title");
            Assert.Empty(page.QuerySelectorAll("script"));
            foreach (var element in page.QuerySelectorAll("a[href], img[src], link[href]"))
            {
                var target = element.GetAttribute(element.LocalName == "img" ? "src" : "href")!;
                if (target.StartsWith("https://", StringComparison.Ordinal)) continue;
                Assert.DoesNotContain("://", target);
                if (target.StartsWith('#'))
                {
                    Assert.True(page.GetElementById(target[1..]) is not null, $"{name}: no element {target}");
                    continue;
                }
                var path = Uri.UnescapeDataString(target.Split('#')[0].Split('?')[0]);
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, path));
                Assert.True(resolved.StartsWith(Path.GetFullPath(site) + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{name}: {target} leaves the site");
                Assert.True(File.Exists(resolved), $"{name}: {target} does not resolve ({resolved})");
                if (element.LocalName == "img") Assert.False(string.IsNullOrEmpty(element.GetAttribute("alt")), $"{name}: image {target} has no alt text");
            }
            pages[name] = page;
        }
        return pages;
    }

    static string Cell(IHtmlDocument page, string row)
        => page.QuerySelectorAll("table.facts tr").Single(tr => tr.QuerySelector("th")!.TextContent == row).QuerySelector("td")!.TextContent;

    [Fact]
    public void The_site_of_the_committed_reports_lists_every_artifact_and_every_page_parses_with_links_that_resolve()
    {
        var site = Path.Combine(root, "site");
        var pages = Site.Write(site, [Path.Combine(Repo.Root, "reports")], Repo.Experiments);
        var parsed = ParseAndCheck(site);
        Assert.Equal(pages.Order(StringComparer.Ordinal), parsed.Keys.Order(StringComparer.Ordinal));

        var index = parsed[Site.PageFile];
        var listed = index.QuerySelectorAll("table.index tbody tr").Select(tr => tr.QuerySelector("td")!.TextContent).ToHashSet();
        Assert.Superset(Repo.ArtifactIds.ToHashSet(), listed);
        foreach (var id in Directory.GetDirectories(Path.Combine(Repo.Root, "reports")).Select(Path.GetFileName))
        foreach (var scale in Directory.GetDirectories(Path.Combine(Repo.Root, "reports", id!)).Select(Path.GetFileName))
        {
            var page = parsed[$"{id}/{scale}/{Site.PageFile}"];
            var results = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(Repo.Root, "reports", id!, scale!, ArtifactResults.FileName)));
            Assert.Equal(results.Context.Commit, Cell(page, "commit"));
            Assert.Equal(results.Context.Seeds, Cell(page, "seeds"));
            Assert.Equal(scale, Cell(page, "scale"));
            foreach (var row in new[] { "device", "TorchSharp", "CPU", "GPU" }) Assert.NotEmpty(Cell(page, row));
            Assert.Equal(Directory.GetFiles(Path.Combine(Repo.Root, "reports", id!, scale!), "*.png").Length, page.QuerySelectorAll("img").Length);
            Assert.Contains(page.QuerySelectorAll("a"), a => a.GetAttribute("href") == ArtifactResults.FileName);
            Assert.Contains(index.QuerySelectorAll("a"), a => a.GetAttribute("href") == $"{id}/{scale}/{Site.PageFile}");
        }

        // publish replaces a site of its own, and refuses to replace anything else.
        Site.Write(site, [Path.Combine(Repo.Root, "reports")], Repo.Experiments);
        var other = Directory.CreateDirectory(Path.Combine(root, "notes")).FullName;
        File.WriteAllText(Path.Combine(other, "mine.txt"), "keep");
        var error = Assert.Throws<Core.UsageException>(() => Site.Write(other, [Path.Combine(Repo.Root, "reports")], Repo.Experiments));
        Assert.Contains("is not a site written by publish", error.Message);
        Assert.True(File.Exists(Path.Combine(other, "mine.txt")));
    }

    /// <summary>The text of the site index's table for one cpu report of <paramref name="id"/> whose results.json is <paramref name="json"/>.</summary>
    string SiteIndexOf(string id, string json)
    {
        var reports = Path.Combine(root, "reports");
        var dir = Directory.CreateDirectory(Path.Combine(reports, id, "cpu")).FullName;
        File.WriteAllText(Path.Combine(dir, ArtifactResults.FileName), json);
        File.WriteAllText(Path.Combine(dir, ReportBuilder.ReportFile), $"# {id}: test\n\nA report.\n");
        var site = Path.Combine(root, "site");
        Site.Write(site, [reports], Repo.Experiments);
        return ParseAndCheck(site)[Site.PageFile].QuerySelector("table.index")!.TextContent;
    }

    /// <summary>
    /// Figure 6b's paper numbers are wall-time savings only, so the site's index heads it with its own wall-time saving,
    /// marked as such (as the markdown index does), not with the FLOPs saving its results also hold.
    /// </summary>
    [Fact]
    public void A_wall_time_artifact_heads_the_site_index_with_its_wall_time_saving()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "reports", "fig6b", "cpu", ArtifactResults.FileName)))!.AsObject();
        var target = json["heldOutSavings"]!.AsArray().OfType<JsonObject>().Single(r => (string?)r["label"] == "bert2BERT")["targets"]!.AsArray().Last()!.AsObject();
        target["flops"] = new JsonObject { ["seeds"] = 3, ["reached"] = 3, ["value"] = 0.6, ["low"] = 0.5, ["high"] = 0.7, ["statistic"] = "mean", ["interval"] = "t" };
        target["wall"] = new JsonObject { ["seeds"] = 3, ["reached"] = 3, ["value"] = 0.25, ["low"] = 0.2, ["high"] = 0.3, ["statistic"] = "mean", ["interval"] = "t" };
        var index = SiteIndexOf("fig6b", json.ToJsonString());
        Assert.Contains("bert2BERT: wall time: 25.0% [20.0%, 30.0%] (t interval); final held-out minus Scratch's ", index);
        Assert.DoesNotContain("60.0% [50.0%, 70.0%]", index);

        // a run that never reaches the target says by how much it missed: its final held-out loss minus Scratch's of the
        // same seed, the mean over seeds computed here from the runs' final losses
        double Final(string label, long seed) => json["runs"]!.AsArray().OfType<JsonObject>()
            .Single(r => (string?)r["label"] == label && (long)r["seed"]! == seed)["finalValidLoss"]!.GetValue<double>();
        var seeds = json["runs"]!.AsArray().OfType<JsonObject>().Where(r => (string?)r["label"] == "Apollo").Select(r => (long)r["seed"]!).ToList();
        Assert.Equal(3, seeds.Count);
        var gap = seeds.Average(s => Final("Apollo", s) - Final("Scratch", s));
        Assert.Contains($"Apollo: wall time: not reached; final held-out minus Scratch's {gap.ToString("+0.000;-0.000", System.Globalization.CultureInfo.InvariantCulture)} [", index);
    }

    /// <summary>budget has no savings list to head with: the site's index gives one line per model and budget, and says when the report is interim.</summary>
    [Fact]
    public void A_budget_report_heads_the_site_index_with_each_model_and_budget_and_says_when_it_is_interim()
    {
        var results = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(Repo.Root, "reports", "budget", "cpu", ArtifactResults.FileName))) with
        {
            Interim = new InterimState(16, ["a (seed 42)", "b (seed 42)", "c (seed 42)", "d (seed 42)", "e (seed 42)", "f (seed 42)"]),
            BudgetSavings =
            [
                new BudgetSaving("bert-apollo-1x", "Apollo", "bert", "bert-scratch-1x", 1, 6000, 42, 5.5, 5.52, 0.1, null, 41.6),
                new BudgetSaving("gpt-apollo-2x", "Apollo", "gpt", "gpt-scratch-2x", 2, 4800, 42, 4.0, 3.9, 0.6, 0.25, 47.9),
            ],
        };
        var index = SiteIndexOf("budget", results.ToJson());
        Assert.Contains("interim: 10 of 16 runs finished; reproduced on ", index);
        Assert.Contains("Apollo, BERT 1x: not reached; final held-out minus Scratch's +0.020", index);
        Assert.Contains("Apollo, GPT 2x: 25.0% (n=1); final held-out minus Scratch's -0.100", index);
    }

    [Fact]
    public void Savings_are_shown_with_their_intervals_and_any_summary_the_results_hold()
    {
        // fig7's committed results, as if three seeds had reached the 100% target, with a summary no code here knows of.
        var reports = Path.Combine(root, "reports");
        var dir = Directory.CreateDirectory(Path.Combine(reports, "fig7", "cpu")).FullName;
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Repo.Root, "reports", "fig7", "cpu", ArtifactResults.FileName)))!.AsObject();
        var target = json["heldOutSavings"]![0]!["targets"]!.AsArray().Last()!.AsObject();
        target["flops"] = new JsonObject { ["seeds"] = 3, ["reached"] = 3, ["value"] = 0.416, ["low"] = 0.35, ["high"] = 0.482, ["statistic"] = "mean", ["interval"] = "t" };
        target["speedup"] = new JsonObject { ["seeds"] = 3, ["reached"] = 2, ["mean"] = 0.2, ["low"] = 0.1, ["high"] = 0.3 };
        File.WriteAllText(Path.Combine(dir, ArtifactResults.FileName), json.ToJsonString());
        File.WriteAllText(Path.Combine(dir, ReportBuilder.ReportFile), "# fig7: test\n\nA report.\n");

        var site = Path.Combine(root, "site");
        Site.Write(site, [reports], Repo.Experiments);
        var parsed = ParseAndCheck(site);
        var headline = parsed["fig7/cpu/index.html"].QuerySelectorAll("#headline ~ table").First();
        Assert.Equal(["run", "paper", "FLOPs saving", "wall-time saving", "speedup"], headline.QuerySelectorAll("thead th").Select(th => th.TextContent));
        var lvps = headline.QuerySelectorAll("tbody tr").First();
        Assert.Equal(["LVPS", "-", "41.6% [35.0%, 48.2%] (t interval)", "not reached", "20.0% [10.0%, 30.0%] (2 of 3 seeds)"],
            lvps.QuerySelectorAll("td").Select(td => td.TextContent));
        Assert.Contains("LVPS: 41.6% [35.0%, 48.2%] (t interval)", parsed[Site.PageFile].QuerySelector("table.index")!.TextContent);
        // The paper's measure follows, with the paper's number beside it.
        var paper = parsed["fig7/cpu/index.html"].QuerySelectorAll("#headline ~ table").Skip(1).First().QuerySelectorAll("tbody tr").First();
        Assert.Equal(["LVPS", "41.6%"], paper.QuerySelectorAll("td").Take(2).Select(td => td.TextContent));
        Assert.Contains(parsed[Site.PageFile].QuerySelectorAll("tr.missing td:first-child"), td => td.TextContent == "table4");
    }

    [Fact]
    public void A_report_with_run_records_offers_every_runs_files_and_names_the_hardware_and_TorchSharp_they_ran_on()
    {
        using var w = new HarnessWorkspace();
        var (code, output, error) = w.Cli("reproduce", "table3");
        Assert.True(code == 0, error + output);
        var site = Path.Combine(w.Root, "site");
        var cli = new StringWriter();
        var console = Console.Out;
        Console.SetOut(cli);
        try
        {
            Assert.Equal(0, CliApp.Run(["publish", "--out", site, "--reports", w.Out, "--experiments", Repo.Experiments]));
        }
        finally
        {
            Console.SetOut(console);
        }
        Assert.StartsWith($"site: {Path.Combine(site, Site.PageFile)} (2 pages", cli.ToString());
        var page = ParseAndCheck(site)["table3/smoke/index.html"];

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(w.Runs, w.RunFolders()[0], RunFiles.Manifest)))!["environment"]!;
        Assert.Equal(manifest["torchSharp"]!.GetValue<string>(), Cell(page, "TorchSharp"));
        Assert.Equal(ApolloBench.Runtime.Hardware.CpuModel ?? "not recorded", Cell(page, "CPU"));
        Assert.Equal("none", Cell(page, "GPU"));
        foreach (var run in w.RunFolders())
        {
            var link = page.QuerySelectorAll("#records ~ table a").Single(a => a.GetAttribute("href") == $"runs/{run}/curve.csv");
            Assert.Equal(File.ReadAllBytes(Path.Combine(w.Runs, run, RunFiles.Curve)), File.ReadAllBytes(Path.Combine(site, "table3", "smoke", "runs", run, RunFiles.Curve)));
            Assert.NotNull(link);
        }
    }
}
