using System.CommandLine;
using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Downstream;
using ApolloBench.Experiments;

namespace ApolloBench.Cli;

/// <summary>
/// `finetune`: fine-tune a pre-trained BERT run on downstream tasks (Table 4), print the metrics, and store each result
/// where a downstream table looks for it (<see cref="FinetuneJob"/>: downstream/&lt;task&gt;-seed&lt;seed&gt;-&lt;hash of the settings&gt;.json).
/// </summary>
static class FinetuneCommand
{
    static readonly Option<string> Run = new("--run") { Description = "pre-training run folder (manifest.json + model.bin), a BERT run", Required = true };
    static readonly Option<string> Task = new("--task") { Description = $"task(s), comma-separated: {string.Join(", ", TaskCatalog.Names)}; 'glue' = the seven GLUE tasks, 'squad' = both SQuAD versions", Required = true };
    static readonly Option<string?> DataDir = new("--data-dir") { Description = "folder with GLUE's task folders (SST-2/, MNLI/, ...) and/or SQuAD's JSON files (itself or its SQuAD/ folder)" };
    static readonly Option<long> Seed = new("--seed") { Description = "fine-tuning seed (head init, example order, dropout)", DefaultValueFactory = _ => 42 };
    static readonly Option<int?> Epochs = new("--epochs") { Description = "epochs (default: the task's)" };
    static readonly Option<double?> Lr = new("--lr") { Description = "peak learning rate (default: the task's)" };
    static readonly Option<int?> BatchSize = new("--batch-size") { Description = "examples per step (default: the task's)" };
    static readonly Option<int?> MaxExamples = new("--max-examples") { Description = "use at most N training examples and N per evaluation set (fixed random subset)" };
    static readonly Option<int?> Threads = new("--threads") { Description = "torch threads (default: all cores)" };
    static readonly Option<string?> Cache = new("--cache") { Description = "cache folder (default: $APOLLOBENCH_CACHE or ~/.cache/apollobench)" };

    public static Command Build()
    {
        var cmd = new Command("finetune", "Fine-tune a pre-trained BERT run on GLUE / SQuAD (from --data-dir) or the stand-in tasks spam and sotu-party; " +
            "writes downstream/<task>-seed<seed>-<hash>.json into the run folder, the hash covering --epochs, --max-examples, --lr, --batch-size and --seed, " +
            "so a downstream table (table4) reads it when they are the definition's (table4 at cpu scale: --epochs 3 --max-examples 500 --lr 2e-4 --batch-size 16).");
        foreach (var o in new Option[] { Run, Task, DataDir, Seed, Epochs, Lr, BatchSize, MaxExamples, Threads, Cache }) cmd.Options.Add(o);
        cmd.SetAction(Execute);
        return cmd;
    }

    static int Execute(ParseResult p)
    {
        var tasks = TaskCatalog.Parse(p.GetValue(Task)!);
        var settings = new DownstreamSettings
        {
            DataDir = p.GetValue(DataDir),
            CacheDir = p.GetValue(Cache) ?? ApolloBench.Experiments.ReproduceOptions.DefaultCache(),
            Seed = p.GetValue(Seed),
            Epochs = p.GetValue(Epochs),
            LearningRate = p.GetValue(Lr),
            BatchSize = p.GetValue(BatchSize),
            MaxExamples = p.GetValue(MaxExamples),
            Threads = p.GetValue(Threads) ?? Math.Max(1, Environment.ProcessorCount),
            WriteResults = false,
            Log = Console.WriteLine,
        };
        var run = p.GetValue(Run)!;
        var results = DownstreamEvaluation.Evaluate(run, tasks, settings);
        var files = results.Select(r => FinetuneJob.ForTask(r.Task, settings.Epochs, settings.MaxExamples, settings.LearningRate, settings.BatchSize, settings.Seed)
            .Write(run, r)).ToList();

        string F(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine($"{"task",-26} {"headline",-18} {"value",7}  other metrics");
        foreach (var r in results)
        {
            var others = string.Join(", ", r.Metrics.Where(m => m.Key != r.Headline).Select(m => $"{m.Key} {F(m.Value)}"));
            Console.WriteLine($"{r.Name,-26} {r.Headline,-18} {F(r.HeadlineValue),7}  {others}");
        }
        var summary = DownstreamEvaluation.Summarize(results);
        if (summary.GlueAverage is { } g) Console.WriteLine($"GLUE avg (7 tasks, as Table 4): {F(g)}");
        if (summary.SquadAverage is { } s) Console.WriteLine($"SQuAD avg (v1.1 and v2.0 F1, as Table 4): {F(s)}");
        if (results.Any(r => r.StandIn)) Console.WriteLine("stand-in tasks are not GLUE or SQuAD and are not averaged into either.");
        foreach (var file in files) Console.WriteLine($"results:  {file}");
        return 0;
    }
}
