using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Runs;
using ApolloBench.Tests.Baselines;
using ApolloBench.Tests.Data;
using ApolloBench.Training;
using static ApolloBench.Tests.Baselines.BaselineFixtures;

namespace ApolloBench.Tests.Runs;

[Collection(BaselinesCollection.Name)]
public class SmallModelDependencyTests
{
    static SmallModelDependency Dependency(string cache, TrainConfig train, string corpus, Action onData)
        => new(cache, train, corpus, (c, t) =>
        {
            onData();
            var stream = new BatchStream(Training.TrainingFixtures.Tokens(20000), Objective.CausalLm, t.BatchSize, c.SeqLen, c.Vocab, t.Seed);
            return (stream, BatchStream.EvaluationBatches(Training.TrainingFixtures.Tokens(4000, seed: 2), Objective.CausalLm, t.BatchSize, c.SeqLen, c.Vocab, 1, 7));
        });

    [Fact]
    public void The_small_model_is_trained_once_cached_atomically_and_reused_bit_identically()
    {
        using var dir = new TempDir();
        var config = Small(Architecture.Gpt, 2);
        int trainings = 0;
        var first = Dependency(dir.Path, Train(3), "corpus-a", () => trainings++).Get(config);
        Assert.False(first.FromCache);
        Assert.Equal(1, trainings);
        Assert.Equal(3, first.Steps);
        Assert.True(first.Flops > 0 && first.WallSeconds > 0);
        var folder = Path.Combine(dir.Path, "dependencies", first.Key);
        foreach (var file in new[] { SmallModelDependency.ModelFile, RunFiles.Manifest, RunFiles.Curve, RunFiles.Ledger })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir.Path, "dependencies"), "*.tmp-*"));

        // A later run (a new source, as a new process would build) finds it and does not train.
        var second = Dependency(dir.Path, Train(3), "corpus-a", () => trainings++).Get(config);
        Assert.True(second.FromCache);
        Assert.Equal(1, trainings);
        Assert.Equal((first.Flops, first.WallSeconds, first.Key), (second.Flops, second.WallSeconds, second.Key));
        Assert.True(first.Model.parameters().Zip(second.Model.parameters()).All(x => Same(x.First, x.Second)));
        Assert.Equal(config, second.Model.Config);
    }

    [Fact]
    public void The_key_covers_the_model_the_train_config_and_the_corpus()
    {
        var baseline = Dependency("/nowhere", Train(3), "corpus-a", () => { });
        var config = Small(Architecture.Gpt, 2);
        var key = baseline.KeyFor(config);
        Assert.Equal(64, key.Length);
        Assert.Equal(key, Dependency("/elsewhere", Train(3), "corpus-a", () => { }).KeyFor(config));
        Assert.NotEqual(key, baseline.KeyFor(config with { Layers = 3 }));
        Assert.NotEqual(key, baseline.KeyFor(config with { Arch = Architecture.Bert }));
        Assert.NotEqual(key, Dependency("/nowhere", Train(4), "corpus-a", () => { }).KeyFor(config));
        Assert.NotEqual(key, Dependency("/nowhere", Train(3) with { Seed = 1 }, "corpus-a", () => { }).KeyFor(config));
        Assert.NotEqual(key, Dependency("/nowhere", Train(3), "corpus-b", () => { }).KeyFor(config));
    }
}
