using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Models;

/// <summary>What a forward pass returns: the mean loss over labelled positions, and the logits when asked for.</summary>
public sealed record ModelOutput(Tensor Loss, Tensor? Logits);

/// <summary>Analytic FLOPs of one step; backward is counted as twice the forward.</summary>
public readonly record struct FlopCount(double Forward, double Backward)
{
    public double Total => Forward + Backward;
    public static FlopCount operator +(FlopCount a, FlopCount b) => new(a.Forward + b.Forward, a.Backward + b.Backward);
}

/// <summary>
/// A language model that allocates all <see cref="ModelConfig.Layers"/> layers up front and runs
/// whatever execution plan it is given: <c>plan[i]</c> is the weight index that executed layer
/// <c>i</c> uses. Any depth and any weight sharing run without copying a weight; a weight used
/// several times accumulates its gradient over all uses.
/// </summary>
public abstract class LanguageModel : nn.Module
{
    protected LanguageModel(string name, ModelConfig config) : base(name)
    {
        config.Validate();
        Config = config;
    }

    public ModelConfig Config { get; }

    /// <summary>
    /// Dropout probability at every site Hugging Face puts it (see <see cref="BertModel"/>, <see cref="GptModel"/>), active
    /// only in training mode. 0 for a model built outside training; the trainer sets the run's rate, and the caller seeds
    /// torch's generator before a forward pass so the masks are a pure function of the run's seed and step.
    /// </summary>
    public double DropoutRate
    {
        get => dropoutRate;
        set => dropoutRate = value is >= 0 and < 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"dropout must be in [0, 1) (got {value})");
    }
    double dropoutRate;

    /// <summary>The dropout probability in effect now: <see cref="DropoutRate"/> in training mode, 0 in evaluation mode.</summary>
    protected double ActiveDropout => training ? dropoutRate : 0;

    /// <summary>The L allocated layers, by weight index.</summary>
    public abstract IReadOnlyList<nn.Module> Layers { get; }

    /// <summary>Final hidden states (B, T, h) under an execution plan: what a fine-tuning head reads.</summary>
    public abstract Tensor Encode(Tensor inputIds, IReadOnlyList<int> plan, Tensor? attentionMask = null);

    /// <summary>
    /// Loss for a batch under an execution plan. Labels equal to <see cref="Data.Batch.IgnoreIndex"/>
    /// are not predicted (and, for BERT, the head does not run on them). With
    /// <paramref name="withLogits"/> the head runs on every position and the logits come back [B, T, V].
    /// </summary>
    public ModelOutput Forward(Tensor inputIds, Tensor labels, IReadOnlyList<int> plan, bool withLogits = false)
    {
        using var scope = torch.NewDisposeScope();
        var output = Loss(Encode(inputIds, plan), labels, withLogits);
        return new ModelOutput(output.Loss.MoveToOuterDisposeScope(), output.Logits?.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The head and the loss on final hidden states from <see cref="Encode"/> (B, T, h). The loss is computed in fp32
    /// whatever precision the head ran in.
    /// </summary>
    public abstract ModelOutput Loss(Tensor hidden, Tensor labels, bool withLogits = false);

    /// <summary>Forward FLOPs of one pass: <paramref name="depth"/> executed layers, <paramref name="predicted"/> positions through the head.</summary>
    public abstract double ForwardFlops(int depth, int batch, int seqLen, int predicted);

    /// <summary>FLOPs of a training step (forward + backward, backward = 2 x forward).</summary>
    public FlopCount StepFlops(int depth, int batch, int seqLen, int predicted)
    {
        var f = ForwardFlops(depth, batch, seqLen, predicted);
        return new FlopCount(f, 2 * f);
    }

    /// <summary>The identity plan: executed layer i uses weight i, for the first <paramref name="depth"/> layers.</summary>
    public static int[] IdentityPlan(int depth) => Enumerable.Range(0, depth).ToArray();

    /// <summary>Parameters of one layer (by weight index), in a fixed order.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> LayerParameters(int index) => Layers[index].parameters().ToList();

    /// <summary>Parameters shared by every depth: embeddings, final norm, heads.</summary>
    public IReadOnlyList<TorchSharp.Modules.Parameter> SharedParameters()
    {
        var inLayers = new HashSet<IntPtr>(Layers.SelectMany(l => l.parameters()).Select(p => p.Handle));
        return parameters().Where(p => !inLayers.Contains(p.Handle)).ToList();
    }

    /// <summary>
    /// Copies each parameter of <paramref name="from"/> into the one at the same position of <paramref name="to"/>
    /// (call under no_grad); <paramref name="copied"/> sees every (source, target) pair after its copy.
    /// </summary>
    public static void CopyParameters(IReadOnlyList<TorchSharp.Modules.Parameter> from, IReadOnlyList<TorchSharp.Modules.Parameter> to,
        Action<TorchSharp.Modules.Parameter, TorchSharp.Modules.Parameter>? copied = null)
    {
        if (from.Count != to.Count) throw new InvalidOperationException($"parameter lists differ ({from.Count} vs {to.Count})");
        for (int i = 0; i < from.Count; i++)
        {
            to[i].copy_(from[i]);
            copied?.Invoke(from[i], to[i]);
        }
    }

    public long ParameterCount() => parameters().Sum(p => p.numel());

    public static LanguageModel Create(ModelConfig config, long initSeed)
    {
        // Initialisation draws from its own seeded stream so data order and sampling never disturb it.
        torch.manual_seed(Core.Rng.For(initSeed, "init").NextSeed());
        return config.Arch switch
        {
            Architecture.Bert => new BertModel(config),
            Architecture.Gpt => new GptModel(config),
            _ => throw new ArgumentOutOfRangeException(nameof(config)),
        };
    }

    protected static void CheckPlan(IReadOnlyList<int> plan, int layers)
    {
        if (plan.Count == 0) throw new ArgumentException("an execution plan needs at least one layer", nameof(plan));
        foreach (var w in plan)
            if (w < 0 || w >= layers) throw new ArgumentException($"plan refers to weight {w}, model has {layers}", nameof(plan));
    }
}
