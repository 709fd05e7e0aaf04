using System.Text.Json.Nodes;
using ApolloBench.Cli;
using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Runs;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// Every command that trains says first when a run would go over its corpus more than 10 times (<see cref="CorpusPasses"/>).
/// The smoke scale trains 40 x 4 x 32 = 5,120 tokens: over the workspace's pseudo-corpus (40 documents, about 15,000
/// training tokens) that is well under one pass, over a two-document corpus (one for training, about 300 tokens) well over ten.
/// </summary>
[Collection("cli")]
public class PassesWarningTests : IDisposable
{
    readonly HarnessWorkspace w = new();
    public void Dispose() => w.Dispose();

    string Tiny()
    {
        var dir = Path.Combine(w.Root, "tiny");
        Directory.CreateDirectory(dir);
        string[] words = ["the", "union", "congress", "people", "nation", "state", "law", "war", "peace", "trade"];
        var rng = new ApolloBench.Core.Rng(11);
        for (int d = 0; d < 2; d++)
            File.WriteAllText(Path.Combine(dir, $"doc{d}.txt"), string.Join(' ', Enumerable.Range(0, 300).Select(_ => words[rng.NextInt(words.Length)])) + ".");
        return dir;
    }

    /// <summary>The passes a smoke-scale run makes over <paramref name="corpus"/>, counted here from the tokenised corpus.</summary>
    string SmokePasses(string corpus)
    {
        var smoke = Repo.Scales.Get("smoke");
        var model = smoke.ModelFor(ApolloBench.Models.Architecture.Bert);
        var train = smoke.TrainFor(ApolloBench.Models.Architecture.Bert);
        var tokens = RunExecutor.Tokens(corpus, model.Vocab, w.Cache);
        return ((double)train.Steps * train.BatchSize * model.SeqLen / tokens.Train.Length).ToString("#,0.0", System.Globalization.CultureInfo.InvariantCulture);
    }

