using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Downstream;

/// <summary>
/// How to fine-tune. Null overrides fall back to the task's defaults (<see cref="TaskCatalog"/>), then to
/// <see cref="PerTask"/> when it names the task (the experiment definition's per-task table), and the
/// explicit overrides win over both.
/// </summary>
public sealed record DownstreamSettings
{
    /// <summary>Folder holding GLUE's task folders and/or SQuAD's JSON files. Needed by every GLUE/SQuAD task.</summary>
    public string? DataDir { get; init; }
    /// <summary>Where the stand-in data sets and (when a run has no vocab.json) the pre-training corpus are cached.</summary>
    public required string CacheDir { get; init; }
    public long Seed { get; init; } = 42;
    public int? Epochs { get; init; }
    public double? LearningRate { get; init; }
    public int? BatchSize { get; init; }
    /// <summary>Caps the training examples AND each evaluation set at N (a fixed-seed random subset, the same for every fine-tuning seed).</summary>
    public int? MaxExamples { get; init; }
    /// <summary>Per-task hyper-parameters from an experiment definition, by task id.</summary>
    public IReadOnlyDictionary<string, FinetuneHyper>? PerTask { get; init; }
    /// <summary>torch threads, pinned for the whole evaluation (bit-identical results need the same count).</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);
    /// <summary>Write finetune-&lt;task&gt;-seed&lt;seed&gt;.json into the run folder.</summary>
    public bool WriteResults { get; init; } = true;
    public Action<string>? Log { get; init; }
    /// <summary>Test seams: the stand-in packages' tarballs (default: npm pack, pinned by SHA-512).</summary>
    public Data.TarballSource? SpamTarball { get; init; }
    public Data.TarballSource? SotuTarball { get; init; }

    public FinetuneHyper HyperFor(DownstreamTask task)
    {
        var h = PerTask is not null && PerTask.TryGetValue(task.Id, out var fromExperiment) ? fromExperiment : task.Defaults;
        return h with
        {
            Epochs = Epochs ?? h.Epochs,
            LearningRate = LearningRate ?? h.LearningRate,
            BatchSize = BatchSize ?? h.BatchSize,
        };
    }
}

/// <summary>
/// One fine-tuning result. Metric values are on the paper's scale (x100: accuracy 92.04, MCC 56.95). For
/// MNLI, "accuracy" is the matched dev set and "accuracy_mismatched" the other; <see cref="Headline"/> names the
/// metric Table 4 shows for the task.
/// </summary>
public sealed record TaskResult(
    string Task, string Name, bool StandIn, string Headline, double HeadlineValue, IReadOnlyDictionary<string, double> Metrics,
    int TrainExamples, IReadOnlyDictionary<string, int> EvalExamples, FinetuneHyper Hyper, long Seed, long Steps,
    IReadOnlyList<double> EpochLosses, double Seconds, string DataSource, string Notes, string RunDir, string RunMethod, string RunScale,
    string? ResultsFile);

/// <summary>Table 4's averages, when every task they need is present (null otherwise).</summary>
public sealed record DownstreamSummary(double? GlueAverage, IReadOnlyList<string> GlueMissing, double? SquadAverage, IReadOnlyList<string> SquadMissing);

/// <summary>
/// The library entry point: fine-tune a pre-trained BERT run on downstream tasks and score it.
/// Everything (the run, the data of every task, the settings) is read and checked before any training
/// starts or any file is written; bad input is a <see cref="UsageException"/>.
/// </summary>
public static class DownstreamEvaluation
{
    public const string ResultsPrefix = "finetune-";

    public static string ResultsFileName(string task, long seed) => $"{ResultsPrefix}{task}-seed{seed}.json";

