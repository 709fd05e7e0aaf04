using ApolloBench.Core;

namespace ApolloBench.Experiments;

/// <summary>
/// The checkout a command works in, found from the working folder upwards (the first folder holding
/// <c>experiments/scales.json</c>), so every command works from any folder inside the repository. Its folders:
/// <c>experiments/</c> (the definitions), <c>reports/</c> (the committed reports and their run records), <c>runs/</c>
/// (the run cache) and <c>out/</c> (git-ignored: where <c>reproduce</c> and <c>report</c> write unless told otherwise).
/// </summary>
public static class Repository
{
    public const string ReportsFolder = "reports", RunsFolder = "runs", OutFolder = "out";

    /// <summary>The definitions folder of the checkout around <paramref name="from"/>, or null outside one.</summary>
    public static string? FindExperiments(string from)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(from)); dir is not null; dir = dir.Parent)
        {
            var experiments = Path.Combine(dir.FullName, ExperimentLoader.DefaultDirectory);
            if (File.Exists(Path.Combine(experiments, Scales.FileName))) return experiments;
        }
        return null;
    }

    /// <summary><paramref name="given"/> (<c>--experiments</c> wins), else the checkout's around the working folder.</summary>
    public static string Experiments(string? given)
        => given ?? FindExperiments(Directory.GetCurrentDirectory())
           ?? throw new UsageException($"--experiments: no {ExperimentLoader.DefaultDirectory}/ folder (with {Scales.FileName}) in " +
                                       $"'{Directory.GetCurrentDirectory()}' or any folder above it; run inside the ApolloBench checkout or pass --experiments DIR");

    /// <summary>The folder that holds the definitions folder: the repository root.</summary>
    public static string RootOf(string experiments) => Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(experiments)))!;

    /// <summary>The committed reports (and their run records) of the checkout.</summary>
    public static string Reports(string experiments) => Path.Combine(RootOf(experiments), ReportsFolder);

    /// <summary>The run cache: one folder per resolved run, shared by every artifact, wherever the reports go.</summary>
    public static string Runs(string experiments) => Path.Combine(RootOf(experiments), RunsFolder);

    /// <summary>Where reports go unless <c>--out</c> says otherwise: git-ignored, so a reproduction never rewrites tracked files.</summary>
    public static string DefaultOut(string experiments) => Path.Combine(RootOf(experiments), OutFolder, ReportsFolder);
}