    static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    (int Code, string Output) Train(string corpus, string outDir)
    {
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            var code = CliApp.Run(["train", "--scale", "smoke", "--model", "bert", "--method", "scratch", "--corpus", corpus, "--cache", w.Cache,
                "--out", outDir, "--threads", "1"]);
            return (code, output.ToString());
        }
        finally
        {
            Console.SetOut(console);
        }
    }

    [Fact]
    public void Train_warns_on_its_first_line_over_a_tiny_corpus_and_records_the_passes_in_the_manifest()
    {
        var tiny = Tiny();
        var passes = SmokePasses(tiny);
        Assert.True(double.Parse(passes, System.Globalization.CultureInfo.InvariantCulture) > 10, $"the tiny corpus must take more than 10 passes, got {passes}");
        var outDir = Path.Combine(w.Root, "tiny-run");

        var (code, output) = Train(tiny, outDir);

        Assert.Equal(0, code);
        Assert.StartsWith($"warning: tiny-run: {passes} passes over {tiny} (", Lines(output)[0]);
        Assert.Contains("more than 10 repeats the data", Lines(output)[0]);
        var corpus = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "manifest.json")))!["corpus"]!;
        Assert.Equal(passes, corpus["passes"]!.GetValue<double>().ToString("#,0.0", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(40 * 4 * 32, corpus["tokensTrained"]!.GetValue<long>());
    }

    [Fact]
    public void Train_over_a_corpus_big_enough_says_its_passes_without_a_warning()
    {
        var passes = SmokePasses(w.Corpus);
        Assert.True(double.Parse(passes, System.Globalization.CultureInfo.InvariantCulture) < 10, passes);
        var (code, output) = Train(w.Corpus, Path.Combine(w.Root, "run"));

        Assert.Equal(0, code);
        Assert.DoesNotContain(Lines(output), l => l.StartsWith("warning:", StringComparison.Ordinal));
        Assert.Contains(Lines(output), l => l.StartsWith("corpus: ", StringComparison.Ordinal) && l.EndsWith($"; {passes} passes (5,120 tokens of training)", StringComparison.Ordinal));
    }

    ReproduceOptions Options(string corpus) => new()
    {
        Experiments = Repo.Experiments, Scale = "smoke", Out = w.Out, Runs = w.Runs, Cache = w.Cache, Corpus = corpus, Threads = 1,
    };

    /// <summary>Cancels its token when a line it is given contains <paramref name="trigger"/>.</summary>
    sealed class CancelOn(string trigger, CancellationTokenSource source) : StringWriter
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            if (value?.Contains(trigger, StringComparison.Ordinal) == true) source.Cancel();
        }
    }

    /// <summary>
    /// Stopped while its first run trains, reproduce says where in one sentence: "stopped at step N in job 1/5 (folder),
    /// its checkpoint saved; ..." (it once said "stopped stopped at step N").
    /// </summary>
    [Fact]
    public void A_reproduce_stopped_mid_run_names_the_step_and_the_job_once()
    {
        using var stop = new CancellationTokenSource();
        var log = new CancelOn(": step ", stop);   // a progress line of the first run
        var e = Assert.Throws<JobsStopped>(() => Harness.Reproduce("fig6a", Options(w.Corpus), log, stop: stop.Token));
        Assert.Matches(@"^stopped at step [0-9]+ in job 1/[0-9]+ \([a-z0-9-]+\), its checkpoint saved; ", e.Message);
        Assert.DoesNotContain("stopped stopped", e.Message);
    }

    /// <summary>
    /// A stopped reproduce counts the jobs it has not passed, and when some of them are finished runs (which the next call
    /// only reuses) it says which have training left: once it said "5 jobs of 5 left" with four of them finished.
    /// </summary>
    [Fact]
    public void A_reproduce_stopped_before_finished_runs_says_which_jobs_have_training_left()
    {
        Harness.Reproduce("fig6a", Options(w.Corpus), new StringWriter());
        var first = w.RunFolders().Single(f => f.StartsWith("bert-scratch-", StringComparison.Ordinal));
        Directory.Delete(Path.Combine(w.Runs, first), recursive: true);

        using var stop = new CancellationTokenSource();
        var e = Assert.Throws<JobsStopped>(() => Harness.Reproduce("fig6a", Options(w.Corpus), new CancelOn(": step ", stop), stop: stop.Token));
        Assert.Matches(@"^stopped at step [0-9]+ in job 1/5 \(bert-scratch-[a-z0-9-]+\), its checkpoint saved; 5 jobs of 5 left \(1, 2, 3, 4, 5\): " +
                       @"1 with training left \(1\), the rest finished runs the next call reuses$", e.Message);

        // stopped before its first job with nothing finished, the count needs no such split
        Directory.Delete(w.Runs, recursive: true);
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        e = Assert.Throws<JobsStopped>(() => Harness.Reproduce("fig6a", Options(w.Corpus), new StringWriter(), stop: stopped.Token));
        Assert.Equal("stopped before job 1/5; 5 jobs of 5 left (1, 2, 3, 4, 5)", e.Message);
    }

    [Fact]
    public void Reproduce_warns_first_once_for_the_runs_of_the_same_passes_and_not_over_a_corpus_big_enough()
    {
        // Stopped before its first job: what reproduce says before it trains anything.
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        var tiny = Tiny();
        var log = new StringWriter();
        Assert.Throws<JobsStopped>(() => Harness.Reproduce("fig6a", Options(tiny), log, stop: stopped.Token));
        var lines = Lines(log.ToString());
        Assert.StartsWith("warning: 5 runs (fig6a:scratch, fig6a:stackbert, fig6a:bert2bert, fig6a:ligo, ...): " +
                          $"{SmokePasses(tiny)} passes over {Path.GetFullPath(tiny)} (", lines[0]);
        Assert.StartsWith("jobs: 5 runs", lines[1]);
        Assert.Empty(w.RunFolders());

        log = new StringWriter();
        Assert.Throws<JobsStopped>(() => Harness.Reproduce("fig6a", Options(w.Corpus), log, stop: stopped.Token));
        Assert.StartsWith("jobs: 5 runs", Lines(log.ToString())[0]);
    }

    [Fact]
    public void Scales_warns_first_for_the_candidates_runs()
    {
        var tiny = Tiny();
        var smoke = File.ReadAllText(Path.Combine(Repo.Experiments, Scales.FileName));
        int start = smoke.IndexOf("\"smoke\": {", StringComparison.Ordinal), end = smoke.IndexOf("\"cpu\": {", StringComparison.Ordinal);
        var candidates = Path.Combine(w.Root, "candidates.json");
        File.WriteAllText(candidates, $$"""{ "same": {{smoke[(start + "\"smoke\": ".Length)..end].TrimEnd().TrimEnd(',')}} }""");
        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        int code;
        try
        {
            code = CliApp.Run(["scales", "--candidates", candidates, "--scale", "smoke", "--runs", w.Runs, "--cache", w.Cache, "--corpus", tiny,
                "--threads", "1", "--time-threads", "1", "--out", Path.Combine(w.Root, "scales.md"), "--experiments", Repo.Experiments]);
        }
        finally
        {
            Console.SetOut(console);
        }
        Assert.Equal(0, code);
        Assert.StartsWith($"warning: 4 runs (scale-same:bert-scratch, scale-same:bert-apollo, scale-same:gpt-scratch, scale-same:gpt-apollo): {SmokePasses(tiny)} passes over ",
            Lines(output.ToString())[0]);
    }
}
