using System.Diagnostics;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Benchmarks;

/// <summary>
/// One training step on a fixed batch, exactly as the trainer runs it (forward under a plan,
/// backward, clipping, AdamW), without the data pipeline: what the speed comparisons time.
/// </summary>
public sealed class StepHarness : IDisposable
{
    readonly LanguageModel model;
    readonly AdamW optimizer;
    readonly Tensor ids, labels;
    readonly int predicted;

    public StepHarness(ModelConfig config, int batch, long seed = 0)
    {
        model = LanguageModel.Create(config, seed);
        optimizer = new AdamW(model.named_parameters().Select(p => (p.name, p.parameter)), new AdamW.Settings());
        torch.manual_seed(seed);
        ids = torch.randint(6, config.Vocab, [batch, config.SeqLen], dtype: int64);
        if (config.Arch == Architecture.Bert)
        {
            var chosen = torch.rand(batch, config.SeqLen).lt(0.15);
            labels = torch.where(chosen, ids, torch.full_like(ids, Data.Batch.IgnoreIndex));
            predicted = (int)chosen.sum().item<long>();
        }
        else
        {
            labels = torch.randint(6, config.Vocab, [batch, config.SeqLen], dtype: int64);
            predicted = batch * config.SeqLen;
        }
    }

    public LanguageModel Model => model;
    public long TokensPerStep => ids.numel();

    public FlopCount Flops(int depth) => model.StepFlops(depth, (int)ids.shape[0], (int)ids.shape[1], predicted);

    public void Step(int[] plan)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.ZeroGrad();
        model.Forward(ids, labels, plan).Loss.backward();
        optimizer.ClipGradNorm(1.0);
        optimizer.Step(1e-4);
        optimizer.ZeroGrad();
    }

    /// <summary>Median seconds per step over <paramref name="repeats"/> timed steps, after <paramref name="warmup"/> untimed ones.</summary>
    public double SecondsPerStep(int[] plan, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) Step(plan);
        var times = new double[repeats];
        var sw = new Stopwatch();
        for (int i = 0; i < repeats; i++)
        {
            sw.Restart();
            Step(plan);
            times[i] = sw.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }

    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
        ids.Dispose();
        labels.Dispose();
    }
}
