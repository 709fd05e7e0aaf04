using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using TorchSharp.Modules;
using AdamW = ApolloBench.Training.AdamW;
using static TorchSharp.torch;

namespace ApolloBench.Baselines;

/// <summary>
/// LiGO's learned linear growth operator (Wang et al. 2023, "Learning to Grow Pretrained Models for Efficient
/// Transformer Training"; SPEC section 5): every weight of the large model is a linear function of the small
/// model's weights, <c>W_l = sum_j D[l, j] · Out_s W_j In_t^T</c>.
/// <para>Width: each unit space s has an out operator <c>Out_s</c> and an in operator <c>In_s</c>, both
/// [new size x small size]; an out axis of a weight is multiplied by Out, an in axis by In. The residual stream has
/// ONE pair shared by every weight that writes to or reads from it (embeddings, every layer, the head): the tying
/// along the residual stream. Each small layer j has its own pair over attention units (q, k, v and GPT's fused
/// thirds share it; the output projection reads through In) and its own pair over feed-forward units. SPEC writes the
/// operator as <c>[I; B] W [I; A]^T</c>; here the top blocks are learned too, initialised to I (Out) and
/// diag(1/count) (In), because with a fixed I on the in side a duplication operator could not divide by the copy
/// counts and so could not reproduce FPI.</para>
/// <para>Depth: one coefficient matrix <c>D</c> [L x L_small] per parameter kind of a layer (query weight, query
/// bias, ...), combining the width-expanded small layers.</para>
/// <para>Initialisation (<see cref="Duplication"/>): Out is the duplication matrix of bert2BERT's width maps
/// (<c>Out[j, g(j)] = 1</c>), In is the same divided by the copy counts, D is one-hot on the stacking map
/// (<see cref="LayerMapping.Stack"/>); then N(0, noise²) is added to D and to the rows of Out and In for NEW units.
/// With noise 0 the operator materialises exactly bert2BERT's FPI-widened, stacked model.</para>
/// </summary>
public sealed class LigoOperator : IDisposable
{
    readonly ModelConfig small, large;
    readonly Parameter outHidden, inHidden;
    readonly Parameter[] outAttention, inAttention, outFfn, inFfn;
    readonly Dictionary<string, Parameter> depth;

    LigoOperator(ModelConfig small, ModelConfig large, Parameter outHidden, Parameter inHidden, Parameter[] outAttention, Parameter[] inAttention,
        Parameter[] outFfn, Parameter[] inFfn, Dictionary<string, Parameter> depth)
    {
        (this.small, this.large) = (small, large);
        (this.outHidden, this.inHidden, this.outAttention, this.inAttention, this.outFfn, this.inFfn, this.depth) =
            (outHidden, inHidden, outAttention, inAttention, outFfn, inFfn, depth);
    }