    public static IReadOnlyList<TaskResult> Evaluate(string runDir, IReadOnlyList<DownstreamTask> tasks, DownstreamSettings settings)
    {
        if (tasks.Count == 0) throw new UsageException("--task: no task given");
        if (settings.Threads < 1) throw new UsageException($"--threads: must be >= 1 (got {settings.Threads})");
        if (settings.MaxExamples is < 1) throw new UsageException($"--max-examples: must be >= 1 (got {settings.MaxExamples})");
        foreach (var t in tasks) settings.HyperFor(t).Validate();
        var run = PretrainedRun.Open(runDir, settings.CacheDir);
        var data = tasks.Select(t => (Task: t, Data: LoadData(t, settings))).ToList();

        torch.set_num_threads(settings.Threads);
        var results = new List<TaskResult>();
        foreach (var (task, taskData) in data)
        {
            settings.Log?.Invoke($"{task.Name}: fine-tuning {run.Method} ({run.Scale}) from {run.Dir}");
            var result = taskData switch
            {
                TaskData<TextExample> text => RunSequence(run, task, text, settings),
                TaskData<SquadExample> squad => RunSpan(run, task, squad, settings),
                _ => throw new InvalidOperationException(),
            };
            if (settings.WriteResults)
            {
                var path = Path.Combine(run.Dir, ResultsFileName(task.Id, settings.Seed));
                result = result with { ResultsFile = path };
                RunFiles.Atomic(path, tmp => File.WriteAllText(tmp, ToJson(result).ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping })));
            }
            results.Add(result);
        }
        return results;
    }

    /// <summary>The task's data: GLUE/SQuAD from <see cref="DownstreamSettings.DataDir"/>, stand-ins from their npm packages.</summary>
    public static object LoadData(DownstreamTask task, DownstreamSettings settings)
    {
        switch (task.Id)
        {
            case "spam": return Cap(SpamAssassin.Load(settings.CacheDir, settings.SpamTarball), settings.MaxExamples);
            case "sotu-party": return Cap(SotuParty.Load(settings.CacheDir, settings.SotuTarball), settings.MaxExamples);
        }
        if (string.IsNullOrWhiteSpace(settings.DataDir))
            throw new UsageException($"--data-dir: task {task.Id} needs {task.Description}; GLUE and SQuAD cannot be downloaded here, " +
                                     "so point --data-dir at a local copy, or use the stand-in tasks spam and sotu-party");
        return task.IsSquad
            ? Cap(SquadData.Load(task.Id, settings.DataDir), settings.MaxExamples)
            : Cap(GlueData.Load(task.Id, settings.DataDir), settings.MaxExamples);
    }

    static TaskData<T> Cap<T>(TaskData<T> data, int? max)
    {
        if (max is not { } n) return data;
        static IReadOnlyList<T> Take(IReadOnlyList<T> items, int n, string purpose)
        {
            if (items.Count <= n) return items;
            var keep = Rng.For(0, purpose).Permutation(items.Count).Take(n).Order().ToList();
            return keep.Select(i => items[i]).ToList();
        }
        return data with
        {
            Train = Take(data.Train, n, "finetune-subset-train"),
            Eval = data.Eval.Select(e => e with { Examples = Take(e.Examples, n, "finetune-subset-eval-" + e.Name) }).ToList(),
        };
    }

    static FinetuneModel NewModel(PretrainedRun run, DownstreamTask task, FinetuneHyper hyper, long seed)
        => new(run.LoadModel(), task.Kind, task.Labels, hyper.Dropout, Rng.For(seed, "finetune-head").NextSeed());

    static TaskResult RunSequence(PretrainedRun run, DownstreamTask task, TaskData<TextExample> data, DownstreamSettings settings)
    {
        var hyper = settings.HyperFor(task);
        var features = new FeatureBuilder(run.Tokenizer, run.Config.SeqLen);
        var train = data.Train.Select(e => features.EncodePair(e.A, e.B).Ids).ToList();
        using var model = NewModel(run, task, hyper, settings.Seed);
        var trace = Finetuner.Train(model, train.Count, idx =>
        {
            var (ids, mask) = Finetuner.Pad(idx.Select(i => train[i]).ToList());
            var targets = task.Kind == TaskKind.Regression
                ? torch.tensor(idx.Select(i => (float)data.Train[i].Target).ToArray())
                : torch.tensor(idx.Select(i => (long)data.Train[i].Label).ToArray());
            return new Finetuner.Batch(ids, mask, targets, null);
        }, hyper, settings.Seed, settings.Log);

        var metrics = new Dictionary<string, double>();
        var evalCounts = new Dictionary<string, int>();
        for (int s = 0; s < data.Eval.Count; s++)
        {
            var set = data.Eval[s];
            var outputs = Finetuner.PredictSequence(model, set.Examples.Select(e => features.EncodePair(e.A, e.B).Ids).ToList());
            var suffix = s == 0 ? "" : "_" + set.Name;
            evalCounts[set.Name] = set.Examples.Count;
            foreach (var (name, value) in Score(task, set.Examples, outputs)) metrics[name + suffix] = 100 * value;
        }
        if (task.Kind == TaskKind.Classification)
        {
            string Counts(IEnumerable<TextExample> xs) => string.Join(" / ", xs.GroupBy(x => x.Label).OrderBy(g => g.Key).Select(g => $"{g.Key}: {g.Count()}"));
            var balance = $"labels, train {Counts(data.Train)}; " + string.Join("; ", data.Eval.Select(e => $"{e.Name} {Counts(e.Examples)}"));
            data = data with { Notes = data.Notes.Length == 0 ? balance : data.Notes + "; " + balance };
        }
        return Result(run, task, data, hyper, settings, trace, metrics, train.Count, evalCounts);
    }

    /// <summary>The task's metrics (fractions) of one evaluation set.</summary>
    public static IEnumerable<(string Name, double Value)> Score(DownstreamTask task, IReadOnlyList<TextExample> gold, IReadOnlyList<float[]> outputs)
    {
        if (task.Kind == TaskKind.Regression)
        {
            var predicted = outputs.Select(o => (double)o[0]).ToList();
            var target = gold.Select(g => g.Target).ToList();
            yield return ("pearson", Metrics.Pearson(predicted, target));
            yield return ("spearman", Metrics.Spearman(predicted, target));
            yield break;
        }
        var labels = outputs.Select(ArgMax).ToList();
        var truth = gold.Select(g => g.Label).ToList();
        yield return ("accuracy", Metrics.Accuracy(labels, truth));
        if (task.Labels == 2)
        {
            yield return ("f1", Metrics.BinaryF1(labels, truth));
            yield return ("mcc", Metrics.MatthewsCorrelation(labels, truth));
        }
        // The score of always answering the most frequent gold label: what a model that learned nothing gets.
        var majority = truth.GroupBy(l => l).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        yield return ("majority_accuracy", Metrics.Accuracy(truth.Select(_ => majority).ToList(), truth));
    }

    static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    static TaskResult RunSpan(PretrainedRun run, DownstreamTask task, TaskData<SquadExample> data, DownstreamSettings settings)
    {
        var hyper = settings.HyperFor(task);
        var builder = new FeatureBuilder(run.Tokenizer, run.Config.SeqLen);
        var trainExamples = task.AllowsNoAnswer ? data.Train : data.Train.Where(e => !e.IsImpossible).ToList();
        var train = trainExamples.SelectMany((e, i) => builder.EncodeSpan(i, e, withTargets: true)).ToList();
        using var model = NewModel(run, task, hyper, settings.Seed);
        var trace = Finetuner.Train(model, train.Count, idx =>
        {
            var (ids, mask) = Finetuner.Pad(idx.Select(i => train[i].Ids).ToList());
            return new Finetuner.Batch(ids, mask, torch.tensor(idx.Select(i => (long)train[i].StartTarget).ToArray()),
                torch.tensor(idx.Select(i => (long)train[i].EndTarget).ToArray()));
        }, hyper, settings.Seed, settings.Log);

        var dev = data.Eval[0].Examples;
        var features = dev.SelectMany((e, i) => builder.EncodeSpan(i, e, withTargets: false)).ToList();
        var answers = Finetuner.Answers(dev, features, Finetuner.PredictSpans(model, features), task.AllowsNoAnswer);
        var score = SquadMetrics.Evaluate(dev.Select((e, i) => (answers[i], (IReadOnlyList<string>)e.Answers.Select(a => a.Text).ToList())).ToList());
        var metrics = new Dictionary<string, double> { ["exact"] = 100 * score.ExactMatch, ["f1"] = 100 * score.F1 };
        if (score.HasAnswer > 0 && score.NoAnswer > 0)
        {
            metrics["has_answer_exact"] = 100 * score.HasAnswerExact; metrics["has_answer_f1"] = 100 * score.HasAnswerF1;
            metrics["no_answer_exact"] = 100 * score.NoAnswerExact; metrics["no_answer_f1"] = 100 * score.NoAnswerF1;
        }
        var notes = string.Join("; ", new[] { data.Notes, $"{train.Count} training windows from {trainExamples.Count} questions, {features.Count} evaluation windows" }
            .Where(n => n.Length > 0));
        return Result(run, task, data with { Notes = notes }, hyper, settings, trace, metrics, trainExamples.Count,
            new Dictionary<string, int> { ["dev"] = dev.Count });
    }

    static TaskResult Result<T>(PretrainedRun run, DownstreamTask task, TaskData<T> data, FinetuneHyper hyper, DownstreamSettings settings,
        FinetuneTrace trace, Dictionary<string, double> metrics, int trainCount, Dictionary<string, int> evalCounts)
    {
        var result = new TaskResult(task.Id, task.Name, task.StandIn, task.Headline, metrics[task.Headline], metrics, trainCount, evalCounts,
            hyper, settings.Seed, trace.Steps, trace.EpochLosses, trace.Seconds, data.Source, data.Notes, run.Dir, run.Method, run.Scale, null);
        settings.Log?.Invoke($"{task.Name}: " + string.Join(", ", metrics.Select(m => $"{m.Key} {m.Value.ToString("F2", CultureInfo.InvariantCulture)}")));
        return result;
    }

    /// <summary>
    /// Table 4's averages: "GLUE Avg." is the mean of the seven GLUE headline metrics (SST-2, MNLI-m, MRPC, QQP and
    /// QNLI accuracy, CoLA MCC, STS-B Spearman), "SQuAD Avg." the mean of the SQuAD v1.1 and v2.0 F1. (Recomputing
    /// the paper's rows this way gives its printed averages, e.g. Scratch 84.63 and 83.27.) Stand-in tasks are
    /// never part of either. An average with a missing task is null and names what is missing.
    /// </summary>
    public static DownstreamSummary Summarize(IEnumerable<TaskResult> results)
    {
        var byTask = new Dictionary<string, TaskResult>();
        foreach (var r in results) byTask[r.Task] = r;
        (double? Avg, List<string> Missing) Mean(IReadOnlyList<string> ids)
        {
            var missing = ids.Where(id => !byTask.ContainsKey(id)).ToList();
            return (missing.Count == 0 ? ids.Average(id => byTask[id].HeadlineValue) : null, missing);
        }
        var glue = Mean(TaskCatalog.GlueTasks);
        var squad = Mean(TaskCatalog.SquadTasks);
        return new DownstreamSummary(glue.Avg, glue.Missing, squad.Avg, squad.Missing);
    }

    public static JsonObject ToJson(TaskResult r) => new()
    {
        ["task"] = r.Task,
        ["name"] = r.Name,
        ["standIn"] = r.StandIn,
        ["metricScale"] = "x100, as the paper's Table 4 prints them",
        ["headline"] = r.Headline,
        ["headlineValue"] = r.HeadlineValue,
        ["metrics"] = new JsonObject(r.Metrics.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)JsonValue.Create(m.Value)))),
        ["trainExamples"] = r.TrainExamples,
        ["evalExamples"] = new JsonObject(r.EvalExamples.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)JsonValue.Create(m.Value)))),
        ["hyper"] = JsonSerializer.SerializeToNode(r.Hyper),
        ["seed"] = r.Seed,
        ["steps"] = r.Steps,
        ["epochLosses"] = new JsonArray(r.EpochLosses.Select(l => (JsonNode?)JsonValue.Create(l)).ToArray()),
        ["seconds"] = r.Seconds,
        ["data"] = r.DataSource,
        ["notes"] = r.Notes,
        ["run"] = new JsonObject { ["dir"] = r.RunDir, ["method"] = r.RunMethod, ["scale"] = r.RunScale },
    };

    /// <summary>Every finetune-*.json of a run folder (for reports), in file-name order.</summary>
    public static IReadOnlyList<JsonObject> ReadResults(string runDir)
        => Directory.Exists(runDir)
            ? Directory.GetFiles(runDir, ResultsPrefix + "*.json").Order(StringComparer.Ordinal)
                .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject()).ToList()
            : [];
}
