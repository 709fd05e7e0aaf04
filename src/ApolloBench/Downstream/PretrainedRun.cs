using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Downstream;

/// <summary>
/// A pre-training run folder as <c>train</c> leaves it: manifest.json (model configuration, scale, method,
/// corpus), model.bin (TorchSharp weights) and, from runs that save it, vocab.json (<see cref="RunVocabulary"/>).
/// Without vocab.json the vocabulary is rebuilt exactly as <c>train</c> built it (the manifest's corpus, its
/// vocabulary size, validation fraction 0.05, split seed 1234) and checked against the manifest's content hash.
/// </summary>
public sealed record PretrainedRun(string Dir, ModelConfig Config, VocabTokenizer Tokenizer, string Method, string Scale, string VocabularySource)
{
    public const string Option = "--run";
    /// <summary>What <c>train</c> passes to <see cref="TokenizedCorpus.Load"/>.</summary>
    public const double PretrainValidFraction = 0.05;
    public const long PretrainSplitSeed = 1234;

    public static PretrainedRun Open(string dir, string cacheDir)
    {
        if (!Directory.Exists(dir)) throw new UsageException($"{Option}: {dir} does not exist");
        var manifestPath = Path.Combine(dir, RunFiles.Manifest);
        if (!File.Exists(manifestPath)) throw new UsageException($"{Option}: {dir} has no {RunFiles.Manifest} (not a pre-training run folder)");
        if (!File.Exists(Path.Combine(dir, RunFiles.Weights)))
            throw new UsageException($"{Option}: {dir} has no {RunFiles.Weights} (the run did not finish, or predates saved weights)");
        JsonObject manifest;
        try { manifest = JsonNode.Parse(File.ReadAllText(manifestPath))?.AsObject() ?? throw new JsonException("empty"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new UsageException($"{Option}: {manifestPath} is not valid JSON ({e.Message.Split('.')[0]})");
        }
        var config = ReadConfig(manifest, manifestPath);
        if (config.Arch != Architecture.Bert)
            throw new UsageException($"{Option}: {dir} is a {config.Arch} run; fine-tuning heads (GLUE, SQuAD) are defined for BERT runs");
        string method = manifest["method"]?.GetValue<string>() ?? "unknown", scale = manifest["scale"]?.GetValue<string>() ?? "unknown";

        var tokenizer = RunVocabulary.TryLoad(dir);
        var source = $"{RunVocabulary.File}";
        if (tokenizer is null)
        {
            var corpus = manifest["corpus"]?.AsObject() ?? throw new UsageException($"{Option}: {manifestPath} has no \"corpus\" and the run has no {RunVocabulary.File}");
            var path = corpus["source"]?.GetValue<string>();
            var hash = corpus["contentHash"]?.GetValue<string>();
            var documents = Corpus.Load(path == SotuCorpus.PackageName ? null : path, cacheDir);   // the default, a fetched corpus by name, or a path
            var tokens = TokenizedCorpus.Load(documents, config.Vocab, PretrainValidFraction, PretrainSplitSeed, cacheDir);
            if (hash is not null && tokens.ContentHash != hash)
                throw new UsageException($"{Option}: the run's corpus {path ?? SotuCorpus.PackageName} has changed since pre-training " +
                                         $"(content hash {tokens.ContentHash[..12]} vs {hash[..Math.Min(12, hash.Length)]} in the manifest), so its vocabulary cannot be rebuilt");
            tokenizer = tokens.Tokenizer;
            source = $"rebuilt from {path ?? SotuCorpus.PackageName}";
        }
        if (tokenizer.VocabSize != config.Vocab)
            throw new UsageException($"{Option}: the vocabulary has {tokenizer.VocabSize} ids but the model {config.Vocab}");
        return new PretrainedRun(Path.GetFullPath(dir), config, tokenizer, method, scale, source);
    }

    /// <summary>A fresh copy of the pre-trained model (weights from model.bin).</summary>
    public LanguageModel LoadModel()
    {
        var model = LanguageModel.Create(Config, initSeed: 0);
        try { RunFiles.LoadModel(Dir, model); }
        catch (Exception e) when (e is not UsageException)
        {
            model.Dispose();
            throw new UsageException($"{Option}: {Path.Combine(Dir, RunFiles.Weights)} does not load into the manifest's model ({e.Message.ReplaceLineEndings(" ")})");
        }
        return model;
    }

    static ModelConfig ReadConfig(JsonObject manifest, string path)
    {
        var c = manifest["modelConfig"]?.AsObject() ?? throw new UsageException($"{Option}: {path} has no \"modelConfig\"");
        int Int(string key, int? fallback = null)
        {
            var node = c[key];
            if (node is null) return fallback ?? throw new UsageException($"{Option}: {path}: modelConfig has no \"{key}\"");
            try { return node.GetValue<int>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException) { throw new UsageException($"{Option}: {path}: modelConfig.{key} is not an integer"); }
        }
        var archNode = c["Arch"] ?? throw new UsageException($"{Option}: {path}: modelConfig has no \"Arch\"");
        Architecture arch = archNode.GetValueKind() == JsonValueKind.String
            ? Enum.Parse<Architecture>(archNode.GetValue<string>(), ignoreCase: true)
            : (Architecture)archNode.GetValue<int>();
        var config = new ModelConfig(arch, Int("Layers"), Int("Hidden"), Int("Heads"), Int("Vocab"), Int("SeqLen"), Int("FfnMultiplier", 4), Int("TypeVocab", 2));
        config.Validate();
        return config;
    }
}
