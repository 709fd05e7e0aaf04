using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

/// <summary>
/// The committed reports are reproducible from what is committed: <c>report all</c> in this checkout, with no run
/// folders at all, renders every committed pure-math report and every training report that carries its run records
/// (reports/&lt;id&gt;/&lt;scale&gt;/runs/), each equal to the committed one but for its render time. A training report
/// rendered before reports kept records cannot be checked, and is named in the test's output.
/// </summary>
[Collection("cli")]
public class CommittedReportsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-committed-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Report_all_without_runs_re_renders_each_committed_report_that_it_can_recompute_identically_but_for_the_render_time()
    {
        var committed = Path.Combine(Repo.Root, Repository.ReportsFolder);
        var rendered = Path.Combine(root, "rendered");
        var reports = Directory.GetDirectories(committed).SelectMany(Directory.GetDirectories).Order(StringComparer.Ordinal).ToList();
        foreach (var scale in reports.Select(Path.GetFileName).Distinct())
        {
            var output = new StringWriter();
            var console = Console.Out;
            Console.SetOut(output);
            int code;
            try
            {
                code = CliApp.Run(["report", "all", "--scale", scale!, "--out", rendered, "--runs", Path.Combine(root, "no-runs"),
                    "--cache", Path.Combine(root, "cache"), "--experiments", Repo.Experiments]);
            }
            finally
            {
                Console.SetOut(console);
            }
            Assert.True(code == 0, output.ToString());
        }
        Assert.False(Directory.Exists(Path.Combine(root, "no-runs")), "report trained something");

        var notChecked = new List<string>();
        foreach (var dir in reports)
        {
            var name = Path.GetRelativePath(committed, dir);
            var results = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(dir, ArtifactResults.FileName)));
            if (results.Runs.Count > 0 && !Directory.Exists(RunRecords.In(dir)))
                notChecked.Add(name);
            else
                ReportFolders.AssertSame(dir, Path.Combine(rendered, name));
        }
        // The index lists every report of its root: once every committed report could be rendered, the index written over
        // the renderings of the committed reports alone (`report all` also renders pure-math artifacts at scales nobody
        // committed, such as fig2/paper), beside the suite's own pages, is the committed one.
        if (notChecked.Count == 0)
        {
            var kept = reports.Select(d => Path.GetRelativePath(committed, d)).ToHashSet();
            foreach (var dir in Directory.GetDirectories(rendered).SelectMany(Directory.GetDirectories))
                if (!kept.Contains(Path.GetRelativePath(rendered, dir))) Directory.Delete(dir, recursive: true);
            foreach (var page in Directory.GetFiles(committed, "*.md").Where(f => Path.GetFileName(f) != ReportIndex.FileName))
                File.Copy(page, Path.Combine(rendered, Path.GetFileName(page)), overwrite: true);
            ReportIndex.Write(rendered, Repo.Experiments, r => Harness.PlannedNow(r, new ReproduceOptions { Experiments = Repo.Experiments }));
            Assert.Equal(File.ReadAllText(Path.Combine(committed, ReportIndex.FileName)), File.ReadAllText(Path.Combine(rendered, ReportIndex.FileName)));
        }
        else
            Console.WriteLine($"reports without run records, not checked: {string.Join(", ", notChecked)}");
    }
}
