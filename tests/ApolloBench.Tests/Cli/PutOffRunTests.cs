using ApolloBench.Cli;
using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Runs;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// A run another process trains (another shard, or a second <c>reproduce</c> without <c>--shard</c> on the same runs
/// folder) is put off: the process trains the jobs after it first, so two processes share a plan's runs without a static
/// split, and only then waits for the put-off run (here: trains it, since the holder leaves it unfinished).
/// </summary>
[Collection("cli")]
public class PutOffRunTests : IDisposable
{
    readonly HarnessWorkspace w = new();

    public void Dispose() => w.Dispose();

    const string TwoRuns = """
        {
          "title": "Two runs", "reproduces": "nothing (a test)", "model": "bert", "seeds": 1,
          "runs": { "scratch": { "method": "scratch" }, "apollo": { "method": "apollo" } },
          "target": { "reference": "scratch" },
          "outputs": { "curves": { "type": "loss-vs-flops" } }
        }
        """;

    [Fact]
    public async Task A_run_another_process_holds_is_put_off_the_next_is_trained_first_and_the_put_off_one_after()
    {
        var experiments = Repo.NewExperimentsFolder(w.Root);
        File.WriteAllText(Path.Combine(experiments, "two.json"), TwoRuns);
        var options = new ReproduceOptions
        {
            Experiments = experiments, Scale = "smoke", Out = w.Out, Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1, CheckpointEvery = 0,
        };
        var settings = options.RunSettings();
        var plan = RunPlanner.Plan(ExperimentLoader.Load(experiments, "two", "smoke"), settings);
        var first = JobRunner.Expand([plan], settings)[0];
        Assert.Equal("scratch", first.Spec.Method);

        var text = new StringWriter();
        var log = TextWriter.Synchronized(text);
        string Log() { lock (log) return text.ToString(); }
        var held = FolderLock.TryAcquire(RunExecutor.LockFile(first.Folder), out _)!;   // "another process" trains job 1
        var reproduce = Task.Run(() => Harness.Reproduce("two", options, log));
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!Log().Contains("): trained", StringComparison.Ordinal) && !reproduce.IsCompleted && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.False(reproduce.IsCompleted, Log());
        // job 2 is trained while job 1's holder still has it; job 1 is untouched
        Assert.Contains($"[1/2] {first}: process {Environment.ProcessId} trains it; taking the jobs after it first", Log());
        Assert.Contains("[2/2] ", Log().Split('\n').Single(l => l.EndsWith("): trained", StringComparison.Ordinal)));
        Assert.False(RunExecutor.IsComplete(first.Folder));
        while (!Log().Contains("holds it; waiting for it", StringComparison.Ordinal) && DateTime.UtcNow < deadline) await Task.Delay(20);
        held.Dispose();   // the holder stops without finishing it: the waiting process trains it
        int code = await reproduce.WaitAsync(TimeSpan.FromMinutes(3));
        Assert.True(code == 0, Log());
        var lines = Log().Split('\n');
        int Line(string s) => Array.FindIndex(lines, l => l.Contains(s, StringComparison.Ordinal));
        Assert.True(Line("[2/2] ") < Line($"[1/2] {first}: the other process is done; going on"));
        Assert.EndsWith("): trained", lines.Last(l => l.Contains("[1/2] ", StringComparison.Ordinal)).TrimEnd());
        Assert.True(RunExecutor.IsComplete(first.Folder));
    }
}
