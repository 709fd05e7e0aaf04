using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// The committed reports/README.md and the README's headline table are generated: this fails when a committed report's
/// results changed (or a definition now plans other runs) and the index was not written again with `report ... --out reports`.
/// </summary>
public class CommittedIndexTests() : InTempFolder("ab-committed-index-")
{

    [Fact]
    public void The_committed_index_and_the_readme_headline_table_are_what_the_index_writes_now()
    {
        var experiments = Path.Combine(root, "experiments");
        var reports = Path.Combine(root, "reports");
        foreach (var file in Directory.GetFiles(Repo.Experiments, "*", SearchOption.AllDirectories))
            Copy(file, Path.Combine(experiments, Path.GetRelativePath(Repo.Experiments, file)));
        var committed = Path.Combine(Repo.Root, "reports");
        foreach (var file in Directory.GetFiles(committed))   // the suite's own pages and the profiles the index links
            Copy(file, Path.Combine(reports, Path.GetFileName(file)));
        foreach (var file in Directory.GetFiles(committed, ArtifactResults.FileName, SearchOption.AllDirectories))
            Copy(file, Path.Combine(reports, Path.GetRelativePath(committed, file)));
        Copy(Path.Combine(Repo.Root, "README.md"), Path.Combine(root, "README.md"));

        var options = new ReproduceOptions { Experiments = experiments };
        ReportIndex.Write(reports, experiments, r => Harness.PlannedNow(r, options));

        Assert.Equal(File.ReadAllText(Path.Combine(committed, ReportIndex.FileName)), File.ReadAllText(Path.Combine(reports, ReportIndex.FileName)));
        Assert.Equal(File.ReadAllText(Path.Combine(Repo.Root, "README.md")), File.ReadAllText(Path.Combine(root, "README.md")));
    }

    static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }
}
