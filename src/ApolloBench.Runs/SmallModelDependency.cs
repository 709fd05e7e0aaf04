using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Runs;

/// <summary>
/// The small model as a dependency run: trained once with <see cref="Scratch"/> by the same <see cref="Trainer"/>
/// on the same data, cached, and reused by every run that needs it.
/// <para>Cache: <c>&lt;cacheDir&gt;/dependencies/&lt;key&gt;/</c> with <c>model.bin</c> (TorchSharp <c>module.save</c>, which
/// round-trips exactly), and the run's <c>curve.csv</c>, <c>growth.csv</c>, <c>ledger.csv</c> and <c>manifest.json</c>
/// (its FLOPs and wall seconds among them). The folder is written under a temporary name and renamed into place,
/// so a killed run never leaves a half-written entry. One process builds an entry: it holds <c>locks/dependency-&lt;key&gt;.lock</c>
/// (<see cref="FolderLock"/>) while it looks, trains and writes, and any other waits (saying for whom) and then reuses
/// what it built. The training checkpoints into <c>&lt;key&gt;.checkpoint/</c> and continues from there after a kill or a
/// stop request.</para>
/// <para>Key: SHA-256 of the fully resolved run: the small model's config, its train config (steps, batch, learning
/// rate, seed, threads, device...), the corpus identity (the tokenized corpus's cache key, which covers the content
/// hash, vocabulary, validation fraction and split seed) and <see cref="FormatVersion"/>.</para>
/// <para>The cost is reported by the receiving method as a ledger line NOT counted in its run (the paper does not
/// charge it); reports can show the savings with and without it.</para>
/// </summary>
public sealed class SmallModelDependency : ISmallModelSource
{
    /// <summary>Bump when what a cached small model means changes (training recipe, file layout).</summary>
    public const int FormatVersion = 2;
    public const string ModelFile = "model.bin";

    readonly string cacheDir;
    readonly TrainConfig train;
    readonly string corpusIdentity;
    readonly Func<ModelConfig, TrainConfig, (BatchStream Train, IReadOnlyList<Batch> Eval)> data;
    readonly Action<string>? log;
    readonly Action<StepRecord, EvalRecord?>? onStep;
    readonly CancellationToken stop;
    readonly TimeSpan? checkpointEvery;
    readonly HashSet<string> trainedHere = [];

    /// <param name="cacheDir">the cache root; entries go under its <c>dependencies/</c> folder.</param>
    /// <param name="train">the small run's resolved train config (its own step budget: <c>--small-steps</c>).</param>
    /// <param name="corpusIdentity">a string that changes whenever the training data would (the tokenized corpus's cache key).</param>
    /// <param name="data">the training stream and evaluation batches for a given model and train config.</param>
    /// <param name="stop">when cancelled, the small model's training (or the wait for another process's) stops: it
    /// checkpoints and throws <see cref="RunStopped"/> (<see cref="OperationCanceledException"/> while waiting).</param>
    /// <param name="checkpointEvery">the interval of the small run's checkpoints (default: <see cref="Checkpointing.In"/>'s).</param>
    public SmallModelDependency(string cacheDir, TrainConfig train, string corpusIdentity,
        Func<ModelConfig, TrainConfig, (BatchStream Train, IReadOnlyList<Batch> Eval)> data,
        Action<string>? log = null, Action<StepRecord, EvalRecord?>? onStep = null, CancellationToken stop = default, TimeSpan? checkpointEvery = null)
    {
        this.stop = stop;
        this.checkpointEvery = checkpointEvery;
        train.Validate();
        this.cacheDir = cacheDir;
        this.train = train;
        this.corpusIdentity = corpusIdentity;
        this.data = data;
        this.log = log;
        this.onStep = onStep;
    }

    public TrainConfig Train => train;

