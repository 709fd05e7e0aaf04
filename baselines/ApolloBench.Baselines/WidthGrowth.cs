using ApolloBench.Core;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Baselines;

/// <summary>The unit space an axis of a parameter is indexed by.</summary>
public enum UnitSpace
{
    /// <summary>The residual stream (hidden size h): one map for the whole model.</summary>
    Hidden,
    /// <summary>A layer's attention units, heads x head dim (BERT's query/key/value outputs, GPT's c_proj input).</summary>
    Attention,
    /// <summary>GPT's fused c_attn output: three attention spaces side by side, q | k | v.</summary>
    FusedQkv,
    /// <summary>A layer's feed-forward units (4h).</summary>
    Ffn,
}

/// <summary>
/// One axis of a parameter. An out axis (<see cref="In"/> false) is indexed by units the parameter produces
/// (rows of a Linear, columns of a Conv1D, LayerNorm vectors, embedding columns): widening copies the source unit.
/// An in axis is indexed by units the parameter reads: widening copies the source unit and divides by how many
/// times that unit was copied, so the sum over copies equals the original contribution.
/// </summary>
public readonly record struct Axis(int Dim, UnitSpace Space, bool In);

/// <summary>
/// Where a parameter sits in BERT's or GPT-2's Hugging Face layout: its layer (null for embeddings, final norm
/// and heads), its name inside the layer, and the unit space of each axis.
/// <para>BERT: Linear weights are [out, in]; GPT: Conv1D weights are [in, out], and c_attn's output is fused
/// q | k | v, so its out axis is <see cref="UnitSpace.FusedQkv"/> and widening acts per head block inside each third.</para>
/// <para>The LayerNorm right before the tied output embedding (BERT's <c>cls.predictions.transform.LayerNorm</c>,
/// GPT's <c>transformer.ln_f</c>) is the one vector treated as an IN axis: its output is read by the tied decoder,
/// whose widened columns are copies, so dividing this norm's gamma and beta by the copy counts is what keeps the
/// logits unchanged. Every other LayerNorm is copied, not divided (SPEC section 5).</para>
/// </summary>
public sealed record ParameterLayout(string Name, int? Layer, string Local, Axis[] Axes)
{
    const string BertLayerPrefix = "bert.encoder.layer.", GptLayerPrefix = "transformer.h.";

    static Axis Out(int dim, UnitSpace s) => new(dim, s, false);
    static Axis In(int dim, UnitSpace s) => new(dim, s, true);

    public static string LayerName(Architecture arch, int layer, string local)
        => (arch == Architecture.Bert ? BertLayerPrefix : GptLayerPrefix) + layer + "." + local;

    public static ParameterLayout Of(Architecture arch, string name)
    {
        var prefix = arch == Architecture.Bert ? BertLayerPrefix : GptLayerPrefix;
        if (name.StartsWith(prefix))
        {
            var rest = name[prefix.Length..];
            int dot = rest.IndexOf('.');
            var layer = int.Parse(rest[..dot], System.Globalization.CultureInfo.InvariantCulture);
            var local = rest[(dot + 1)..];
            return new(name, layer, local, arch == Architecture.Bert ? BertLayer(local) : GptLayer(local));
        }
        return new(name, null, name, arch == Architecture.Bert ? BertShared(name) : GptShared(name));
    }

    static Axis[] Unknown(string name) => throw new ArgumentException($"no width layout for parameter '{name}'");

    static Axis[] BertLayer(string local) => local switch
    {
        "attention.self.query.weight" or "attention.self.key.weight" or "attention.self.value.weight"
            => [Out(0, UnitSpace.Attention), In(1, UnitSpace.Hidden)],
        "attention.self.query.bias" or "attention.self.key.bias" or "attention.self.value.bias" => [Out(0, UnitSpace.Attention)],
        "attention.output.dense.weight" => [Out(0, UnitSpace.Hidden), In(1, UnitSpace.Attention)],
        "intermediate.dense.weight" => [Out(0, UnitSpace.Ffn), In(1, UnitSpace.Hidden)],
        "intermediate.dense.bias" => [Out(0, UnitSpace.Ffn)],
        "output.dense.weight" => [Out(0, UnitSpace.Hidden), In(1, UnitSpace.Ffn)],
        "attention.output.dense.bias" or "output.dense.bias"
            or "attention.output.LayerNorm.weight" or "attention.output.LayerNorm.bias"
            or "output.LayerNorm.weight" or "output.LayerNorm.bias" => [Out(0, UnitSpace.Hidden)],
        _ => Unknown(local),
    };

