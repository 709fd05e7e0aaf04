using ApolloBench.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Experiments;

/// <summary>The definitions in experiments/: one per paper artifact, each valid at every scale, each carrying the paper's numbers.</summary>
public class ShippedDefinitionTests
{
    public static TheoryData<string, string> IdsAndScales()
    {
        var data = new TheoryData<string, string>();
        foreach (var id in Repo.DefinitionIds)
        foreach (var scale in Repo.Scales.Names)
            data.Add(id, scale);
        return data;
    }

    [Fact]
    public void There_is_one_definition_per_paper_artifact_and_the_added_ones_say_they_are_not_in_the_paper()
    {
        Assert.Equal(Repo.DefinitionIds.Order(), ExperimentLoader.Ids(Repo.Experiments).Order());
        foreach (var id in Repo.DefinitionIds.Except(Repo.ArtifactIds))
            Assert.StartsWith("not in the paper", ExperimentLoader.Load(Repo.Experiments, id, "cpu").Reproduces);
    }

    [Theory]
    [MemberData(nameof(IdsAndScales))]
    public void Loads_and_validates(string id, string scale)
    {
        var e = ExperimentLoader.Load(Repo.Experiments, id, scale);
        Assert.Equal(scale, e.Scale.Name);
        Assert.False(string.IsNullOrWhiteSpace(e.Title));
        Assert.False(string.IsNullOrWhiteSpace(e.Definition.PaperSource));
        Assert.Equal(Repo.PureMathIds.Contains(id), !e.NeedsTraining);
        Assert.NotEmpty(e.Outputs);
    }

    [Fact]
    public void Seeds_follow_the_scale_overlay()
    {
        Assert.Equal(1, ExperimentLoader.Load(Repo.Experiments, "fig7", "smoke").Seeds);
        Assert.Equal(1, ExperimentLoader.Load(Repo.Experiments, "fig7", "cpu").Seeds);   // cpu: one seed keeps an artifact within about an hour on 2 cores
        Assert.Equal(new long[] { 42, 43, 44 }, ExperimentLoader.Load(Repo.Experiments, "fig7", "gpu").SeedValues);
    }

    [Fact]
    public void Keyed_objects_keep_the_order_of_the_file()
    {
        Assert.Equal(["scratch", "lvps", "es", "us", "fs", "none"], ExperimentLoader.Load(Repo.Experiments, "fig7", "smoke").Runs.Keys);
        // A run that only the cpu overlay adds comes after the file's own.
        Assert.Equal(["scratch", "lvps", "es", "us", "fs", "none", "lvps-from3"], ExperimentLoader.Load(Repo.Experiments, "fig7", "cpu").Runs.Keys);
    }

    [Fact]
    public void Training_artifacts_carry_the_papers_savings()
    {
        double? Flops(string id, string run) => ExperimentLoader.Load(Repo.Experiments, id, "cpu").Runs[run].Paper?.FlopsSaving;
        Assert.Equal(41.6, Flops("fig7", "lvps"));
        Assert.Equal(47.9, Flops("fig6c", "apollo"));
        Assert.Equal(55.1, Flops("fig8", "apollo"));
        Assert.Equal(41.1, ExperimentLoader.Load(Repo.Experiments, "fig6b", "cpu").Runs["apollo"].Paper?.WallSaving);
        Assert.Equal(84.63, ExperimentLoader.Load(Repo.Experiments, "table4", "cpu").Runs["scratch"].Paper?.Groups?["glue"]);
    }

    [Fact]
    public void A_set_override_wins_over_the_overlay()
    {
        var e = ExperimentLoader.Load(Repo.Experiments, "fig7", "smoke", ["seeds=5", "runs.lvps.options.samplerK=2"]);
        Assert.Equal(5, e.Seeds);
        Assert.Equal(2, e.Runs["lvps"].Options!.SamplerK);
    }
}