    /// <summary>
    /// The duplication operator for <paramref name="maps"/> and the depth map <paramref name="depthMap"/> (large layer
    /// -> small layer), plus N(0, <paramref name="noiseStd"/>²) on D and on the new units' rows of every width operator
    /// (drawn from <paramref name="noiseSeed"/>'s own generator, never torch's global one). <paramref name="layerLocals"/>:
    /// the parameter names inside a layer.
    /// </summary>
    public static LigoOperator Duplication(ModelConfig small, ModelConfig large, WidthMaps maps, int[] depthMap,
        IEnumerable<string> layerLocals, double noiseStd, long noiseSeed = 0, Device? device = null)
    {
        using var generator = new torch.Generator((ulong)noiseSeed);
        var wide = large with { Layers = small.Layers };
        WidthMaps.CheckShapes(small, wide);
        if (depthMap.Length != large.Layers || depthMap.Any(k => k < 0 || k >= small.Layers))
            throw new ArgumentException($"the depth map must send each of {large.Layers} layers to one of {small.Layers}", nameof(depthMap));
        device ??= torch.CPU;
        Parameter Make(int[] g, int sourceSize, bool divide)
        {
            var counts = WidthMaps.Counts(g, sourceSize);
            var values = new float[g.Length * sourceSize];
            for (int j = 0; j < g.Length; j++) values[j * sourceSize + g[j]] = divide ? 1.0f / counts[g[j]] : 1.0f;
            var m = torch.tensor(values).reshape(g.Length, sourceSize);
            if (noiseStd > 0 && g.Length > sourceSize)
                m.narrow(0, sourceSize, g.Length - sourceSize).add_(torch.randn([g.Length - sourceSize, sourceSize], generator: generator).mul_(noiseStd));
            return new Parameter(m.to(device));
        }
        var hidden = maps.Units(UnitSpace.Hidden, null, small, wide);
        var attention = Enumerable.Range(0, small.Layers).Select(l => maps.Units(UnitSpace.Attention, l, small, wide)).ToArray();
        var ffn = Enumerable.Range(0, small.Layers).Select(l => maps.Units(UnitSpace.Ffn, l, small, wide)).ToArray();
        var depth = new Dictionary<string, Parameter>();
        foreach (var local in layerLocals)
        {
            var values = new float[large.Layers * small.Layers];
            for (int l = 0; l < large.Layers; l++) values[l * small.Layers + depthMap[l]] = 1.0f;
            var d = torch.tensor(values).reshape(large.Layers, small.Layers);
            if (noiseStd > 0) d.add_(torch.randn([large.Layers, small.Layers], generator: generator).mul_(noiseStd));
            depth[local] = new Parameter(d.to(device));
        }
        return new LigoOperator(small, large,
            Make(hidden, small.Hidden, false), Make(hidden, small.Hidden, true),
            attention.Select(g => Make(g, small.Hidden, false)).ToArray(), attention.Select(g => Make(g, small.Hidden, true)).ToArray(),
            ffn.Select(g => Make(g, small.Ffn, false)).ToArray(), ffn.Select(g => Make(g, small.Ffn, true)).ToArray(), depth);
    }

    /// <summary>The operator's learned parameters, by name.</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters()
    {
        yield return ("ligo.hidden.out", outHidden);
        yield return ("ligo.hidden.in", inHidden);
        for (int j = 0; j < small.Layers; j++)
        {
            yield return ($"ligo.layer.{j}.attention.out", outAttention[j]);
            yield return ($"ligo.layer.{j}.attention.in", inAttention[j]);
            yield return ($"ligo.layer.{j}.ffn.out", outFfn[j]);
            yield return ($"ligo.layer.{j}.ffn.in", inFfn[j]);
        }
        foreach (var (local, d) in depth) yield return ($"ligo.depth.{local}", d);
    }

    Tensor Operator(Axis axis, int? layer) => (axis.Space, axis.In) switch
    {
        (UnitSpace.Hidden, false) => outHidden,
        (UnitSpace.Hidden, true) => inHidden,
        (UnitSpace.Attention or UnitSpace.FusedQkv, false) => outAttention[layer!.Value],
        (UnitSpace.Attention or UnitSpace.FusedQkv, true) => inAttention[layer!.Value],
        (UnitSpace.Ffn, false) => outFfn[layer!.Value],
        (UnitSpace.Ffn, true) => inFfn[layer!.Value],
        _ => throw new ArgumentOutOfRangeException(nameof(axis)),
    };

