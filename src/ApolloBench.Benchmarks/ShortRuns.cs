using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Benchmarks;

/// <summary>
/// Short training runs of a scale's model on the real corpus, in this process, through the trainer every run uses (same data
/// streams, held-out batches, initialisation and clock as <see cref="RunExecutor"/>), with a shorter budget: what the bench
/// needs to compare losses after the same number of steps, and wall time between methods. Nothing is written to disk.
/// </summary>
public static class ShortRuns
{
    /// <summary>The scale's training settings for <paramref name="arch"/> with a budget of <paramref name="steps"/> and the given changes.</summary>
    public static TrainConfig Settings(Scale scale, Architecture arch, long steps, int evalEvery, int threads, string precision, long seed)
        => scale.TrainFor(arch) with { Steps = steps, EvalEvery = evalEvery, Threads = threads, Precision = precision, Seed = seed, Device = "cpu" };

    /// <summary>Trains <paramref name="method"/> (a fresh one per call) from the run's seed and returns what the trainer recorded.</summary>
    public static RunResult Train(Scale scale, Architecture arch, TrainConfig train, GrowthMethod method, TokenizedCorpus tokens)
    {
        var config = scale.ModelFor(arch);
        var stream = new BatchStream(tokens.Train, RunExecutor.ObjectiveOf(arch), train.BatchSize, config.SeqLen, tokens.VocabSize, train.Seed);
        var heldOut = RunExecutor.HeldOut(tokens, arch, train.BatchSize, config.SeqLen, train.EvalBatches);
        try
        {
            var trainer = new Trainer(LanguageModel.Create(config, train.Seed), method, train, stream, heldOut);
            var result = trainer.Run();
            trainer.Session.Optimizer.Dispose();
            trainer.Session.Model.Dispose();
            return result;
        }
        finally
        {
            foreach (var b in heldOut) b.Dispose();
        }
    }

    /// <summary>Apollo as the paper runs it: stages 1, 3, 6, 12 ending at 5/10/25/100% of the budget, LVPS (k = 0), interpolation, released moments.</summary>
    public static Apollo PaperApollo(int layers)
        => new(StageSchedule.Paper(layers), MappingKind.Interpolate, DepthSampler.Create("lvps", null), MomentPolicy.Released);
}
