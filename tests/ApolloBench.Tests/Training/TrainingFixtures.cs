using ApolloBench.Data;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Tests.Training;

/// <summary>Smoke-scale runs on a synthetic token stream with learnable structure (no corpus, no network).</summary>
static class TrainingFixtures
{
    public const int Vocab = 64, SeqLen = 16;

    public static ModelConfig Config(Architecture arch) => new(arch, 12, Hidden: 32, Heads: 2, Vocab: Vocab, SeqLen: SeqLen);

    /// <summary>A repeating pattern plus noise: enough structure for the loss to fall in a few dozen steps.</summary>
    public static int[] Tokens(int n, int seed = 1)
    {
        var rng = new Core.Rng((ulong)seed);
        var ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = rng.NextDouble() < 0.8 ? 6 + (i * 7 % 23) : 6 + rng.NextInt(Vocab - 6);
        return ids;
    }

    public static TrainConfig Train(long steps = 20, int threads = 1) => new()
    {
        Steps = steps, BatchSize = 4, LearningRate = 2e-3, EvalEvery = 5, EvalBatches = 2, Threads = threads, Seed = 42,
    };

    public static Trainer Trainer(Architecture arch, GrowthMethod method, TrainConfig train, long initSeed = 42)
    {
        var objective = arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;
        var stream = new BatchStream(Tokens(20000), objective, train.BatchSize, SeqLen, Vocab, train.Seed);
        var eval = BatchStream.EvaluationBatches(Tokens(4000, seed: 2), objective, train.BatchSize, SeqLen, Vocab, train.EvalBatches, 7);
        return new Trainer(LanguageModel.Create(Config(arch), initSeed), method, train, stream, eval);
    }

    /// <summary>The trainer's calibration for a smoke run of <paramref name="arch"/>, on a fixed batch of the fixture's stream.</summary>
    public static Calibration Calibration(Architecture arch, TrainConfig train)
    {
        var objective = arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;
        var stream = new BatchStream(Tokens(20000), objective, train.BatchSize, SeqLen, Vocab, train.Seed);
        return new Calibration(Config(arch), train, TorchSharp.torch.CPU, () => stream.At(0));
    }

    public static Apollo Apollo(string sampler = "lvps", MappingKind mapping = MappingKind.Interpolate, MomentPolicy moments = MomentPolicy.Released)
        => new(StageSchedule.Parse("1,3,6,12", "0.05,0.10,0.25,1.0", 12), mapping, DepthSampler.Create(sampler, null), moments);
}
