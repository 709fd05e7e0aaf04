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
    readonly Runtime.Precision precision;
    long steps;

    public Runtime.Precision Precision => precision;

    /// <param name="precision">fp32, or bf16 mixed precision (the trainer's autocast region around forward and loss).</param>
    /// <param name="dropout">the model's dropout rate (masks reseeded every step, as the trainer does).</param>
    public StepHarness(ModelConfig config, int batch, long seed = 0, Runtime.Precision precision = Runtime.Precision.Fp32, double dropout = 0)
    {
        this.precision = precision;
        model = LanguageModel.Create(config, seed);
        model.DropoutRate = dropout;
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

    /// <summary>Positions the head predicts per step (BERT: the masked ~15%; GPT: all).</summary>
    public int Predicted => predicted;

    public FlopCount Flops(int depth) => model.StepFlops(depth, (int)ids.shape[0], (int)ids.shape[1], predicted);

    public void Step(int[] plan) => TimedStep(plan, null);

    /// <summary>One step; when <paramref name="phasesMs"/> is given, the milliseconds of forward, backward, clipping and
    /// AdamW (with zeroing) go into it, in that order.</summary>
    void TimedStep(int[] plan, double[]? phasesMs)
    {
        using var scope = torch.NewDisposeScope();
        var sw = Stopwatch.StartNew();
        void Lap(int phase) { if (phasesMs is not null) phasesMs[phase] = sw.Elapsed.TotalMilliseconds; sw.Restart(); }
        optimizer.ZeroGrad();
        sw.Restart();
        if (model.DropoutRate > 0) torch.manual_seed(steps);
        steps++;
        Tensor loss;
        using (Runtime.Autocast.Enter(torch.CPU, precision)) loss = model.Forward(ids, labels, plan).Loss;
        Lap(0);
        loss.backward();
        Lap(1);
        optimizer.ClipGradNorm(1.0);
        Lap(2);
        optimizer.Step(1e-4);
        optimizer.ZeroGrad();
        Lap(3);
    }

    internal static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    /// <summary>Median milliseconds of each part of a step (see <see cref="StepParts"/>) over <paramref name="repeats"/> steps.</summary>
    public StepParts Parts(int[] plan, int warmup, int repeats)
    {
        for (int i = 0; i < warmup; i++) Step(plan);
        var phases = new double[4][];
        for (int k = 0; k < 4; k++) phases[k] = new double[repeats];
        var one = new double[4];
        for (int i = 0; i < repeats; i++)
        {
            TimedStep(plan, one);
            for (int k = 0; k < 4; k++) phases[k][i] = one[k];
        }
        return new StepParts(Median(phases[0]), Median(phases[1]), Median(phases[2]), Median(phases[3]));
    }

    /// <summary>The parts of <see cref="PhasedStep"/>, in order.</summary>
    public static readonly string[] PhaseNames = ["encoder forward", "head and loss forward", "head and loss backward", "encoder backward", "clipping", "AdamW"];

    /// <summary>
    /// One step in the six parts of <see cref="PhaseNames"/>, each handed to <paramref name="run"/> (which times or profiles it).
    /// The model's forward is its two halves (<see cref="LanguageModel.Encode"/>, then <see cref="LanguageModel.Loss"/>, as
    /// <see cref="LanguageModel.Forward"/> composes them), and backward runs through the head first, then from the final hidden
    /// states through the layers with the gradient the head left there: the chain rule split at one tensor, the same kernels
    /// as one backward call, so each half can be timed apart.
    /// </summary>
    public void PhasedStep(int[] plan, Action<int, Action> run)
    {
        using var scope = torch.NewDisposeScope();
        optimizer.ZeroGrad();
        if (model.DropoutRate > 0) torch.manual_seed(steps);
        steps++;
        Tensor hidden = null!, detached = null!, loss = null!;
        using (Runtime.Autocast.Enter(torch.CPU, precision))
        {
            run(0, () => hidden = model.Encode(ids, plan));
            run(1, () =>
            {
                detached = hidden.detach().requires_grad_();
                loss = model.Loss(detached, labels).Loss;
            });
        }
        run(2, () => loss.backward());
        run(3, () => hidden.backward([detached.grad!]));
        run(4, () => optimizer.ClipGradNorm(1.0));
        run(5, () =>
        {
            optimizer.Step(1e-4);
            optimizer.ZeroGrad();
        });
    }

    /// <summary>Median milliseconds of each part of <see cref="PhasedStep"/> over <paramref name="repeats"/> steps (after one untimed step).</summary>
    public double[] PhasedMilliseconds(int[] plan, int repeats)
    {
        PhasedStep(plan, (_, work) => work());
        var samples = new double[PhaseNames.Length][];
        for (int k = 0; k < samples.Length; k++) samples[k] = new double[repeats];
        for (int i = 0; i < repeats; i++)
            PhasedStep(plan, (k, work) =>
            {
                var sw = Stopwatch.StartNew();
                work();
                samples[k][i] = sw.Elapsed.TotalMilliseconds;
            });
        return samples.Select(Median).ToArray();
    }

    public double Seconds(int[] plan)
    {
        var sw = Stopwatch.StartNew();
        Step(plan);
        return sw.Elapsed.TotalSeconds;
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
        for (int r = 0; r < rounds; r++)
            for (int d = 1; d <= maxDepth; d++) samples[d][r] = Seconds(LanguageModel.IdentityPlan(d));
        var result = new double[maxDepth + 1];
        for (int d = 1; d <= maxDepth; d++) result[d] = Median(samples[d]);
        return result;
    }

    /// <summary>
    /// <see cref="SecondsByDepth(int, int, int)"/> for several harnesses at once (e.g. one per precision): every round times
    /// one step of every harness at every depth, so load from elsewhere lands on all of them alike. Result [harness][depth].
    /// </summary>
    public static double[][] SecondsByDepth(IReadOnlyList<StepHarness> harnesses, int maxDepth, int warmup, int rounds)
    {
        var samples = harnesses.Select(_ => Enumerable.Range(0, maxDepth + 1).Select(_ => new double[rounds]).ToArray()).ToArray();
        for (int d = 1; d <= maxDepth; d++)
            for (int i = 0; i < warmup; i++)
                foreach (var h in harnesses) h.Step(LanguageModel.IdentityPlan(d));
        for (int r = 0; r < rounds; r++)
            for (int d = 1; d <= maxDepth; d++)
                for (int k = 0; k < harnesses.Count; k++) samples[k][d][r] = harnesses[k].Seconds(LanguageModel.IdentityPlan(d));
        return samples.Select(byDepth => byDepth.Select(Median).ToArray()).ToArray();   // depth 0 is never timed: 0
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
        for (int i = 0; i < pairs; i++)
        {
            ta[i] = Seconds(a);
            tb[i] = Seconds(b);
            ratios[i] = tb[i] / ta[i];
        }
        return (Median(ta), Median(tb), Median(ratios));
    }

    /// <summary>
    /// Alternates one step of harness <paramref name="a"/> and one of <paramref name="b"/> (e.g. fp32 and bf16) under the same
    /// plan, <paramref name="pairs"/> times: the median seconds of each, and the median and quartiles of the per-pair ratios b / a.
    /// </summary>
    public static PairedTimes Paired(StepHarness a, StepHarness b, int[] plan, int warmup, int pairs)
    {
        var rounds = Rounds(pairs, warmup, () => a.Seconds(plan), () => b.Seconds(plan));
        return PairedTimes(rounds[0], rounds[1]);
    }

    /// <summary>
    /// Runs the <paramref name="measurements"/> one after the other, <paramref name="rounds"/> times after <paramref name="warmup"/>
    /// untimed rounds, so whatever else runs on the machine lands on all of them alike: result [measurement][round].
    /// </summary>
    public static double[][] Rounds(int rounds, int warmup, params Func<double>[] measurements)
    {
        for (int i = 0; i < warmup; i++)
            foreach (var m in measurements) m();
        var result = measurements.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < measurements.Length; k++) result[k][r] = measurements[k]();
        return result;
    }

    /// <summary>The medians of two alternated series and the median and quartiles of their per-round ratios b / a.</summary>
    public static PairedTimes PairedTimes(double[] a, double[] b)
    {
        var ratios = a.Select((x, i) => b[i] / x).Order().ToArray();
        int n = ratios.Length;
        return new PairedTimes(Median(a), Median(b), Median(ratios), ratios[n / 4], ratios[3 * n / 4], n);
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

/// <summary>Two alternated step times (seconds) and the per-pair ratio B / A: median and interquartile range over the pairs.</summary>
public sealed record PairedTimes(double A, double B, double Ratio, double RatioQ1, double RatioQ3, int Pairs);
