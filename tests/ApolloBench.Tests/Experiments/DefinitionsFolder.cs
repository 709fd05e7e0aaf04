using ApolloBench.Cli;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// A definitions folder of one test's own, with a copy of the shipped scales.json, and the reports and runs folders
/// beside it that bad input must leave unwritten.
/// </summary>
sealed class DefinitionsFolder : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-defs-").FullName;

    public DefinitionsFolder() => Dir = Repo.NewExperimentsFolder(root);

    /// <summary>The definitions folder (<c>--experiments</c>).</summary>
    public string Dir { get; }

    public string Out => Path.Combine(root, "reports");

    public string Runs => Path.Combine(root, "runs");

    /// <summary>Writes <paramref name="relative"/> (e.g. <c>fig.json</c>, <c>shared/set.json</c>) in the folder; returns its path.</summary>
    public string Write(string relative, string json)
    {
        var path = Path.Combine(Dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary><c>reproduce</c> of this folder's definitions into its reports and runs folders: the exit code and what went to stderr.</summary>
    public (int Code, string Error) Reproduce(params string[] args)
    {
        var err = new StringWriter();
        var code = CliApp.Run(["reproduce", .. args, "--experiments", Dir, "--out", Out, "--runs", Runs], err);
        return (code, err.ToString().Trim());
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}