    /// <summary>The cache key of the small run for <paramref name="config"/>.</summary>
    public string KeyFor(ModelConfig config)
    {
        var canonical = new JsonObject
        {
            ["kind"] = "apollobench-small-model",
            ["format"] = FormatVersion,
            ["model"] = JsonSerializer.SerializeToNode(config),
            ["train"] = RunSpec.KeyedTrain(train),
            ["corpus"] = corpusIdentity,
        }.ToJsonString();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    public string FolderFor(ModelConfig config) => Path.Combine(cacheDir, "dependencies", KeyFor(config));

    public SmallModel Get(ModelConfig config)
    {
        var key = KeyFor(config);
        var dir = Path.Combine(cacheDir, "dependencies", key);
        using var held = FolderLock.Acquire(FolderLock.InCache(cacheDir, "dependency-" + key), $"small model {Describe(config)} ({dir})", log, stop);
        if (TryLoad(dir, config, key) is { } cached)
        {
            log?.Invoke($"small model {Describe(config)}: {(cached.FromCache ? "cached" : "trained earlier in this process")} ({dir})");
            return cached;
        }
        var checkpoints = new Checkpointing(dir + ".checkpoint", checkpointEvery ?? TimeSpan.FromMinutes(3), Resume: true,
            new Dictionary<string, string> { ["small model key"] = key }, log, stop);
        var from = Checkpoint.NextStep(checkpoints.Dir);
        log?.Invoke($"small model {Describe(config)}: training {train.Steps} steps as a dependency run{(from is { } step ? $", continuing from step {step}" : "")} (cached at {dir})");
        var model = LanguageModel.Create(config, train.Seed);
        var (stream, eval) = data(config, train);
        var trainer = new Trainer(model, new Scratch(), train, stream, eval);
        RunResult result;
        try
        {
            result = trainer.Run(onStep, checkpoints);
        }
        catch (RunStopped stopped)
        {
            trainer.Session.Model.Dispose();
            throw new RunStopped(stopped.NextStep, stopped.Saved, $"the small model {Describe(config)} (a dependency run)");
        }
        var trained = trainer.Session.Model;

        var tmp = dir + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        trained.save(Path.Combine(tmp, ModelFile));
        var manifest = new JsonObject
        {
            ["key"] = key,
            ["format"] = FormatVersion,
            ["modelConfig"] = JsonSerializer.SerializeToNode(config),
            ["train"] = JsonSerializer.SerializeToNode(train),
            ["corpus"] = corpusIdentity,
            ["created"] = DateTimeOffset.UtcNow.ToString("O"),
            ["results"] = new JsonObject
            {
                ["steps"] = result.Steps.Count,
                ["totalFlops"] = result.TotalFlops,
                ["trainingWallSeconds"] = result.TotalWallSeconds,
                ["finalTrainLoss"] = result.Steps[^1].Loss,
                ["finalValidLoss"] = result.Evals[^1].ValidLoss,
            },
        };
        RunFiles.Write(tmp, result, manifest);
        try
        {
            Directory.Move(tmp, dir);
        }
        catch (IOException) when (Directory.Exists(dir))
        {
            Directory.Delete(tmp, recursive: true);   // written by an ApolloBench that did not lock; the same run, so the same files
        }
        Checkpoint.Delete(checkpoints.Dir);
        trainedHere.Add(key);
        return new SmallModel(trained, result.TotalFlops, result.TotalWallSeconds, result.Steps.Count, key, FromCache: false);
    }

    SmallModel? TryLoad(string dir, ModelConfig config, string key)
    {
        var manifestPath = Path.Combine(dir, RunFiles.Manifest);
        var modelPath = Path.Combine(dir, ModelFile);
        if (!File.Exists(manifestPath) || !File.Exists(modelPath)) return null;
        if (RunFiles.Verify(dir) is { } fault)
        {
            log?.Invoke($"small model {Describe(config)}: cached entry {dir} is damaged ({fault}); training it again");
            Directory.Delete(dir, recursive: true);
            return null;
        }
        var results = JsonNode.Parse(File.ReadAllText(manifestPath))!["results"]!;
        var model = LanguageModel.Create(config, train.Seed);
        model.load(modelPath);
        return new SmallModel(model, results["totalFlops"]!.GetValue<double>(), results["trainingWallSeconds"]!.GetValue<double>(),
            results["steps"]!.GetValue<long>(), key, FromCache: !trainedHere.Contains(key));
    }

    static string Describe(ModelConfig c) => $"{c.Arch} {c.Layers}x{c.Hidden} ({c.Heads} heads)";
}
