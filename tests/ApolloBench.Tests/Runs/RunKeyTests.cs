using System.Text.Json;
using ApolloBench.Experiments;
using ApolloBench.Runs;
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
    [InlineData("fig6a", "cpu", "scratch", "5b9e6b79bdfd3b02")]
    [InlineData("fig6a", "cpu", "stackbert", "7315ff445cb4b494")]
    [InlineData("fig6a", "cpu", "bert2bert", "32c50e69f03c25e2")]
    [InlineData("fig6a", "cpu", "ligo", "293575862b194d0d")]
    [InlineData("fig6a", "cpu", "apollo", "f4ce4ffc869baed3")]
    [InlineData("fig7", "cpu", "lvps", "f4ce4ffc869baed3")]
    [InlineData("table4", "cpu", "ligo", "293575862b194d0d")]
    [InlineData("fig6c", "cpu", "apollo", "0c2c5f45bc669d74")]
    [InlineData("fig8", "cpu", "scratch", "3d35bfedc1c742ab")]
    [InlineData("fig6a", "smoke", "scratch", "2c48735d3e4aab44")]
    public void A_runs_key_does_not_move(string id, string scale, string run, string key)
        => Assert.Equal(key, Key(id, scale, run));

    /// <summary>What every format-2 key hashes of a run's method options, set or not (they are in every committed record's key).</summary>
    static readonly string[] KeyedOptions =
    [
        "Sampler", "SamplerK", "Stages", "StageEnds", "Mapping", "Moments", "StackBertStages", "WidthInit", "TwoStage",
        "LigoSteps", "LigoLr", "LigoWarmup", "SmallLayers", "SmallSteps", "SmallLayersValue",
    ];

    /// <summary>
    /// A new method's option must not move the keys of the runs that do not use it (every cached run and committed record
    /// would look unfinished): left at its default it must be absent from the key, as a nullable property, null meaning
    /// its default, that the serializer leaves out when null.
    /// </summary>
    [Fact]
    public void A_method_option_left_at_its_default_adds_nothing_to_a_key()
    {
        var keyed = JsonSerializer.SerializeToNode(new MethodOptions())!.AsObject().Select(p => p.Key).ToList();
        foreach (var extra in keyed.Except(KeyedOptions))
            Assert.Fail($"MethodOptions.{extra} enters every run's key, so every finished run would look unfinished: make it nullable, " +
                        "null meaning its default, with [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]");
        Assert.Equal(KeyedOptions, keyed);
    }

    [Fact]
    public void Naming_the_default_corpus_is_the_default_corpus()
    {
        var e = ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu");
        var named = RunPlanner.Plan(e, Settings with { Corpus = "sotu" }).Of("apollo").First().Spec;
        Assert.Equal("sotu", named.Corpus);
        Assert.Equal("f4ce4ffc869baed3", named.Key());
    }

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
