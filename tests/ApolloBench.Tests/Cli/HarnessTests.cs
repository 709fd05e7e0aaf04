using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>`reproduce`, `report` and `list` end to end on the shipped definitions (pure-math artifacts only: seconds).</summary>
[Collection("cli")]
public class HarnessTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-harness-").FullName;
    string Out => Path.Combine(root, "reports");

    public void Dispose() => Directory.Delete(root, recursive: true);

    int Run(params string[] args)
    {
        var err = new StringWriter();
        var code = CliApp.Run([.. args, "--experiments", Repo.Experiments], err);
        Assert.True(code == 0, err.ToString());
        return code;
    }

    [Fact]
    public void Pure_math_artifacts_reproduce_and_report_re_renders_them_identically()
    {
        Run("reproduce", string.Join(",", Repo.PureMathIds), "--scale", "smoke", "--out", Out);

        foreach (var id in Repo.PureMathIds)
        {
            var dir = Path.Combine(Out, id, "smoke");
            var markdown = File.ReadAllText(Path.Combine(dir, "report.md"));
            Assert.Contains("## Paper vs reproduced", markdown);
            Assert.Contains("| smoke | cpu (exact computation, no training) |", markdown);
            foreach (var image in Directory.GetFiles(dir, "*.png"))
                Assert.True(new FileInfo(image).Length > 1000, image);
            Assert.Empty(Directory.GetDirectories(Out, "*.tmp-*", SearchOption.AllDirectories));

            // Re-render from results.json alone: the same page.
            File.Delete(Path.Combine(dir, "report.md"));
            Run("report", dir);
            Assert.Equal(markdown, File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        var index = File.ReadAllText(Path.Combine(Out, ReportIndex.FileName));
        Assert.Contains("[table1/smoke/report.md](table1/smoke/report.md)", index);
        Assert.Contains("| fig7 | Figure 7", index);   // listed as not reproduced yet
    }

    [Fact]
    public void Resume_keeps_an_unchanged_report_and_shards_split_the_artifacts()
    {
        Run("reproduce", "fig2,fig3", "--scale", "smoke", "--out", Out, "--shard", "2/2");
        Assert.False(Directory.Exists(Path.Combine(Out, "fig2")));
        Assert.True(File.Exists(Path.Combine(Out, "fig3", "smoke", "results.json")));

        var results = Path.Combine(Out, "fig3", "smoke", "results.json");
        var written = File.GetLastWriteTimeUtc(results);
        Run("reproduce", "fig3", "--scale", "smoke", "--out", Out, "--resume");
        Assert.Equal(written, File.GetLastWriteTimeUtc(results));

        Run("reproduce", "fig3", "--scale", "smoke", "--out", Out, "--resume", "--set", "draws=100");
        Assert.Equal(100, ArtifactResults.FromJson(File.ReadAllText(results)).Samplers[0].Empirical!.Draws);
    }

    [Fact]
    public void The_plot_font_is_installed_so_figures_have_text()
        => Assert.True(PlotRenderer.FontInstalled, $"'{PlotRenderer.FontName}' is not installed: ScottPlot would draw figures without any text (Debian/Ubuntu: apt-get install fonts-dejavu-core)");

    [Fact]
    public void Report_of_a_folder_without_results_is_a_usage_error()
    {
        Directory.CreateDirectory(Path.Combine(root, "empty"));
        var err = new StringWriter();
        Assert.Equal(2, CliApp.Run(["report", Path.Combine(root, "empty")], err));
        Assert.Contains("has no results.json", err.ToString());
    }

    [Fact]
    public void List_validates_every_definition_at_every_scale()
    {
        var entries = ApolloBench.Cli.Harness.List(Repo.Experiments);
        Assert.Equal(Repo.DefinitionIds.Length, entries.Count);
        Assert.All(entries.Where(e => Repo.PureMathIds.Contains(e.Id)), e => Assert.Equal("seconds", e.Estimates["paper"]));
        Assert.All(entries.Where(e => !Repo.PureMathIds.Contains(e.Id)), e => Assert.StartsWith("~", e.Estimates["cpu"]));
    }
}
