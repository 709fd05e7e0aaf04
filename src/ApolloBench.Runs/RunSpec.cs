using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Runs;

/// <summary>
/// One pre-training run, fully resolved: everything that decides its numbers. Two specs with the same
/// <see cref="Key"/> produce the same run, so a harness trains it once and every artifact that needs it reuses it.
/// </summary>
public sealed record RunSpec(Architecture Arch, string ScaleName, ModelConfig Model, TrainConfig Train, string Method, MethodOptions Options, string? Corpus)
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>The resolved configuration as JSON (what the key hashes and what the manifest records).</summary>
    public string Canonical() => JsonSerializer.Serialize(new
    {
        arch = Arch.ToString().ToLowerInvariant(), scale = ScaleName, model = Model, train = Train, method = Method.ToLowerInvariant(),
        options = Options, corpus = Corpus ?? SotuCorpus.PackageSpec, format = 1,
    }, Json);

    /// <summary>A short hash of <see cref="Canonical"/>: the run's cache key.</summary>
    public string Key() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical())))[..16];

    /// <summary>A readable folder name that still differs whenever the key does.</summary>
    public string FolderName => $"{Arch.ToString().ToLowerInvariant()}-{Method.ToLowerInvariant()}-{ScaleName}-seed{Train.Seed}-{Key()}";
}