    static Axis[] BertShared(string name) => name switch
    {
        "bert.embeddings.word_embeddings.weight" or "bert.embeddings.position_embeddings.weight"
            or "bert.embeddings.token_type_embeddings.weight" => [Out(1, UnitSpace.Hidden)],
        "bert.embeddings.LayerNorm.weight" or "bert.embeddings.LayerNorm.bias" => [Out(0, UnitSpace.Hidden)],
        "cls.predictions.transform.dense.weight" => [Out(0, UnitSpace.Hidden), In(1, UnitSpace.Hidden)],
        "cls.predictions.transform.dense.bias" => [Out(0, UnitSpace.Hidden)],
        "cls.predictions.transform.LayerNorm.weight" or "cls.predictions.transform.LayerNorm.bias" => [In(0, UnitSpace.Hidden)],
        "cls.predictions.bias" => [],
        _ => Unknown(name),
    };

    static Axis[] GptLayer(string local) => local switch
    {
        "ln_1.weight" or "ln_1.bias" or "ln_2.weight" or "ln_2.bias" or "attn.c_proj.bias" or "mlp.c_proj.bias" => [Out(0, UnitSpace.Hidden)],
        "attn.c_attn.weight" => [In(0, UnitSpace.Hidden), Out(1, UnitSpace.FusedQkv)],
        "attn.c_attn.bias" => [Out(0, UnitSpace.FusedQkv)],
        "attn.c_proj.weight" => [In(0, UnitSpace.Attention), Out(1, UnitSpace.Hidden)],
        "mlp.c_fc.weight" => [In(0, UnitSpace.Hidden), Out(1, UnitSpace.Ffn)],
        "mlp.c_fc.bias" => [Out(0, UnitSpace.Ffn)],
        "mlp.c_proj.weight" => [In(0, UnitSpace.Ffn), Out(1, UnitSpace.Hidden)],
        _ => Unknown(local),
    };

    static Axis[] GptShared(string name) => name switch
    {
        "transformer.wte.weight" or "transformer.wpe.weight" => [Out(1, UnitSpace.Hidden)],
        "transformer.ln_f.weight" or "transformer.ln_f.bias" => [In(0, UnitSpace.Hidden)],
        _ => Unknown(name),
    };
}

/// <summary>
/// Which small unit each unit of the widened model copies: <c>g(j) = j</c> for the small model's own units and a
/// chosen source for every new one (bert2BERT's <c>g_in</c>/<c>g_out</c>). One map for the residual stream
/// (<see cref="Hidden"/>), and per layer one map over heads (heads grow as whole blocks of head-dim units, so
/// the new head count is the new width / head dim) and one over feed-forward units.
/// </summary>
public sealed record WidthMaps(int[] Hidden, int[][] Heads, int[][] Ffn)
{
    /// <summary>bert2BERT's FPI choice (SPEC section 5): each new unit's source drawn uniformly, with replacement.</summary>
    public static WidthMaps Random(ModelConfig small, ModelConfig large, Rng rng)
    {
        CheckShapes(small, large);
        int[] Draw(int from, int to)
        {
            var g = new int[to];
            for (int j = 0; j < to; j++) g[j] = j < from ? j : rng.NextInt(from);
            return g;
        }
        var hidden = Draw(small.Hidden, large.Hidden);
        var heads = new int[small.Layers][];
        var ffn = new int[small.Layers][];
        for (int l = 0; l < small.Layers; l++)
        {
            heads[l] = Draw(small.Heads, large.Heads);
            ffn[l] = Draw(small.Ffn, large.Ffn);
        }
        return new(hidden, heads, ffn);
    }

