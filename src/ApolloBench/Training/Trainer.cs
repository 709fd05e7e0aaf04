using System.Diagnostics;
using ApolloBench.Data;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Training;

/// <summary>What a method may see and change while the trainer runs it.</summary>
public sealed class TrainingSession
{
    internal TrainingSession(LanguageModel model, TrainConfig config, Device device)
    {
        Config = config;
        Device = device;
        Model = model;
        Optimizer = NewOptimizer(model);
    }

    public TrainConfig Config { get; }
    public Device Device { get; }
    public LanguageModel Model { get; private set; }
    public AdamW Optimizer { get; private set; }
    public long TotalSteps => Config.Steps;

    readonly List<LedgerEntry> ledger = [];
    internal Func<Batch>? BatchSource { get; set; }
    internal long CurrentStep { get; set; }

    /// <summary>Replaces the ledger with a checkpoint's (a resumed method's Start may have charged again).</summary>
    internal void RestoreLedger(IEnumerable<LedgerEntry> entries)
    {
        ledger.Clear();
        ledger.AddRange(entries);
    }

    /// <summary>Extra costs charged so far (see <see cref="ChargeExtra"/>).</summary>
    public IReadOnlyList<LedgerEntry> Ledger => ledger;
    internal double CountedExtraFlops => ledger.Where(e => e.CountedInRun).Sum(e => e.Flops);
    internal double CountedExtraSeconds => ledger.Where(e => e.CountedInRun).Sum(e => e.Seconds);

    /// <summary>
    /// Records a cost the method incurred outside the trainer's steps. With <paramref name="countedInRun"/> the
    /// FLOPs and seconds are added to the run's cumulative totals from the current step on; without, they are
    /// reported beside the run (a dependency run's cost).
    /// </summary>
    public void ChargeExtra(string what, double flops, double seconds, bool countedInRun)
    {
        if (!(flops >= 0) || !(seconds >= 0)) throw new ArgumentOutOfRangeException(nameof(flops), $"a charge needs flops, seconds >= 0 (got {flops}, {seconds})");
        ledger.Add(new LedgerEntry(CurrentStep, what, flops, seconds, countedInRun));
    }

    /// <summary>
    /// Runs <paramref name="work"/> (which returns the FLOPs it performed) under the session's clock and charges
    /// what it ran, so a method never times itself.
    /// </summary>
    public double ChargeTimed(string what, bool countedInRun, Func<double> work)
    {
        var clock = Stopwatch.StartNew();
        var flops = work();
        clock.Stop();
        ChargeExtra(what, flops, clock.Elapsed.TotalSeconds, countedInRun);
        return flops;
    }

    /// <summary>
    /// The next batch of the run's training stream, for work a method does besides the trainer's steps (LiGO's
    /// operator steps). It advances the stream: the trainer's next step sees the batch after it.
    /// </summary>
    public Batch NextTrainingBatch() => (BatchSource ?? throw new InvalidOperationException("no training stream is attached to this session"))();

    /// <summary>The depth-sampling stream of one micro-batch: its own seeded stream, never shared with data or init.</summary>
    public Core.Rng DepthRng(long step, int microBatch) => Core.Rng.For(Config.Seed, "depth", step * Config.Accumulation + microBatch);

    /// <summary>Swaps in a different model (e.g. after width growth) with a fresh optimiser.</summary>
    public void ReplaceModel(LanguageModel model)
    {
        Optimizer.Dispose();
        if (!ReferenceEquals(model, Model)) Model.Dispose();
        Model = model;
        Model.to(Device);
        Optimizer = NewOptimizer(model);
    }

    AdamW NewOptimizer(LanguageModel model) => new(
        model.named_parameters().Select(p => (p.name, p.parameter)),
        new AdamW.Settings(Config.Beta1, Config.Beta2, Config.Eps, Config.WeightDecay));
}

/// <summary>
/// The runner: the only place that counts FLOPs and seconds (a method's extra work is charged through
/// <see cref="TrainingSession.ChargeExtra"/> / <see cref="TrainingSession.ChargeTimed"/>). AdamW with warmup and cosine decay
/// to zero at the end of the run's own budget, gradient clipping, gradient accumulation, held-out
/// evaluation every K steps. One dispose scope per step; evaluation and growth probes are not
/// charged to the run's FLOPs or wall time.
/// </summary>
public sealed class Trainer
{
    readonly GrowthMethod method;
    readonly TrainConfig config;
    readonly BatchStream train;
    readonly IReadOnlyList<Batch> eval;
    readonly TrainingSession session;

    public Trainer(LanguageModel model, GrowthMethod method, TrainConfig config, BatchStream train, IReadOnlyList<Batch> eval)
    {
        config.Validate();
        if (eval.Count == 0) throw new ArgumentException("at least one evaluation batch is needed", nameof(eval));
        this.method = method;
        this.config = config;
        this.train = train;
        this.eval = eval;
        torch.set_num_threads(config.Threads);
        var device = torch.device(config.Device);
        model.to(device);
        session = new TrainingSession(model, config, device) { BatchSource = train.Next };
    }

    public TrainingSession Session => session;