    /// <summary>
    /// The large model's weights from the small model's (<paramref name="smallState"/>, treated as constants), as a
    /// differentiable function of the operator, and the forward FLOPs of the matrix products that computed them
    /// (2 per multiply-add: width products <c>2·numel(input)·new size</c> per axis, depth combination
    /// <c>2·L·L_small·numel(weight)</c> per parameter kind).
    /// </summary>
    public (Dictionary<string, Tensor> State, double Flops) Materialise(IReadOnlyDictionary<string, Tensor> smallState)
    {
        double flops = 0;
        Tensor Widen(Tensor t, ParameterLayout layout)
        {
            foreach (var axis in layout.Axes)
            {
                var m = Operator(axis, layout.Layer);                         // [new, old]
                long newSize = m.shape[0], oldSize = m.shape[1];
                if (axis.Space == UnitSpace.FusedQkv)
                {
                    var moved = t.unflatten(axis.Dim, [3, oldSize]).movedim([axis.Dim + 1], [-1]);   // (..., 3, ..., old)
                    flops += 2.0 * moved.numel() * newSize;
                    t = moved.matmul(m.t()).movedim([-1], [axis.Dim + 1]).flatten(axis.Dim, axis.Dim + 1);
                }
                else
                {
                    var moved = t.movedim([axis.Dim], [-1]);
                    flops += 2.0 * moved.numel() * newSize;
                    t = moved.matmul(m.t()).movedim([-1], [axis.Dim]);
                }
            }
            return layout.Axes.Length == 0 ? t.clone() : t;
        }

        var result = new Dictionary<string, Tensor>();
        var perLocal = new Dictionary<string, Tensor[]>();
        foreach (var (name, t) in smallState)
        {
            var layout = ParameterLayout.Of(small.Arch, name);
            if (layout.Layer is not int j) { result[name] = Widen(t, layout); continue; }
            if (!perLocal.TryGetValue(layout.Local, out var widened)) perLocal[layout.Local] = widened = new Tensor[small.Layers];
            widened[j] = Widen(t, layout);
        }
        foreach (var (local, widened) in perLocal)
        {
            var shape = widened[0].shape;
            var stacked = torch.stack(widened).reshape(small.Layers, -1);      // (L_small, n)
            var combined = depth[local].matmul(stacked);                         // (L, n)
            flops += 2.0 * large.Layers * small.Layers * stacked.shape[1];
            for (int l = 0; l < large.Layers; l++)
                result[ParameterLayout.LayerName(small.Arch, l, local)] = combined[l].reshape(shape);
        }
        return (result, flops);
    }

    public void Dispose()
    {
        foreach (var (_, p) in NamedParameters().ToList()) p.Dispose();
    }
}