    /// <summary>
    /// <c>g(j) = j mod d</c> in every space. When every new size is a multiple of the small one each source is
    /// copied equally often, which is the case where FPI preserves the function exactly: LayerNorm's mean and
    /// variance over a widened vector equal the small vector's only when every unit has the same copy count.
    /// </summary>
    public static WidthMaps Cyclic(ModelConfig small, ModelConfig large)
    {
        CheckShapes(small, large);
        static int[] Cycle(int from, int to) => Enumerable.Range(0, to).Select(j => j % from).ToArray();
        return new(Cycle(small.Hidden, large.Hidden),
            Enumerable.Range(0, small.Layers).Select(_ => Cycle(small.Heads, large.Heads)).ToArray(),
            Enumerable.Range(0, small.Layers).Select(_ => Cycle(small.Ffn, large.Ffn)).ToArray());
    }

    public static void CheckShapes(ModelConfig small, ModelConfig large)
    {
        if (small.Arch != large.Arch) throw new ArgumentException($"cannot widen {small.Arch} into {large.Arch}");
        if (small.HeadDim != large.HeadDim)
            throw new UsageException($"width growth keeps the head dimension (heads grow as whole blocks): small {small.Hidden}/{small.Heads} = {small.HeadDim}, large {large.Hidden}/{large.Heads} = {large.HeadDim}");
        if (small.Hidden > large.Hidden || small.Heads > large.Heads || small.FfnMultiplier != large.FfnMultiplier)
            throw new ArgumentException($"cannot widen hidden {small.Hidden} into {large.Hidden}");
        if (small.Vocab != large.Vocab || small.SeqLen != large.SeqLen || small.TypeVocab != large.TypeVocab)
            throw new ArgumentException("small and large models must share vocabulary and sequence length");
    }

    /// <summary>The unit-level map of one space (heads expanded to their head-dim units; q|k|v thirds side by side).</summary>
    public int[] Units(UnitSpace space, int? layer, ModelConfig small, ModelConfig large)
    {
        int dh = small.HeadDim;
        int[] AttentionUnits() => Enumerable.Range(0, large.Hidden).Select(j => Heads[Need(layer)][j / dh] * dh + j % dh).ToArray();
        return space switch
        {
            UnitSpace.Hidden => Hidden,
            UnitSpace.Ffn => Ffn[Need(layer)],
            UnitSpace.Attention => AttentionUnits(),
            UnitSpace.FusedQkv => Enumerable.Range(0, 3).SelectMany(t => AttentionUnits().Select(u => t * small.Hidden + u)).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(space)),
        };
    }

    /// <summary>True for the units of the widened space that are new (not one of the small model's own).</summary>
    public static bool[] NewUnits(UnitSpace space, ModelConfig small, ModelConfig large) => space switch
    {
        UnitSpace.Hidden or UnitSpace.Attention => Enumerable.Range(0, large.Hidden).Select(j => j >= small.Hidden).ToArray(),
        UnitSpace.Ffn => Enumerable.Range(0, large.Ffn).Select(j => j >= small.Ffn).ToArray(),
        UnitSpace.FusedQkv => Enumerable.Range(0, 3 * large.Hidden).Select(j => j % large.Hidden >= small.Hidden).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(space)),
    };

    /// <summary>How many times each source unit is copied (its own unit included).</summary>
    public static int[] Counts(int[] g, int sourceSize)
    {
        var c = new int[sourceSize];
        foreach (var s in g) c[s]++;
        return c;
    }

    static int Need(int? layer) => layer ?? throw new ArgumentException("a per-layer unit space needs a layer");
}

/// <summary>How the units a width growth adds get their weights (bert2BERT, Chen et al. 2022, section 4).</summary>
public enum WidthInit
{
    /// <summary>Function-preserving initialisation: new units copy a unit of the same layer (Net2Net extended to Transformers).</summary>
    Fpi,
    /// <summary>Advanced knowledge initialisation: new units copy a unit of the NEXT layer l+1 of the small model; the top layer uses FPI.</summary>
    Aki,
}