    /// <summary>Runs the whole budget; <paramref name="onStep"/> sees each step (and the evaluation that followed it, if any).</summary>
    public RunResult Run(Action<StepRecord, EvalRecord?>? onStep = null, Checkpointing? checkpointing = null)
    {
        var result = new RunResult();
        var schedule = new LearningRateSchedule(config.LearningRate, (long)Math.Round(config.WarmupFraction * config.Steps), config.Steps);
        session.CurrentStep = 0;
        method.Start(session);
        double flops = 0, wall = 0;
        long tokens = 0, firstStep = 0;
        if (checkpointing is { Resume: true } && Checkpoint.Find(checkpointing.Dir) is { } found)
            (firstStep, flops, wall, tokens) = Restore(found, result);
        var clock = new Stopwatch();
        var sinceCheckpoint = Stopwatch.StartNew();
        for (long step = firstStep; step < config.Steps; step++)
        {
            session.CurrentStep = step;
            if (method.GrowsAt(step, session)) result.Growths.Add(GrowAndProbe(step));

            var lr = schedule.At(step);
            clock.Restart();
            double lossSum = 0, depthSum = 0, gradNorm;
            using (var scope = torch.NewDisposeScope())
            {
                session.Model.train();
                session.Optimizer.ZeroGrad();
                for (int micro = 0; micro < config.Accumulation; micro++)
                {
                    using var batch = train.Next();
                    var onDevice = batch.To(session.Device);
                    var plan = method.Plan(step, micro, session);
                    var output = session.Model.Forward(onDevice.InputIds, onDevice.Labels, plan);
                    (config.Accumulation == 1 ? output.Loss : output.Loss / config.Accumulation).backward();
                    lossSum += output.Loss.item<float>();
                    depthSum += plan.Length;
                    flops += session.Model.StepFlops(plan.Length, batch.BatchSize, batch.SeqLen, batch.PredictedTokens).Total;
                    tokens += batch.Tokens;
                    if (!ReferenceEquals(onDevice, batch)) onDevice.Dispose();
                }
                gradNorm = session.Optimizer.ClipGradNorm(config.ClipNorm);
                session.Optimizer.Step(lr);
                session.Optimizer.ZeroGrad();
            }
            clock.Stop();
            wall += clock.Elapsed.TotalSeconds;
            // Costs a method charged as part of its training (LiGO's operator steps) join the cumulative totals.
            double runFlops = flops + session.CountedExtraFlops, runWall = wall + session.CountedExtraSeconds;
            var record = new StepRecord(step, lossSum / config.Accumulation, depthSum / config.Accumulation,
                WeightsInUse(step), runFlops, runWall, lr, gradNorm, tokens);
            result.Steps.Add(record);
            EvalRecord? evaluation = null;
            if ((step + 1) % config.EvalEvery == 0 || step + 1 == config.Steps)
            {
                evaluation = new EvalRecord(step + 1, Evaluate(method.EvaluationPlan(step, session)), runFlops, runWall);
                result.Evals.Add(evaluation);
            }
            onStep?.Invoke(record, evaluation);
            if (checkpointing is not null && step + 1 < config.Steps && sinceCheckpoint.Elapsed >= checkpointing.Every)
            {
                SaveCheckpoint(checkpointing.Dir, step + 1, flops, wall, tokens, result);
                sinceCheckpoint.Restart();
            }
        }
        result.Ledger.AddRange(session.Ledger);
        return result;
    }

    void SaveCheckpoint(string dir, long nextStep, double flops, double wall, long tokens, RunResult result)
        => Checkpoint.Save(dir, new Checkpoint.State(nextStep, flops, wall, tokens, train.Step, session.Model.Config,
            [.. result.Steps], [.. result.Evals], [.. result.Growths], [.. session.Ledger]), session.Model, session.Optimizer);

    /// <summary>
    /// Puts the run back where a checkpoint left it. The method has already run Start; a model the method had
    /// replaced (a wider one after bert2BERT's or LiGO's growth) is rebuilt from the saved configuration first.
    /// </summary>
    (long NextStep, double Flops, double Wall, long Tokens) Restore(string found, RunResult result)
    {
        var state = Checkpoint.ReadState(found);
        if (state.Model != session.Model.Config) session.ReplaceModel(LanguageModel.Create(state.Model, config.Seed));
        Checkpoint.LoadWeights(found, session.Model);
        Checkpoint.LoadOptimizer(found, session.Optimizer);
        train.Seek(state.BatchesDrawn);
        result.Steps.AddRange(state.Steps);
        result.Evals.AddRange(state.Evals);
        result.Growths.AddRange(state.Growths);
        session.RestoreLedger(state.Ledger);
        return (state.NextStep, state.Flops, state.Wall, state.Tokens);
    }

    int WeightsInUse(long step) => method.EvaluationPlan(step, session).Distinct().Count();

    GrowthRecord GrowAndProbe(long step)
    {
        var before = ProbeLoss(method.EvaluationPlan(step - 1, session));
        var (from, to) = method.Grow(step, session);
        var after = ProbeLoss(method.EvaluationPlan(step, session));
        return new GrowthRecord(step, from, to, before, after);
    }

    /// <summary>Loss on the first held-out batch, no gradient: the fixed probe around growth events.</summary>
    public double ProbeLoss(int[] plan) => Evaluate(plan, maxBatches: 1);

    /// <summary>Mean held-out loss under a plan (no gradient, eval mode).</summary>
    public double Evaluate(int[] plan, int? maxBatches = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        session.Model.eval();
        double sum = 0;
        int n = Math.Min(eval.Count, maxBatches ?? eval.Count);
        for (int i = 0; i < n; i++)
        {
            var b = eval[i].To(session.Device);
            sum += session.Model.Forward(b.InputIds, b.Labels, plan).Loss.item<float>();
        }
        session.Model.train();
        return sum / n;
    }
}
