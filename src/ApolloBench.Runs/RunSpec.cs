using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
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
    /// <summary>How many times the run goes over <paramref name="tokens"/>, its corpus tokenised (<see cref="CorpusPasses"/>).</summary>
    public CorpusPasses PassesOver(TokenizedCorpus tokens) => PassesOver(tokens.Train.Length);

    /// <summary>How many times the run goes over a corpus of <paramref name="corpusTrainTokens"/> training tokens.</summary>
    public CorpusPasses PassesOver(long corpusTrainTokens) => Passes(Train, Model, corpusTrainTokens);

    /// <summary>The passes of a run of this training and model over a corpus of <paramref name="corpusTrainTokens"/> training tokens.</summary>
    public static CorpusPasses Passes(TrainConfig train, ModelConfig model, long corpusTrainTokens)
        => CorpusPasses.Of(train.Steps, train.BatchSize, train.Accumulation, model.SeqLen, Math.Max(1, corpusTrainTokens));

    static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>Bump when what a run folder holds or means changes. 2: thread count out of the key, sealed manifests, dropout and precision.</summary>
    public const int Format = 2;

    /// <summary>
    /// The resolved configuration as JSON (what the key hashes and what the manifest records). The thread count is left
    /// out: it changes only the last bits (the manifest records it, and a resume refuses another count), so runs made
    /// with different counts are the same run and a report never goes missing for want of the right --threads.
    /// </summary>
    public string Canonical() => JsonSerializer.Serialize(new
    {
        arch = Arch.ToString().ToLowerInvariant(), scale = ScaleName, model = Model, train = KeyedTrain(Train), method = Method.ToLowerInvariant(),
        options = Options, corpus = ApolloBench.Data.Corpus.Key(Corpus), format = Format,
    }, Json);

    /// <summary>A train config as it enters a key: every setting but the thread count.</summary>
    public static JsonObject KeyedTrain(TrainConfig train)
    {
        var node = JsonSerializer.SerializeToNode(train)!.AsObject();
        node.Remove(nameof(TrainConfig.Threads));
        return node;
    }

    /// <summary>A short hash of <see cref="Canonical"/>: the run's cache key.</summary>
    public string Key() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical())))[..16];

    /// <summary>A readable folder name that still differs whenever the key does.</summary>
    public string FolderName => $"{Arch.ToString().ToLowerInvariant()}-{Method.ToLowerInvariant()}-{ScaleName}-seed{Train.Seed}-{Key()}";
}
