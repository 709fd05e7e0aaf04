using System.Globalization;
using System.Text.Json.Nodes;
using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Runs;

/// <summary>What a finished (or cached) run left in its folder.</summary>
public sealed record RunOutcome(string Dir, bool FromCache, RunResult? Result);

/// <summary>
/// Runs a <see cref="RunSpec"/> end to end: validates it (before reading data or writing anything), loads and
/// tokenises the corpus, prepares the small model of bert2BERT/LiGO as a cached dependency run, trains with
/// atomic checkpoints, and writes curve.csv, growth.csv, ledger.csv, model.bin, vocab.json and, last,
/// manifest.json: a folder with a manifest is a finished run, and a finished run is never trained again.
/// </summary>
public static class RunExecutor
{
    public const double ValidFraction = 0.05;
    public const long SplitSeed = 1234, EvalSeed = 4321;

    /// <summary>The corpus tokenised for a vocabulary of <paramref name="vocab"/> and split as every run splits it (a cached file after the first time).</summary>
    public static TokenizedCorpus Tokens(string? corpus, int vocab, string cacheDir, Action<string>? log = null)
        => TokenizedCorpus.Load(Corpus.Load(corpus, cacheDir), vocab, ValidFraction, SplitSeed, cacheDir, log);

    /// <summary>How a run is named in its warnings: its folder's name.</summary>
    public static string RunName(string runDir) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDir)));

    /// <summary>The lock file of a run folder: whoever holds it is the folder's only writer.</summary>
    public static string LockFile(string runDir) => Path.Combine(runDir, FolderLock.FileName);

    /// <summary>
    /// The run folder's lock, or a <see cref="UsageException"/> naming the process that holds it: two writers of one folder
    /// would each write the same files and leave whichever wrote last.
    /// </summary>
    public static FolderLock LockOrRefuse(string runDir, string option = "--out")
        => FolderLock.TryAcquire(LockFile(runDir), out var holder)
           ?? throw new UsageException($"{option}: '{runDir}' is being written by {FolderLock.Describe(holder)} (another train or reproduce of this run); " +
                                       $"wait for it to finish, or choose another {option}");

    public static Objective ObjectiveOf(Architecture arch) => arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;

    /// <summary>The fixed held-out batches runs evaluate on (seeded by <see cref="EvalSeed"/>, the same for every run).</summary>
    public static IReadOnlyList<Batch> HeldOut(TokenizedCorpus tokens, Architecture arch, int batchSize, int seqLen, int batches)
        => BatchStream.EvaluationBatches(tokens.Valid, ObjectiveOf(arch), batchSize, seqLen, tokens.VocabSize, batches, EvalSeed);

    /// <summary>True when <paramref name="dir"/> holds a finished run whose files all match its manifest's seals (<see cref="RunFiles.Verify"/>).</summary>
    public static bool IsComplete(string dir) => RunFiles.IsFinished(dir) && RunFiles.Verify(dir) is null;

    /// <summary>
    /// The small model's progress for a log: a line at every tenth of its run, with its latest held-out loss, the rate of
    /// the steps this process trained and the time left at it ("small model: step 1200/6000, train loss 5.871, valid loss
    /// 5.702, 1.67 s/step, ~2.2 h left").
    /// </summary>
    public static Action<StepRecord, EvalRecord?> SmallModelProgress(long steps, Action<string> log)
    {
        var progress = new TenthsProgress(steps);
        return (s, e) =>
        {
            if (progress.Step(s, e, out var rate))
                log(string.Create(CultureInfo.InvariantCulture, $"  small model: step {s.Step + 1}/{steps}, train loss {s.Loss:F3}, valid loss {progress.ValidText}{rate}"));
        };
    }

    /// <summary>
    /// In a bert2BERT or LiGO run's folder: where its small model is cached and how many steps it trains, so that
    /// <c>reproduce --status</c> can say how far the small model has come before the run has a checkpoint of its own.
    /// </summary>
    public const string SmallModelPointer = "small-model.json";

    static void WriteSmallModelPointer(string outDir, string folder, long steps)
    {
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, SmallModelPointer);
        File.WriteAllText(path + ".tmp", new JsonObject { ["folder"] = Path.GetFullPath(folder), ["steps"] = steps }.ToJsonString());
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The small model's cache folder and steps a run folder's <see cref="SmallModelPointer"/> names, or null (none, or unreadable).</summary>
    public static (string Folder, long Steps)? ReadSmallModelPointer(string runDir)
    {
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(Path.Combine(runDir, SmallModelPointer)));
            return node?["folder"]?.GetValue<string>() is { } folder && node["steps"]?.GetValue<long>() is { } steps and > 0 ? (folder, steps) : null;
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or InvalidOperationException or FormatException) { return null; }
    }

    /// <summary>Checks everything that can be checked without data: throws a <see cref="UsageException"/> naming the option.</summary>
    public static void Validate(RunSpec spec)
    {
        spec.Model.Validate();
        spec.Train.Validate();
        MethodRegistry.Create(spec.Method, spec.Options, spec.Model.Layers, new DelegateSmallModelSource(_ => throw new InvalidOperationException()))
            .Check(spec.Model, spec.Train);
        if (spec.Train.Device.StartsWith("cuda") && !TorchSharp.torch.cuda.is_available())
            throw new UsageException($"--device: '{spec.Train.Device}' asked for but CUDA is not available (build with -p:TorchBackend=cuda on a GPU machine, or use --device cpu)");
    }

    /// <param name="run">How to drive the trainer (the CLI wraps it in a progress bar); default: plain.</param>
    /// <param name="stop">When cancelled, the run (or the small model's dependency run) finishes its step, checkpoints and
    /// throws <see cref="RunStopped"/>; passed on through <see cref="Checkpointing.Stop"/>.</param>
    /// <param name="held">The run folder's lock when the caller took it already (<see cref="LockFile"/>); without it the lock is
    /// taken here, once the data are read, and a folder another process writes is refused (<see cref="LockOrRefuse"/>).</param>
    public static RunOutcome Execute(RunSpec spec, string outDir, string cacheDir, bool resume,
        Action<string>? log = null, Func<Trainer, Checkpointing, RunResult>? run = null, TimeSpan? checkpointEvery = null,
        CancellationToken stop = default, FolderLock? held = null)
    {
        log ??= _ => { };
        Validate(spec);
        if (File.Exists(outDir)) throw new UsageException($"--out: '{outDir}' is a file, not a folder");
        if (resume && IsComplete(outDir))
        {
            log($"{spec.FolderName}: finished earlier, reused from {outDir}");
            return new RunOutcome(outDir, FromCache: true, Result: null);
        }

        // Data (a missing or empty corpus is a UsageException naming --corpus; nothing written yet).
        var tokens = Tokens(spec.Corpus, spec.Model.Vocab, cacheDir, log);

        (BatchStream, IReadOnlyList<Batch>) Data(ModelConfig c, TrainConfig t)
            => (new BatchStream(tokens.Train, ObjectiveOf(spec.Arch), t.BatchSize, c.SeqLen, tokens.VocabSize, t.Seed),
                HeldOut(tokens, spec.Arch, t.BatchSize, c.SeqLen, t.EvalBatches));
        // The first line of the run's own output once its data are known: a run that repeats them too often says so.
        var passes = spec.PassesOver(tokens);
        if (passes.Warning(RunName(outDir), Corpus.Describe(spec.Corpus)) is { } warning) log(warning);
        log($"corpus: {Corpus.Describe(spec.Corpus)}: {tokens.TrainDocuments} train / {tokens.ValidDocuments} valid documents, " +
            $"{tokens.Train.Length:N0} / {tokens.Valid.Length:N0} tokens, vocab {tokens.VocabSize}, OOV {tokens.TrainOovRate:P2} / {tokens.ValidOovRate:P2}; " +
            $"{passes.PassesText} passes ({passes.TrainedTokens:N0} tokens of training)");

        // The small model of bert2BERT / LiGO: a dependency run, trained once, cached, prepared before the main run.
        var smallTrain = spec.Train with { Steps = spec.Options.SmallStepsValue(spec.Train.Steps) };
        var dependency = new SmallModelDependency(cacheDir, smallTrain, tokens.CacheKey, Data, log: log,
            onStep: SmallModelProgress(smallTrain.Steps, log),
            stop: stop, checkpointEvery: checkpointEvery);
        var method = MethodRegistry.Create(spec.Method, spec.Options, spec.Model.Layers, dependency);
        var smallConfig = (method as IUsesSmallModel)?.SmallConfigFor(spec.Model);

        // One writer per run folder, from here (everything checked, nothing written yet) until the manifest is written.
        using var ownLock = held is null ? LockOrRefuse(outDir) : null;
        if (resume && IsComplete(outDir))   // another process finished it while this one read the data
        {
            log($"{spec.FolderName}: finished by another process meanwhile, reused from {outDir}");
            return new RunOutcome(outDir, FromCache: true, Result: null);
        }
        if (RunFiles.IsFinished(outDir))
        {
            // Trained again (asked to, or damaged): nothing of the earlier run may be sealed into the new manifest.
            if (RunFiles.Verify(outDir) is { } damage) log($"{outDir}: {damage}: the finished run is damaged; training it again");
            RunFiles.Clear(outDir);
        }
        var checkpointDir = Path.Combine(outDir, Checkpoint.Folder);
        if (!resume && Checkpoint.Exists(checkpointDir))   // never discarded silently, never outranking this run's own
            throw new UsageException($"--out: '{outDir}' holds the checkpoint of an unfinished run " +
                                     $"({(Checkpoint.NextStep(checkpointDir) is { } left ? $"at step {left}" : "none of them whole")}); continue it with --resume, " +
                                     "or delete the folder (or choose another --out) to start over");
        if (smallConfig is not null)
        {
            WriteSmallModelPointer(outDir, dependency.FolderFor(smallConfig), smallTrain.Steps);
            if (!File.Exists(Path.Combine(dependency.FolderFor(smallConfig), SmallModelDependency.ModelFile)))
                dependency.Get(smallConfig).Model.Dispose();
        }

        // Train, checkpointing into the run folder.
        var (stream, evalBatches) = Data(spec.Model, spec.Train);
        var model = LanguageModel.Create(spec.Model, spec.Train.Seed);
        var trainer = new Trainer(model, method, spec.Train, stream, evalBatches);
        log($"{spec.Arch} {method.Name} at {spec.ScaleName} scale: {model.ParameterCount():N0} parameters, {spec.Train.Steps} steps of " +
            $"{spec.Train.BatchSize}x{spec.Train.Accumulation}x{spec.Model.SeqLen} tokens, {spec.Train.Threads} thread{(spec.Train.Threads == 1 ? "" : "s")} on {spec.Train.Device}");
        var identity = new Dictionary<string, string> { ["corpus"] = tokens.CacheKey, ["run key"] = spec.Key() };
        var checkpoints = Checkpointing.In(outDir, resume, checkpointEvery, identity, log, stop);
        if (resume && Checkpoint.NextStep(checkpoints.Dir) is { } next)
            log($"resuming from {checkpoints.Dir} (step {next})");
        var started = DateTimeOffset.UtcNow;
        var result = (run ?? ((t, c) => t.Run(checkpointing: c)))(trainer, checkpoints);
        var finished = DateTimeOffset.UtcNow;
        using var finalModel = trainer.Session.Model;   // the method may have replaced the model it started with

        // Write; the manifest goes last, so its presence means the run finished. The small model's pointer was for
        // --status while the run trained; a finished run's files are what it made.
        File.Delete(Path.Combine(outDir, SmallModelPointer));
        RunFiles.SaveModel(outDir, finalModel);
        RunVocabulary.Save(outDir, tokens.Tokenizer);
        var manifest = RunManifest.Build(spec.Arch, spec.ScaleName, spec.Model, spec.Train, method, tokens, spec.Corpus, started, finished, result, finalModel.ParameterCount());
        manifest["runKey"] = spec.Key();
        manifest["resolved"] = JsonNode.Parse(spec.Canonical());
        RunFiles.Write(outDir, result, manifest);
        Checkpoint.Delete(checkpoints.Dir);
        return new RunOutcome(outDir, FromCache: false, Result: result);
    }
}
