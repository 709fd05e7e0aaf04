using ApolloBench.Experiments;

namespace ApolloBench.Tests.Experiments;

/// <summary>Paths in the repository the tests run from.</summary>
static class Repo
{
    /// <summary>The folder holding ApolloBench.sln, found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    public static string Experiments => Path.Combine(Root, "experiments");

    /// <summary>The scales of experiments/scales.json (smoke is the one tests train at).</summary>
    public static Scales Scales { get; } = Scales.Load(Experiments);

    /// <summary>A definitions folder of its own under <paramref name="parent"/>, with a copy of the shipped scales.json.</summary>
    public static string NewExperimentsFolder(string parent)
    {
        var dir = Path.Combine(parent, "experiments");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Experiments, Scales.FileName), Path.Combine(dir, Scales.FileName), overwrite: true);
        return dir;
    }

    /// <summary>The ids the paper's artifacts have (SPEC section 8; Figure 6 in three panels).</summary>
    public static readonly string[] ArtifactIds =
        ["fig2", "fig3", "fig4", "fig5", "fig6a", "fig6b", "fig6c", "fig7", "fig8", "fig9", "table1", "table2", "table3", "table4", "table5"];

    /// <summary>Every shipped definition: the paper's artifacts and the ones the suite adds (labelled "not in the paper").</summary>
    public static readonly string[] DefinitionIds = [.. ArtifactIds, "budget", "gpt-lr", "bert-lr"];

    public static readonly string[] PureMathIds = ["fig2", "fig3", "fig4", "fig9", "table1", "table5"];

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ApolloBench.sln"))) return dir.FullName;
        throw new InvalidOperationException("ApolloBench.sln not found above " + AppContext.BaseDirectory);
    }
}
