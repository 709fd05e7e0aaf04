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

    /// <summary>
    /// The forward pass of one training micro-batch (loss included) as every training step of the run takes it: the
    /// run's dropout with torch's generator seeded from <c>(seed, <paramref name="stream"/>, <paramref name="index"/>)</c>,
    /// so the masks are a pure function of the step and a resumed run draws the same ones, and the run's precision.
    /// Methods that train outside the trainer's steps (LiGO's operator) call it too.
    /// </summary>
    public ModelOutput TrainingForward(LanguageModel model, Batch batch, IReadOnlyList<int> plan, long index, string stream = "dropout")
    {
        model.DropoutRate = Config.Dropout;
        if (Config.Dropout > 0) torch.manual_seed(Core.Rng.For(Config.Seed, stream, index).NextSeed());
        using var autocast = Runtime.Autocast.Enter(Device, Config.PrecisionMode);
        return model.Forward(batch.InputIds, batch.Labels, plan);
    }

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
    readonly Calibration calibration;

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
        calibration = new Calibration(model.Config, config, device, () => train.At(0));
    }

    public TrainingSession Session => session;

    /// <summary>
    /// Runs the whole budget; <paramref name="onStep"/> sees each step (and the evaluation that followed it, if any).
    /// When <paramref name="stop"/> (or <see cref="Checkpointing.Stop"/>) is cancelled the step under way finishes, a
    /// checkpoint is written (with <paramref name="checkpointing"/>) and <see cref="RunStopped"/> is thrown.
    /// </summary>
    public RunResult Run(Action<StepRecord, EvalRecord?>? onStep = null, Checkpointing? checkpointing = null, CancellationToken stop = default)
    {
        try { return RunBudget(onStep, checkpointing, stop); }
        finally { calibration.Dispose(); }   // the calibration's model copy lives for one run
    }

    RunResult RunBudget(Action<StepRecord, EvalRecord?>? onStep, Checkpointing? checkpointing, CancellationToken stop)
    {
        var result = new RunResult();
        var schedule = new LearningRateSchedule(config.LearningRate, (long)Math.Round(config.WarmupFraction * config.Steps), config.Steps);
        session.CurrentStep = 0;
        // References for the collapse detector and the machine-speed column, taken on the freshly initialised full
        // model (the same for every method with the same seed) before the method changes anything.
        result.InitialHiddenSpread = Evaluate(LanguageModel.IdentityPlan(session.Model.Config.Layers)).HiddenSpread;
        result.InitialMachineSpeed = calibration.Measure();
        var identity = Identity(checkpointing?.Identity);   // before Start: what a method learns then (a cache hit) is not part of the run
        method.Start(session);
        double flops = 0, wall = 0;
        long tokens = 0, firstStep = 0;
        if (checkpointing is { Resume: true } && Checkpoint.Latest(checkpointing.Dir, checkpointing.Log) is { } found)
        {
            Checkpoint.CheckIdentity(found, identity);
            (firstStep, flops, wall, tokens) = Restore(found.Dir, found.State, result);
        }
        result.Stretches.Add(new TrainingStretch(firstStep, DateTimeOffset.UtcNow, Runtime.BuildInfo.Commit));
        var clock = new Stopwatch();
        var sinceCheckpoint = Stopwatch.StartNew();
        // The CPU-wait column: the process's threads' waiting for a CPU over each evaluation interval, all of it counted.
        var sinceEvaluation = Stopwatch.StartNew();
        double? waitedBefore = Runtime.CpuWait.TotalSeconds();
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
                    var output = session.TrainingForward(session.Model, onDevice, plan, step * config.Accumulation + micro);
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
                var measured = Evaluate(method.EvaluationPlan(step, session));
                var speed = calibration.Measure();
                double? waited = Runtime.CpuWait.TotalSeconds();
                evaluation = new EvalRecord(step + 1, measured.Loss, runFlops, runWall,
                    measured.HiddenSpread / result.InitialHiddenSpread, speed,
                    Runtime.CpuWait.Share(waitedBefore, waited, sinceEvaluation.Elapsed.TotalSeconds, config.Threads));
                waitedBefore = waited;
                sinceEvaluation.Restart();
                result.Evals.Add(evaluation);
            }
            onStep?.Invoke(record, evaluation);
            bool stopping = (stop.IsCancellationRequested || checkpointing?.Stop.IsCancellationRequested == true) && step + 1 < config.Steps;
            if (checkpointing is not null && step + 1 < config.Steps && (stopping || sinceCheckpoint.Elapsed >= checkpointing.Every))
            {
                SaveCheckpoint(checkpointing.Dir, step + 1, flops, wall, tokens, result, identity);
                sinceCheckpoint.Restart();
            }
            if (stopping) throw new RunStopped(step + 1, checkpointing is not null);
        }
        result.Ledger.AddRange(session.Ledger);
        return result;
    }

    void SaveCheckpoint(string dir, long nextStep, double flops, double wall, long tokens, RunResult result, Dictionary<string, string> identity)
        => Checkpoint.Save(dir, new Checkpoint.State(nextStep, flops, wall, tokens, train.Step, session.Model.Config,
            [.. result.Steps], [.. result.Evals], [.. result.Growths], [.. session.Ledger], Identity: identity, Calibration: result.CalibrationKind,
            Stretches: [.. result.Stretches]),
            session.Model, session.Optimizer);

    /// <summary>
    /// What makes this run this run, field by field: the model, the method and its options, every training setting (seed
    /// and thread count among them) and what the caller adds (the corpus). A checkpoint continues only the same run.
    /// </summary>
    Dictionary<string, string> Identity(IReadOnlyDictionary<string, string>? extra)
    {
        var fields = new Dictionary<string, string> { ["method"] = method.Name, ["checkpoint format"] = Checkpoint.Format.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        void Add(string prefix, System.Text.Json.Nodes.JsonNode? node)
        {
            foreach (var (key, value) in node!.AsObject()) fields[$"{prefix}.{key}"] = value?.ToJsonString() ?? "null";
        }
        Add("model", System.Text.Json.JsonSerializer.SerializeToNode(session.Model.Config));
        Add("train", System.Text.Json.JsonSerializer.SerializeToNode(config));
        Add("method", System.Text.Json.JsonSerializer.SerializeToNode(method.Options));
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) fields[key] = value;
        return fields;
    }

    /// <summary>
    /// Puts the run back where a checkpoint left it. The method has already run Start; a model the method had
    /// replaced (a wider one after bert2BERT's or LiGO's growth) is rebuilt from the saved configuration first.
    /// </summary>
    (long NextStep, double Flops, double Wall, long Tokens) Restore(string found, Checkpoint.State state, RunResult result)
    {
        if (state.Model != session.Model.Config) session.ReplaceModel(LanguageModel.Create(state.Model, config.Seed));
        Checkpoint.LoadWeights(found, session.Model);
        Checkpoint.LoadOptimizer(found, session.Optimizer);
        train.Seek(state.BatchesDrawn);
        result.Steps.AddRange(state.Steps);
        result.Evals.AddRange(state.Evals);
        // Speeds timed by another workload (a checkpoint of an older build) do not normalise with this one's.
        if (state.Calibration != Calibration.Kind)
            result.CalibrationKind = state.Calibration is { } kind && kind.StartsWith(RunResult.MixedCalibration, StringComparison.Ordinal)
                ? kind : $"{RunResult.MixedCalibration}{state.Calibration ?? "matmul (no kind recorded)"} before step {state.NextStep}, {Calibration.Kind} after";
        result.Growths.AddRange(state.Growths);
        // a checkpoint of a build that did not record its stretches: who trained its steps is not known
        result.Stretches.AddRange(state.Stretches ?? [new TrainingStretch(0, null, null)]);
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
    public double ProbeLoss(int[] plan) => Evaluate(plan, maxBatches: 1).Loss;

    /// <summary>
    /// Mean held-out loss under a plan (no gradient, eval mode: no dropout; the run's precision), and the spread of the
    /// final hidden states across every held-out token: for each hidden dimension the standard deviation over tokens,
    /// averaged over dimensions. An encoder that gives every token the same vector has spread 0.
    /// </summary>
    public Evaluation Evaluate(int[] plan, int? maxBatches = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        session.Model.eval();
        double sum = 0;
        int n = Math.Min(eval.Count, maxBatches ?? eval.Count);
        Tensor? first = null, second = null;
        long tokens = 0;
        for (int i = 0; i < n; i++)
        {
            var b = eval[i].To(session.Device);
            using (Runtime.Autocast.Enter(session.Device, config.PrecisionMode))
            {
                var hidden = session.Model.Encode(b.InputIds, plan);
                sum += session.Model.Loss(hidden, b.Labels).Loss.item<float>();
                var flat = hidden.reshape(-1, hidden.shape[2]).to(ScalarType.Float64);     // (tokens, h)
                first = first is null ? flat.sum(0L, false) : first.add_(flat.sum(0L, false));
                second = second is null ? flat.square().sum(0L, false) : second.add_(flat.square().sum(0L, false));
                tokens += flat.shape[0];
            }
        }
        session.Model.train();
        var mean = first!.div(tokens);
        var spread = second!.div(tokens).sub_(mean.square()).clamp_min_(0).sqrt_().mean().item<double>();
        return new Evaluation(sum / n, spread);
    }
}

/// <summary>
/// Thrown when a run was asked to stop: <see cref="NextStep"/> is where it will continue, <see cref="Saved"/> whether a
/// checkpoint holds it; <see cref="Run"/> names the run when it is not the one the user asked for (a dependency run).
/// </summary>
public sealed class RunStopped(long nextStep, bool saved, string? run = null)
    : Exception($"stopped at step {nextStep}{(run is null ? "" : $" of {run}")}")
{
    public long NextStep { get; } = nextStep;
    public bool Saved { get; } = saved;
    public string? Run { get; } = run;
}

/// <summary>Held-out loss and the spread of the final hidden states across tokens (see <see cref="Trainer.Evaluate"/>).</summary>
public readonly record struct Evaluation(double Loss, double HiddenSpread);
