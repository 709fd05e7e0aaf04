using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Runs;

/// <summary>
/// Run keys as literals: a key names a run folder, so a change that moves one makes every finished run look
/// unfinished. These are the keys of the runs the committed cpu reports were trained under
/// (<c>reports/*/cpu/results.json</c>, "runKey"), resolved from the shipped definitions and scales.
/// </summary>
public class RunKeyTests
{
    static readonly RunSettings Settings = new() { Runs = "/runs", Cache = "/cache", Threads = 2 };

    static string Key(string id, string scale, string run)
        => RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, scale), Settings).Of(run).First().Spec.Key();

    [Theory]
    [InlineData("fig6a", "cpu", "scratch", "80c18662478288bd")]
    [InlineData("fig6a", "cpu", "stackbert", "f674d9e2cb838e07")]
    [InlineData("fig6a", "cpu", "bert2bert", "65ea7606e7a5a8ad")]
    [InlineData("fig6a", "cpu", "ligo", "4695b59b42ad444d")]
    [InlineData("fig6a", "cpu", "apollo", "336135fd4bb0aeee")]
    [InlineData("fig6a", "cpu", "apollo-from3", "eeb70744b96f3b73")]
    [InlineData("fig7", "cpu", "lvps", "336135fd4bb0aeee")]
    [InlineData("table4", "cpu", "ligo", "4695b59b42ad444d")]
    [InlineData("fig6c", "cpu", "apollo", "821b63c48b7542ac")]
    [InlineData("fig8", "cpu", "scratch", "7b23cd7f9773d955")]
    [InlineData("fig6a", "smoke", "scratch", "22619eb004438962")]
    public void A_runs_key_does_not_move(string id, string scale, string run, string key)
        => Assert.Equal(key, Key(id, scale, run));
}
