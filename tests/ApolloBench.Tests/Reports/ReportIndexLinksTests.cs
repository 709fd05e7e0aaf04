using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Reports;

public class ReportIndexLinksTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-index-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void The_index_links_each_report_about_the_suite_by_its_title()
    {
        File.WriteAllText(Path.Combine(root, "reliability.md"), "# Reliability: what survives what\n\n| fault | trials |\n");
        File.WriteAllText(Path.Combine(root, "performance.md"), "# Performance\n");
        ReportIndex.Write(root, Repo.Experiments);
        var index = File.ReadAllText(Path.Combine(root, ReportIndex.FileName));
        Assert.Contains("Reports about the suite itself:\n\n- [performance.md](performance.md): Performance\n- [reliability.md](reliability.md): Reliability: what survives what\n", index);
        Assert.DoesNotContain("[README.md]", index);
    }
}
