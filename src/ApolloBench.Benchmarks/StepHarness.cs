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

    /// <summary>Median milliseconds of each part of a step (see <see cref="StepParts"/>) over <paramref name="repeats"/> steps.</summary>
    public StepParts Parts(int[] plan, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) Step(plan);
        var parts = new double[4][];
        for (int k = 0; k < 4; k++) parts[k] = new double[repeats];
        var sw = new Stopwatch();
        for (int i = 0; i < repeats; i++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.ZeroGrad();
            sw.Restart();
            var loss = model.Forward(ids, labels, plan).Loss;
            parts[0][i] = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            loss.backward();
            parts[1][i] = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            optimizer.ClipGradNorm(1.0);
            parts[2][i] = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            optimizer.Step(1e-4);
            optimizer.ZeroGrad();
            parts[3][i] = sw.Elapsed.TotalMilliseconds;
        }
        double Median(double[] x) { Array.Sort(x); return x[x.Length / 2]; }
        return new StepParts(Median(parts[0]), Median(parts[1]), Median(parts[2]), Median(parts[3]));
    }

    /// <summary>
    /// Median seconds per step at every depth 1..<paramref name="maxDepth"/> (plain plans), measured round-robin:
    /// each round times one step at every depth, so a burst of load from elsewhere lands on all depths alike
    /// instead of on whichever depth happened to be running.
    /// </summary>
    public double[] SecondsByDepth(int maxDepth, int warmup, int rounds)
    {
        var samples = new double[maxDepth + 1][];
        for (int d = 1; d <= maxDepth; d++)
        {
            samples[d] = new double[rounds];
            for (int i = 0; i < warmup; i++) Step(LanguageModel.IdentityPlan(d));
        }
        var sw = new Stopwatch();
        for (int r = 0; r < rounds; r++)
            for (int d = 1; d <= maxDepth; d++)
            {
                sw.Restart();
                Step(LanguageModel.IdentityPlan(d));
                samples[d][r] = sw.Elapsed.TotalSeconds;
            }
        var result = new double[maxDepth + 1];
        for (int d = 1; d <= maxDepth; d++)
        {
            Array.Sort(samples[d]);
            result[d] = samples[d][rounds / 2];
        }
        return result;
    }

    /// <summary>
    /// Alternates one step of <paramref name="a"/> and one of <paramref name="b"/>, <paramref name="pairs"/> times: the median
    /// seconds of each and the median of the per-pair ratios b / a.
    /// </summary>
    public (double A, double B, double Ratio) PairedSeconds(int[] a, int[] b, int warmup, int pairs)
    {
        for (int i = 0; i < warmup; i++) { Step(a); Step(b); }
        var ta = new double[pairs];
        var tb = new double[pairs];
        var ratios = new double[pairs];
        var sw = new Stopwatch();
        for (int i = 0; i < pairs; i++)
        {
            sw.Restart();
            Step(a);
            ta[i] = sw.Elapsed.TotalSeconds;
            sw.Restart();
            Step(b);
            tb[i] = sw.Elapsed.TotalSeconds;
            ratios[i] = tb[i] / ta[i];
        }
        Array.Sort(ta);
        Array.Sort(tb);
        Array.Sort(ratios);
        return (ta[pairs / 2], tb[pairs / 2], ratios[pairs / 2]);
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

/// <summary>Milliseconds of a step's parts: forward (loss included), backward, gradient clipping, AdamW (with zeroing).</summary>
public sealed record StepParts(double Forward, double Backward, double Clip, double Optimizer)
{
    public double Total => Forward + Backward + Clip + Optimizer;
}
