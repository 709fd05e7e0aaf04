using ApolloBench.Baselines;
using ApolloBench.Experiments;
using ApolloBench.Runs;

namespace ApolloBench.Tests.Experiments;

/// <summary>From definitions to run specs and jobs, without training: options mapped, keys shared, shards split.</summary>
public class RunPlanTests
{
    static readonly RunSettings Settings = new() { Runs = "/runs", Cache = "/cache", Threads = 2 };

    static ArtifactPlan Plan(string id, string scale = "smoke", params string[] overrides)
        => RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, scale, overrides), Settings);

    static ArtifactPlan Parse(string json, string scale = "smoke")
        => RunPlanner.Plan(ExperimentLoader.Parse("test.json", "test", json, scale, [], Repo.Experiments), Settings);

    [Fact]
    public void A_run_several_artifacts_need_is_one_job()
    {
        var jobs = JobRunner.Expand([Plan("fig6a"), Plan("fig6b"), Plan("fig7"), Plan("table3"), Plan("table4")], Settings);
        var scratch = jobs.Single(j => j.Users.Contains("fig7:scratch"));
        Assert.Equal(["fig6a:scratch", "fig6b:scratch", "fig7:scratch", "table3:scratch", "table4:scratch"], scratch.Users);
        var apollo = jobs.Single(j => j.Users.Contains("fig7:lvps"));   // the default Apollo is LVPS k = 0 with interpolation
        Assert.Equal(["fig6a:apollo", "fig6b:apollo", "fig7:lvps", "table3:apollo-i", "table4:apollo"], apollo.Users);
        Assert.Equal(jobs.Count, jobs.Select(j => j.Folder).Distinct().Count());
        // fig6a/b/table4: scratch, stackbert, bert2bert, ligo, apollo; fig7 adds es, us, fs, none; table3 adds apollo-s.
        Assert.Equal(10, jobs.Count);
        Assert.Equal(Enumerable.Range(0, jobs.Count), jobs.Select(j => j.Index));
        // Only table4 fine-tunes, and without --data-dir only the stand-ins.
        Assert.Equal(["spam", "sotu-party"], scratch.Finetunes.Select(f => f.TaskId));
        Assert.Empty(jobs.Single(j => j.Users.Contains("fig7:es")).Finetunes);
    }

    [Fact]
    public void The_data_dir_adds_glue_and_squad_fine_tunings()
    {
        var jobs = JobRunner.Expand([Plan("table4")], Settings with { DataDir = "/glue" });
        Assert.Equal(["squad1", "squad2", "sst2", "mnli", "mrpc", "cola", "qnli", "stsb", "qqp", "spam", "sotu-party"], jobs[0].Finetunes.Select(f => f.TaskId));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Shards_are_disjoint_and_together_take_every_job(int n)
    {
        var jobs = JobRunner.Expand([Plan("fig7"), Plan("table3"), Plan("table4")], Settings);
        var taken = Enumerable.Range(1, n).Select(k => jobs.Where(j => new Shard(k, n).Owns(j.Index)).Select(j => j.Folder).ToHashSet()).ToList();
        Assert.Equal(jobs.Count, taken.Sum(t => t.Count));
        Assert.Equal(jobs.Select(j => j.Folder).ToHashSet(), taken.SelectMany(t => t).ToHashSet());
        Assert.All(taken, t => Assert.True(t.Count >= jobs.Count / n));
    }

    [Fact]
    public void Seeds_give_one_run_each_with_the_seed_in_its_train_config()
    {
        var plan = Plan("fig7", "smoke", "seeds=3");
        Assert.Equal(18, plan.Runs.Count);
        Assert.Equal([42L, 43, 44], plan.Of("es").Select(r => r.Spec.Train.Seed));
        Assert.Equal(3, plan.Of("es").Select(r => r.Folder).Distinct().Count());
    }

    const string Methods = """
        {
          "title": "t", "reproduces": "x", "model": "bert", "seeds": 1,
          "runs": {
            "scratch": { "method": "scratch" },
            "implicit": { "method": "apollo" },
            "explicit": { "method": "apollo", "options": { "sampler": "lvps", "samplerK": 0, "stages": "1,3,6,12", "stageEnds": "0.05,0.10,0.25,1.0", "mapping": "interpolate", "moments": "released" } },
            "es": { "method": "apollo", "options": { "sampler": "es" } },
            "sb": { "method": "stackbert", "options": { "stages": "3,6,12", "stageEnds": "0.2,0.4,1" } },
            "small": { "method": "scratch", "headsRatio": 0.6666667, "budget": 0.5 },
            "b2b": { "method": "bert2bert", "options": { "source": "small", "width": "fpi" } },
            "ligo": { "method": "ligo", "options": { "source": "small", "operatorSteps": 30, "operatorWarmup": 0.2 } },
            "short": { "method": "scratch", "budget": 0.25, "layers": 6 }
          },
          "target": { "reference": "scratch" },
          "outputs": { "savings": { "type": "savings-table" } }
        }
        """;

    [Fact]
    public void Definition_options_map_onto_the_methods_options()
    {
        var plan = Parse(Methods);
        MethodOptions O(string name) => plan.Of(name).Single().Spec.Options;
        Assert.Equal(plan.Of("implicit").Single().Folder, plan.Of("explicit").Single().Folder);   // defaults spelled out or left out: one run
        Assert.Equal(("es", 10.0), (O("es").Sampler, O("es").SamplerK!.Value));                    // ES's default k, written out
        Assert.Equal("0.2,0.4", O("sb").StackBertStages);
        Assert.Equal(("fpi", "20", null), (O("b2b").WidthInit, O("b2b").SmallSteps, O("b2b").SmallLayers));   // source budget 0.5 of 40 steps
        Assert.Equal(("30", "6"), (O("ligo").LigoSteps, O("ligo").LigoWarmup));                  // warmup 20% of 30 operator steps
        var shortRun = plan.Of("short").Single().Spec;
        Assert.Equal((10L, 6), (shortRun.Train.Steps, shortRun.Model.Layers));
        Assert.Equal(new MethodOptions(), O("scratch"));
    }

    [Fact]
    public void A_learning_rate_factor_scales_the_peak_rate_and_a_factor_of_one_keeps_the_run_key()
    {
        var plan = Plan("gpt-lr", "cpu");
        var fig6c = Plan("fig6c", "cpu");
        var scale = plan.Experiment.Scale.TrainFor(ApolloBench.Models.Architecture.Gpt).LearningRate;
        foreach (var name in new[] { "scratch", "stackbert", "apollo" })
        {
            var spec = plan.Of(name).Single().Spec;
            Assert.Equal(scale * 0.5, spec.Train.LearningRate);
            Assert.NotEqual(fig6c.Of(name).Single().Folder, plan.Of(name).Single().Folder);   // another rate, another run
        }
        var one = Parse(Methods.Replace("\"implicit\": { \"method\": \"apollo\" }", "\"implicit\": { \"method\": \"apollo\", \"learningRateFactor\": 1 }"));
        Assert.Equal(Parse(Methods).Of("implicit").Single().Folder, one.Of("implicit").Single().Folder);
    }

    [Fact]
    public void A_method_at_another_learning_rate_than_its_target_reference_is_refused_naming_the_key()
    {
        var json = Methods.Replace("\"es\": { \"method\": \"apollo\",", "\"es\": { \"method\": \"apollo\", \"learningRateFactor\": 0.5,");
        var e = Assert.Throws<ApolloBench.Core.UsageException>(() => Parse(json));
        Assert.Equal("test.json: runs.es.learningRateFactor: 0.5 differs from the target reference 'scratch''s 1: savings compare methods trained at the same learning rate", e.Message);
        var zero = Methods.Replace("\"scratch\": { \"method\": \"scratch\" }", "\"scratch\": { \"method\": \"scratch\", \"learningRateFactor\": 0 }");
        Assert.Contains("runs.scratch.learningRateFactor", Assert.Throws<ApolloBench.Core.UsageException>(() => Parse(zero)).Message);
    }

    [Fact]
    public void The_source_of_bert2bert_and_ligo_is_their_dependency_not_a_run_folder()
    {
        var plan = Parse(Methods);
        Assert.Empty(plan.Of("small"));
        var dependency = Assert.Single(plan.Dependencies);
        Assert.Equal("small", dependency.Name);
        Assert.Equal(["b2b", "ligo"], dependency.Consumers);
        // The small model the dependency mechanism trains is exactly the source run's shape.
        var target = plan.Of("b2b").Single().Spec.Model;
        Assert.Equal(ModelShapes.Resolve(plan.Experiment.Scale, ApolloBench.Models.Architecture.Bert, 12, 0.6666667), SmallModel.ConfigFor(target));
    }

    [Fact]
    public void Every_shipped_training_definition_resolves_at_every_scale()
    {
        foreach (var id in Repo.ArtifactIds.Except(Repo.PureMathIds))
        foreach (var scale in new[] { "smoke", "cpu", "gpu", "paper" })
        {
            var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, id, scale), Settings);
            Assert.NotEmpty(plan.Runs);
            if (scale is "smoke" or "cpu")
                foreach (var run in plan.Runs) RunExecutor.Validate(run.Spec);   // gpu and paper runs need CUDA
        }
    }
}
