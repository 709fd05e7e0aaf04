using ApolloBench.Baselines;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Baselines;

/// <summary>
/// The baselines' tests run one at a time, never beside another test class: torch's global generator (model init)
/// and thread count are process-wide, and exactness checks need both undisturbed.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public class BaselinesCollection
{
    public const string Name = "baselines";
}

/// <summary>Tiny shapes for the baselines' tests: hidden 32 (2 heads of 16), small model hidden 16 (1 head), vocab 64, sequence 16.</summary>
static class BaselineFixtures
{
    public const int Vocab = 64, SeqLen = 16;

    public static ModelConfig Large(Architecture arch, int layers = 12) => new(arch, layers, Hidden: 32, Heads: 2, Vocab: Vocab, SeqLen: SeqLen);

    public static ModelConfig Small(Architecture arch, int layers = 12) => new(arch, layers, Hidden: 16, Heads: 1, Vocab: Vocab, SeqLen: SeqLen);

    public static TrainConfig Train(long steps, int threads = 1) => new()
    {
        Steps = steps, BatchSize = 4, LearningRate = 2e-3, EvalEvery = 5, EvalBatches = 2, Threads = threads, Seed = 42,
    };

    public static Trainer Trainer(ModelConfig target, GrowthMethod method, TrainConfig train)
    {
        var objective = target.Arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;
        var stream = new BatchStream(Training.TrainingFixtures.Tokens(20000), objective, train.BatchSize, SeqLen, Vocab, train.Seed);
        var eval = BatchStream.EvaluationBatches(Training.TrainingFixtures.Tokens(4000, seed: 2), objective, train.BatchSize, SeqLen, Vocab, train.EvalBatches, 7);
        return new Trainer(LanguageModel.Create(target, 42), method, train, stream, eval);
    }

    /// <summary>A model whose every parameter (LayerNorm gains and all biases included) is moved off its initial value, so no rule can pass by accident on zeros and ones.</summary>
    public static LanguageModel Perturbed(ModelConfig config, long seed)
    {
        var model = LanguageModel.Create(config, seed);
        using var generator = new torch.Generator((ulong)seed + 1000);
        using var _ = torch.no_grad();
        foreach (var p in model.parameters()) p.add_(torch.randn(p.shape, generator: generator).mul_(0.1));
        model.eval();
        return model;
    }

    /// <summary>A source that hands out a perturbed untrained small model with a made-up cost.</summary>
    public static DelegateSmallModelSource Source(double flops = 1.5e9, double seconds = 2.0, long steps = 7)
        => new(c => new SmallModel(Perturbed(c, 5), flops, seconds, steps, new string('a', 64), FromCache: true));

    public static Tensor Ids(long seed = 11)
    {
        using var generator = new torch.Generator((ulong)seed);
        return torch.randint(0, Vocab, [2, SeqLen], dtype: int64, generator: generator);
    }

    public static Tensor Logits(LanguageModel model, Tensor ids)
    {
        model.eval();
        using var _ = torch.no_grad();
        return model.Forward(ids, ids, LanguageModel.IdentityPlan(model.Config.Layers), withLogits: true).Logits!;
    }

    public static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.equal(b).all().item<bool>();

    public static float[] Floats(Tensor t) => t.contiguous().data<float>().ToArray();
}
