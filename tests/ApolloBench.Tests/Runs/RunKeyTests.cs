using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Runs;

/// <summary>
/// Run keys as literals: a key names a run folder, so a change that moves one makes every finished run look
/// unfinished. These were computed by main's code at 303e9c9, before the restructure of issue 13 (the committed cpu
/// reports were trained before TrainConfig gained dropout and precision, under the keys their results.json names),
/// and are resolved here from the shipped definitions, shared run sets and scales.json.
/// </summary>
public class RunKeyTests
{
    static readonly RunSettings Settings = new() { Runs = "/runs", Cache = "/cache", Threads = 2 };

    static string Key(string id, string scale, string run)
        => RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, scale), Settings).Of(run).First().Spec.Key();

    [Theory]
    [InlineData("fig6a", "cpu", "scratch", "c6bb919ee1189383")]
    [InlineData("fig6a", "cpu", "stackbert", "d579816f6bfdddaf")]
    [InlineData("fig6a", "cpu", "bert2bert", "2bbe3e01d0ef01d7")]
    [InlineData("fig6a", "cpu", "ligo", "68005b868b391258")]
    [InlineData("fig6a", "cpu", "apollo", "154f671d2e718cfc")]
    [InlineData("fig6a", "cpu", "apollo-from3", "9ee451435a4e957c")]
    [InlineData("fig7", "cpu", "lvps", "154f671d2e718cfc")]
    [InlineData("table4", "cpu", "ligo", "68005b868b391258")]
    [InlineData("fig6c", "cpu", "apollo", "c21b3dce4a55d151")]
    [InlineData("fig8", "cpu", "scratch", "4dd711847b0579d5")]
    [InlineData("fig6a", "smoke", "scratch", "78c8d62ae5c97fb5")]
    public void A_runs_key_does_not_move(string id, string scale, string run, string key)
        => Assert.Equal(key, Key(id, scale, run));
}
