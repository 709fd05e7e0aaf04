using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ApolloBench.Models;

/// <summary>
/// GPT-2 (Radford et al. 2019) as Hugging Face writes it: pre-LayerNorm decoder, causal attention,
/// learned positions, LM head tied to the token embeddings. Parameter paths match
/// <c>GPT2LMHeadModel</c> (transformer.wte, transformer.wpe, transformer.h.{i}.*, transformer.ln_f),
/// with Conv1D weights stored [in, out]. Dropout (<see cref="LanguageModel.DropoutRate"/>) where GPT-2 has it: on the
/// embeddings' sum (embd_pdrop), the attention probabilities (attn_pdrop) and each block's two residual branches
/// (resid_pdrop).
/// </summary>
public sealed class GptModel : LanguageModel
{
    readonly Embedding wte, wpe;
    readonly ModuleList<GptBlock> h;
    readonly LayerNorm lnF;
    readonly Tensor positionIds;
    readonly IReadOnlyList<nn.Module> layerView;

    public GptModel(ModelConfig c) : base(nameof(GptModel), c)
    {
        wte = nn.Embedding(c.Vocab, c.Hidden);
        wpe = nn.Embedding(c.SeqLen, c.Hidden);
        h = nn.ModuleList(Enumerable.Range(0, c.Layers).Select(_ => new GptBlock(c)).ToArray());
        lnF = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        positionIds = torch.arange(c.SeqLen, dtype: int64);
        layerView = h.Cast<nn.Module>().ToList();
        register_module("transformer", new Named(("wte", wte), ("wpe", wpe), ("h", h), ("ln_f", lnF)));
        register_buffer("position_ids", positionIds, persistent: false);
        Init.Standard(this);
        // GPT-2 scales the residual projections by 1/sqrt(2L).
        using var _ = torch.no_grad();
        foreach (var block in h) block.ScaleResidualProjections(1.0 / Math.Sqrt(2.0 * c.Layers));
    }

    public override IReadOnlyList<nn.Module> Layers => layerView;

    /// <summary>Final hidden states (B, T, h) after ln_f. Causal attention needs no padding mask for left-aligned text.</summary>
    public override Tensor Encode(Tensor inputIds, IReadOnlyList<int> plan, Tensor? attentionMask = null)
    {
        CheckPlan(plan, h.Count);
        using var scope = torch.NewDisposeScope();
        long t = inputIds.shape[1];
        double p = ActiveDropout;
        var x = wte.forward(inputIds).add_(wpe.forward(positionIds.slice(0, 0, t, 1)));   // (B, T, h)
        x = F.dropout(x, p, training: p > 0);
        foreach (var w in plan) x = h[w].Forward(x, p);
        return lnF.forward(x).MoveToOuterDisposeScope();
    }

    public override ModelOutput Loss(Tensor hidden, Tensor labels, bool withLogits = false)
    {
        using var scope = torch.NewDisposeScope();
        var logits = F.linear(hidden, wte.weight!).@float();                                  // (B, T, V), tied head
        var loss = F.cross_entropy(logits.reshape(-1, logits.shape[2]), labels.reshape(-1), ignore_index: Data.Batch.IgnoreIndex);
        return new ModelOutput(loss.MoveToOuterDisposeScope(), withLogits ? logits.MoveToOuterDisposeScope() : null);
    }

    /// <summary>
    /// Forward FLOPs, 2 per multiply-add. Per sequence of T tokens and executed layer:
    /// c_attn and c_proj 8·T·h², MLP 4·T·h·f, causal scores and weighted sum 2·T·(T+1)·h (only the
    /// lower triangle, which is what a causal kernel needs). Embeddings: the token + position
    /// sum, T·h. Head: tied projection 2·h·V per predicted position. Norms/GELU/softmax not counted.
    /// </summary>
    public override double ForwardFlops(int depth, int batch, int seqLen, int predicted)
    {
        double hd = Config.Hidden, f = Config.Ffn, t = seqLen, v = Config.Vocab;
        double perLayer = 8 * t * hd * hd + 4 * t * hd * f + 2 * t * (t + 1) * hd;
        double embeddings = t * hd;
        double head = predicted * 2 * hd * v;
        return batch * (depth * perLayer + embeddings) + head;
    }
}

/// <summary>One pre-LayerNorm decoder block; paths match Hugging Face's GPT2Block.</summary>
public sealed class GptBlock : nn.Module<Tensor, Tensor>
{
    readonly LayerNorm ln1, ln2;
    readonly Conv1D cAttn, attnProj, cFc, mlpProj;
    readonly int heads;

    public GptBlock(ModelConfig c) : base(nameof(GptBlock))
    {
        heads = c.Heads;
        ln1 = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        cAttn = new Conv1D(c.Hidden, 3 * c.Hidden);
        attnProj = new Conv1D(c.Hidden, c.Hidden);
        ln2 = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        cFc = new Conv1D(c.Hidden, c.Ffn);
        mlpProj = new Conv1D(c.Ffn, c.Hidden);
        register_module("ln_1", ln1);
        register_module("attn", new Named(("c_attn", cAttn), ("c_proj", attnProj)));
        register_module("ln_2", ln2);
        register_module("mlp", new Named(("c_fc", cFc), ("c_proj", mlpProj)));
    }

    internal void ScaleResidualProjections(double factor)
    {
        attnProj.Weight.mul_(factor);
        mlpProj.Weight.mul_(factor);
    }

    public override Tensor forward(Tensor x) => Forward(x, 0);

    /// <param name="dropout">dropout probability (0 in evaluation).</param>
    public Tensor Forward(Tensor x, double dropout)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], hd = x.shape[2];
        bool drop = dropout > 0;
        var qkv = cAttn.forward(ln1.forward(x)).view(b, t, 3, heads, hd / heads).permute(2, 0, 3, 1, 4);  // (3, B, H, T, D)
        var attended = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], p: dropout, is_casual: true)
            .transpose(1, 2).reshape(b, t, hd);
        // Out-of-place residual adds keep the residual stream in fp32 under bf16 autocast.
        var y = F.dropout(attnProj.forward(attended), dropout, training: drop) + x;
        y = F.dropout(mlpProj.forward(F.gelu(cFc.forward(ln2.forward(y)), TorchSharp.Modules.GELU.Approximate.tanh)), dropout, training: drop) + y;
        return y.MoveToOuterDisposeScope();
    }
}