/// <summary>
/// bert2BERT's width growth as a pure function over state tensors (SPEC section 5). For every parameter, each
/// in axis is expanded first: entry j takes source entry g(j) divided by g(j)'s copy count; then the out axis:
/// entry j takes source entry g(j). With FPI the source is the same layer; with AKI the entries of NEW out units of
/// layer l come from layer l+1 of the small model (in axes still expanded with layer l's maps, so they line up with
/// the widened layer l), and the top layer falls back to FPI. LayerNorm vectors are out axes (copied), except the
/// final norm before the tied decoder (see <see cref="ParameterLayout"/>).
/// <para>FPI preserves the small model's function exactly when every source unit is copied equally often
/// (<see cref="WidthMaps.Cyclic"/> with integer ratios); with uneven counts LayerNorm's statistics over the widened
/// vector shift, as in the bert2BERT paper, and the function is preserved only approximately.</para>
/// </summary>
public static class WidthGrowth
{
    /// <summary>
    /// Widens <paramref name="small"/> (a state of a <paramref name="smallConfig"/> model) to
    /// <paramref name="largeConfig"/>'s width; depth is unchanged (<c>largeConfig.Layers</c> is ignored; stack afterwards
    /// with <see cref="ModelState.StackDepth"/>). Returns new tensors; the input is not modified.
    /// </summary>
    public static Dictionary<string, Tensor> Widen(IReadOnlyDictionary<string, Tensor> small, ModelConfig smallConfig, ModelConfig largeConfig,
        WidthMaps maps, WidthInit init)
    {
        WidthMaps.CheckShapes(smallConfig, largeConfig);
        using var noGrad = torch.no_grad();
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in small)
        {
            var layout = ParameterLayout.Of(smallConfig.Arch, name);
            Tensor? next = null;
            if (init == WidthInit.Aki && layout.Layer is int l && l + 1 < smallConfig.Layers)
                next = small[ParameterLayout.LayerName(smallConfig.Arch, l + 1, layout.Local)];
            result[name] = Expand(tensor, next, layout, maps, smallConfig, largeConfig).DetachFromDisposeScope();
        }
        return result;
    }

    static Tensor Expand(Tensor source, Tensor? next, ParameterLayout layout, WidthMaps maps, ModelConfig small, ModelConfig large)
    {
        using var scope = torch.NewDisposeScope();
        if (layout.Axes.Length == 0) return source.clone().MoveToOuterDisposeScope();
        Tensor ExpandIn(Tensor t)
        {
            foreach (var axis in layout.Axes.Where(a => a.In))
            {
                var g = maps.Units(axis.Space, layout.Layer, small, large);
                var counts = WidthMaps.Counts(g, (int)t.shape[axis.Dim]);
                var divisor = torch.tensor(g.Select(s => (float)counts[s]).ToArray(), dtype: t.dtype, device: t.device);
                var shape = Enumerable.Repeat(1L, (int)t.dim()).ToArray();
                shape[axis.Dim] = g.Length;
                t = t.index_select(axis.Dim, torch.tensor(g.Select(x => (long)x).ToArray(), device: t.device)).div(divisor.view(shape));
            }
            return t;
        }
        var result = ExpandIn(source);
        var nextIn = next is null ? null : ExpandIn(next);
        foreach (var axis in layout.Axes.Where(a => !a.In))
        {
            var g = torch.tensor(maps.Units(axis.Space, layout.Layer, small, large).Select(x => (long)x).ToArray(), device: result.device);
            result = result.index_select(axis.Dim, g);
            if (nextIn is not null)
            {
                var isNew = WidthMaps.NewUnits(axis.Space, small, large);
                var shape = Enumerable.Repeat(1L, (int)result.dim()).ToArray();
                shape[axis.Dim] = isNew.Length;
                result = torch.where(torch.tensor(isNew, device: result.device).view(shape), nextIn.index_select(axis.Dim, g), result);
            }
        }
        return result.contiguous().MoveToOuterDisposeScope();
    }
}
