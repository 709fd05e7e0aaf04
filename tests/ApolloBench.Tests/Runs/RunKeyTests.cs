using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Runs;

/// <summary>
/// Run keys as literals: a key names a run folder, so a change that moves one makes every finished run look
/// unfinished. Pinned before the restructure of issue 13 (which moved none), then moved on purpose once: run format 2
/// (the thread count left the key; dropout and precision entered it with TrainConfig; the cpu scale's budgets and warmup
/// were chosen by measurement, reports/scales.md). They are resolved here from the shipped definitions, shared run sets
/// and scales.json.
/// </summary>
public class RunKeyTests
{
    static readonly RunSettings Settings = new() { Runs = "/runs", Cache = "/cache", Threads = 2 };

    static string Key(string id, string scale, string run)
        => RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, scale), Settings).Of(run).First().Spec.Key();

    [Theory]
    [InlineData("fig6a", "cpu", "scratch", "34df7a9d8204e603")]
    [InlineData("fig6a", "cpu", "stackbert", "78376d407fe23c73")]
    [InlineData("fig6a", "cpu", "bert2bert", "2309cca27b76bc2b")]
    [InlineData("fig6a", "cpu", "ligo", "a743943fef34568f")]
    [InlineData("fig6a", "cpu", "apollo", "a34203bc42e78b5b")]
    [InlineData("fig6a", "cpu", "apollo-from3", "db13e0b61b6f9b7e")]
    [InlineData("fig7", "cpu", "lvps", "a34203bc42e78b5b")]
    [InlineData("table4", "cpu", "ligo", "a743943fef34568f")]
    [InlineData("fig6c", "cpu", "apollo", "c03cc05a5ef14d60")]
    [InlineData("fig8", "cpu", "scratch", "c25581d7d25209c9")]
    [InlineData("fig6a", "smoke", "scratch", "2c48735d3e4aab44")]
    public void A_runs_key_does_not_move(string id, string scale, string run, string key)
        => Assert.Equal(key, Key(id, scale, run));

    [Fact]
    public void The_thread_count_is_not_part_of_a_key()
    {
        var e = ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu");
        var one = RunPlanner.Plan(e, Settings with { Threads = 1 }).Of("apollo").First().Spec;
        var two = RunPlanner.Plan(e, Settings).Of("apollo").First().Spec;
        Assert.NotEqual(one.Train.Threads, two.Train.Threads);
        Assert.Equal(one.Key(), two.Key());
        Assert.DoesNotContain("Threads", one.Canonical());
    }
}