/// <summary>
/// LiGO as a method (SPEC section 5). At <see cref="Start"/> the trained small model
/// (<see cref="SmallModel.ConfigFor"/>) becomes the session's model and its cost is charged beside
/// the run (not counted). At step 0 the growth operator (<see cref="LigoOperator"/>) alone is trained for
/// <c>--ligo-steps</c> (paper: 100) steps on the run's loss with the small weights frozen, then materialised into a
/// plain large model that the trainer trains normally with a fresh optimiser and the run's own schedule.
/// <para>Operator steps: each draws the run's next training batch(es) from the session (so the main training's step k
/// sees the batch after the operator's last), materialises the large weights, runs the large model forward and
/// backward at full depth, and carries the weights' gradients into the operator by the chain rule. Optimiser: AdamW
/// with the run's betas and eps, weight decay 0 (decay would pull the duplication matrices towards zero), gradient
/// clipping at the run's norm. Learning rate <c>--ligo-lr</c> (default: the run's peak), linear warmup over
/// <c>--ligo-warmup</c> steps (default: 10% of the operator steps, 10 of 100) then cosine decay to zero at the last operator step. The released Apollo
/// config's 10k warmup would leave 100 steps at about 1% of the rate, which is why the warmup is chosen and recorded.</para>
/// <para>FLOPs of the operator steps, charged as a ledger entry COUNTED in the run (the paper counts them; the trainer
/// adds them to the cumulative FLOPs and seconds from step 0 on): per step, forward + backward of the large model at
/// full depth on the batch (<see cref="LanguageModel.StepFlops"/>, backward = 2 x forward, the rule of every training
/// step), plus 3 x the forward FLOPs of the materialisation's matrix products (<see cref="LigoOperator.Materialise"/>).
/// Elementwise work (the chain-rule product, copying weights into the model) is not counted, as norms and softmax
/// are not. Seconds: the session's clock around the whole operator phase.</para>
/// <para>Init noise: std 0.01 on the depth coefficients and on the width operators' rows for new units, from
/// <c>Rng.For(seed, "ligo-init")</c>; width maps from <c>Rng.For(seed, "ligo-width")</c>.</para>
/// </summary>
public sealed class Ligo(int operatorSteps, double? operatorLr, int? operatorWarmup, int? smallLayers, ISmallModelSource? smallModels)
    : GrowthMethod, IUsesSmallModel
{
    public const int DefaultSteps = 100;
    /// <summary>Default warmup: this fraction of the operator steps, rounded (10 of the paper's 100).</summary>
    public const double DefaultWarmupFraction = 0.1;
    public const double NoiseStd = 0.01;

    ModelConfig? target, smallConfig;
    SmallModel? small;
    double resolvedLr;
    readonly List<double> operatorLosses = [];

    public override string Name => "ligo";
    public int OperatorSteps { get; } = operatorSteps;
    public int OperatorWarmup { get; } = operatorWarmup ?? (int)Math.Round(DefaultWarmupFraction * operatorSteps, MidpointRounding.AwayFromZero);
    public IReadOnlyList<double> OperatorLosses => operatorLosses;

    public ModelConfig SmallConfigFor(ModelConfig target) => SmallModel.ConfigFor(target, smallLayers);

    public static int ParseSteps(string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
        ? n : throw new UsageException($"--ligo-steps: must be an integer >= 0 (got '{value}')");

    public static int ParseWarmup(string value) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0
        ? n : throw new UsageException($"--ligo-warmup: must be an integer >= 0 (got '{value}')");

    public static double? ParseLr(string? value) => value is null ? null
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var lr) && lr > 0
            ? lr : throw new UsageException($"--ligo-lr: must be a number > 0 (got '{value}')");

    public override void Start(TrainingSession session)
    {
        if (OperatorWarmup > OperatorSteps)
            throw new UsageException($"--ligo-warmup: {OperatorWarmup} is longer than the {OperatorSteps} operator steps (--ligo-steps)");
        target = session.Model.Config;
        smallConfig = SmallConfigFor(target);
        resolvedLr = operatorLr ?? session.Config.LearningRate;
        small = SmallModelStart.Adopt(session, smallModels, smallConfig, Name);
    }

    public override bool GrowsAt(long step, TrainingSession session) => step == 0;

    public override (string From, string To) Grow(long step, TrainingSession session)
    {
        var (s, t) = (smallConfig!, target!);
        var seed = session.Config.Seed;
        var smallState = ModelState.Of(session.Model);
        var maps = WidthMaps.Random(s, t with { Layers = s.Layers }, Rng.For(seed, "ligo-width"));
        var locals = smallState.Keys.Select(n => ParameterLayout.Of(s.Arch, n)).Where(l => l.Layer == 0).Select(l => l.Local).ToList();
        using var op = LigoOperator.Duplication(s, t, maps, LayerMapping.Stack(s.Layers, t.Layers), locals, NoiseStd,
            Rng.For(seed, "ligo-init").NextSeed(), session.Device);
        var large = LanguageModel.Create(t, seed);
        large.to(session.Device);
        if (OperatorSteps > 0)
            session.ChargeTimed($"ligo operator: {OperatorSteps} steps (large model fwd+bwd + operator matmuls x3)", countedInRun: true,
                () => TrainOperator(op, smallState, large, session));
        using (torch.NewDisposeScope())
        using (torch.no_grad())
            ModelState.Load(large, op.Materialise(smallState).State);
        foreach (var tensor in smallState.Values) tensor.Dispose();
        session.ReplaceModel(large);
        return ($"{s.Layers}x{s.Hidden} ({s.Heads} heads)", $"{t.Layers}x{t.Hidden} ({t.Heads} heads), ligo operator after {OperatorSteps} steps");
    }

    /// <summary>Trains the operator alone; returns the FLOPs it ran (see the class remarks for the rule).</summary>
    double TrainOperator(LigoOperator op, IReadOnlyDictionary<string, Tensor> smallState, LanguageModel large, TrainingSession session)
    {
        var c = session.Config;
        var optimizer = new AdamW(op.NamedParameters(), new AdamW.Settings(c.Beta1, c.Beta2, c.Eps, WeightDecay: 0));
        var schedule = new LearningRateSchedule(resolvedLr, OperatorWarmup, OperatorSteps);
        var parameters = large.named_parameters().ToList();
        var plan = LanguageModel.IdentityPlan(large.Config.Layers);
        double flops = 0;
        large.train();
        for (int step = 0; step < OperatorSteps; step++)
        {
            using var scope = torch.NewDisposeScope();
            var (state, materialiseFlops) = op.Materialise(smallState);
            using (torch.no_grad())
                foreach (var (name, p) in parameters)
                {
                    p.copy_(state[name]);
                    var g = p.grad;
                    if (g is not null) { p.grad = null; g.Dispose(); }
                }
            double lossSum = 0;
            for (int micro = 0; micro < c.Accumulation; micro++)
            {
                using var batch = session.NextTrainingBatch();
                var onDevice = batch.To(session.Device);
                var loss = session.TrainingForward(large, onDevice, plan, (long)step * c.Accumulation + micro, "dropout-ligo-operator").Loss;
                (c.Accumulation == 1 ? loss : loss / c.Accumulation).backward();
                lossSum += loss.item<float>();
                flops += large.StepFlops(plan.Length, batch.BatchSize, batch.SeqLen, batch.PredictedTokens).Total;
                if (!ReferenceEquals(onDevice, batch)) onDevice.Dispose();
            }
            // Chain rule: dL/dθ = Σ_W <dL/dW, dW/dθ>, with dL/dW the large model's parameter gradients.
            var surrogate = parameters.Where(p => p.parameter.grad is not null && state[p.name].requires_grad)
                .Select(p => state[p.name].mul(p.parameter.grad!.detach()).sum()).Aggregate((a, b) => a.add(b));
            surrogate.backward();
            flops += 3 * materialiseFlops;
            optimizer.ClipGradNorm(c.ClipNorm);
            optimizer.Step(schedule.At(step));
            optimizer.ZeroGrad();
            operatorLosses.Add(lossSum / c.Accumulation);
        }
        foreach (var (_, p) in parameters)
        {
            var g = p.grad;
            if (g is not null) { p.grad = null; g.Dispose(); }
        }
        optimizer.Dispose();
        return flops;
    }

    public override int[] Plan(long step, int microBatch, TrainingSession session) => LanguageModel.IdentityPlan(session.Model.Config.Layers);

    public override int[] EvaluationPlan(long step, TrainingSession session) => Plan(step, 0, session);

    public override IReadOnlyDictionary<string, object> Options => new Dictionary<string, object>
    {
        ["operatorSteps"] = OperatorSteps,
        ["operatorLearningRate"] = small is null ? (operatorLr is double lr ? lr : "the run's --lr") : resolvedLr,
        ["operatorWarmupSteps"] = OperatorWarmup,
        ["operatorSchedule"] = "linear warmup, then cosine to 0 at the last operator step",
        ["operatorOptimizer"] = "AdamW, run's betas/eps, weight decay 0, run's clip norm",
        ["operatorInit"] = $"width: duplication (bert2BERT FPI maps), depth: stacking one-hot; N(0, {NoiseStd}^2) on depth and new-unit rows",
        ["operatorTying"] = "one out/in pair for the residual stream; per small layer one pair for attention units and one for FFN units; depth coefficients per parameter kind",
        ["operatorLoss"] = operatorLosses.Count == 0 ? Array.Empty<double>() : new[] { operatorLosses[0], operatorLosses[^1] },
        ["operatorData"] = "the run's training stream: the operator's batches come first, the main steps continue after them",
        ["smallModel"] = SmallModelStart.Describe(small, smallConfig),
    };
}
