using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ApolloBench.Models;

/// <summary>
/// BERT (Devlin et al. 2019) as Hugging Face writes it: post-LayerNorm encoder, learned absolute
/// positions, MLM head tied to the word embeddings. Parameter paths match <c>BertForMaskedLM</c>
/// (bert.embeddings.*, bert.encoder.layer.{i}.*, cls.predictions.*). No NSP (the paper drops it).
/// Dropout (<see cref="LanguageModel.DropoutRate"/>) sits where Hugging Face's BertModel puts it: after the embeddings'
/// LayerNorm, on the attention probabilities, and on the attention-output and feed-forward-output dense layers before
/// each residual LayerNorm; none in the MLM head.
/// </summary>
public sealed class BertModel : LanguageModel
{
    readonly Embedding wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings;
    readonly LayerNorm embeddingsNorm;
    readonly ModuleList<BertLayer> layer;
    readonly Linear transformDense;
    readonly LayerNorm transformNorm;
    readonly Parameter predictionBias;
    readonly Tensor positionIds;
    readonly IReadOnlyList<nn.Module> layerView;

    public BertModel(ModelConfig c) : base(nameof(BertModel), c)
    {
        wordEmbeddings = nn.Embedding(c.Vocab, c.Hidden);
        positionEmbeddings = nn.Embedding(c.SeqLen, c.Hidden);
        tokenTypeEmbeddings = nn.Embedding(c.TypeVocab, c.Hidden);
        embeddingsNorm = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        layer = nn.ModuleList(Enumerable.Range(0, c.Layers).Select(_ => new BertLayer(c)).ToArray());
        transformDense = nn.Linear(c.Hidden, c.Hidden);
        transformNorm = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        predictionBias = new Parameter(torch.zeros(c.Vocab));
        positionIds = torch.arange(c.SeqLen, dtype: int64);
        layerView = layer.Cast<nn.Module>().ToList();

        register_module("bert", new Named(
            ("embeddings", new Named(
                ("word_embeddings", wordEmbeddings),
                ("position_embeddings", positionEmbeddings),
                ("token_type_embeddings", tokenTypeEmbeddings),
                ("LayerNorm", embeddingsNorm))),
            ("encoder", new Named(("layer", layer)))));
        var predictions = new Named(("transform", new Named(("dense", transformDense), ("LayerNorm", transformNorm))));
        predictions.register_parameter("bias", predictionBias);
        register_module("cls", new Named(("predictions", predictions)));
        register_buffer("position_ids", positionIds, persistent: false);
        Init.Standard(this);
    }

    public override IReadOnlyList<nn.Module> Layers => layerView;

    /// <summary>
    /// Final hidden states (B, T, h) under a plan. <paramref name="attentionMask"/> (bool or 0/1, [B, T],
    /// true for real tokens) hides padding from attention; fine-tuning on padded batches needs it.
    /// </summary>
    public override Tensor Encode(Tensor inputIds, IReadOnlyList<int> plan, Tensor? attentionMask = null)
    {
        CheckPlan(plan, layer.Count);
        using var scope = torch.NewDisposeScope();
        long t = inputIds.shape[1];
        double p = ActiveDropout;
        var x = wordEmbeddings.forward(inputIds)                       // (B, T, h)
            .add_(positionEmbeddings.forward(positionIds.slice(0, 0, t, 1)))
            .add_(tokenTypeEmbeddings.weight![0]);
        x = F.dropout(embeddingsNorm.forward(x), p, training: p > 0);
        var mask = attentionMask?.to(ScalarType.Bool).unsqueeze(1).unsqueeze(1);   // (B, 1, 1, T)
        foreach (var w in plan) x = layer[w].Forward(x, mask, p);
        return x.MoveToOuterDisposeScope();
    }

    public override ModelOutput Loss(Tensor hidden, Tensor labels, bool withLogits = false)
    {
        using var scope = torch.NewDisposeScope();
        long b = hidden.shape[0], t = hidden.shape[1];
        var flatLabels = labels.reshape(-1);
        var flat = hidden.reshape(-1, hidden.shape[2]);                // (B*T, h)
        if (withLogits)
        {
            var logits = Head(flat).@float();                          // (B*T, V)
            var all = F.cross_entropy(logits, flatLabels, ignore_index: Data.Batch.IgnoreIndex);
            return new ModelOutput(all.MoveToOuterDisposeScope(), logits.reshape(b, t, -1).MoveToOuterDisposeScope());
        }
        // The MLM head runs only on the masked positions.
        var rows = flatLabels.ne(Data.Batch.IgnoreIndex).nonzero().squeeze(1);
        var predicted = Head(flat.index_select(0, rows)).@float();    // (P, V)
        var loss = F.cross_entropy(predicted, flatLabels.index_select(0, rows));
        return new ModelOutput(loss.MoveToOuterDisposeScope(), null);
    }

    Tensor Head(Tensor hidden)
    {
        var h = transformNorm.forward(F.gelu(transformDense.forward(hidden)));
        return F.linear(h, wordEmbeddings.weight!, predictionBias);    // tied decoder
    }

    /// <summary>
    /// Forward FLOPs, 2 per multiply-add. Per sequence of T tokens and executed layer:
    /// Q,K,V and output projections 8·T·h², feed-forward 4·T·h·f, scores and weighted sum 4·T²·h.
    /// Embeddings: the word + position + type sum, 2·T·h. Head, per predicted position:
    /// transform 2·h², tied decoder 2·h·V. LayerNorm, GELU and softmax are not counted.
    /// </summary>
    public override double ForwardFlops(int depth, int batch, int seqLen, int predicted)
    {
        double h = Config.Hidden, f = Config.Ffn, t = seqLen, v = Config.Vocab;
        double perLayer = 8 * t * h * h + 4 * t * h * f + 4 * t * t * h;
        double embeddings = 2 * t * h;
        double head = predicted * (2 * h * h + 2 * h * v);
        return batch * (depth * perLayer + embeddings) + head;
    }
}

/// <summary>One post-LayerNorm encoder block; paths match Hugging Face's BertLayer.</summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor>
{
    readonly Linear query, key, value, attentionOut, intermediate, output;
    readonly LayerNorm attentionNorm, outputNorm;
    readonly int heads;

    public BertLayer(ModelConfig c) : base(nameof(BertLayer))
    {
        heads = c.Heads;
        query = nn.Linear(c.Hidden, c.Hidden);
        key = nn.Linear(c.Hidden, c.Hidden);
        value = nn.Linear(c.Hidden, c.Hidden);
        attentionOut = nn.Linear(c.Hidden, c.Hidden);
        attentionNorm = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        intermediate = nn.Linear(c.Hidden, c.Ffn);
        output = nn.Linear(c.Ffn, c.Hidden);
        outputNorm = nn.LayerNorm(c.Hidden, c.LayerNormEps);
        register_module("attention", new Named(
            ("self", new Named(("query", query), ("key", key), ("value", value))),
            ("output", new Named(("dense", attentionOut), ("LayerNorm", attentionNorm)))));
        register_module("intermediate", new Named(("dense", intermediate)));
        register_module("output", new Named(("dense", output), ("LayerNorm", outputNorm)));
    }

    public override Tensor forward(Tensor x) => Forward(x, null, 0);

    /// <param name="mask">bool (B, 1, 1, T), true where attention may look; null attends everywhere.</param>
    /// <param name="dropout">dropout probability (0 in evaluation).</param>
    public Tensor Forward(Tensor x, Tensor? mask, double dropout)
    {
        using var scope = torch.NewDisposeScope();
        long b = x.shape[0], t = x.shape[1], h = x.shape[2];
        bool drop = dropout > 0;
        Tensor Split(Linear proj) => proj.forward(x).view(b, t, heads, h / heads).transpose(1, 2);  // (B, H, T, D)
        var attended = F.scaled_dot_product_attention(Split(query), Split(key), Split(value), attn_mask: mask, p: dropout)
            .transpose(1, 2).reshape(b, t, h);                                                      // (B, T, h)
        // Out-of-place residual adds: under bf16 autocast the dense output is bf16 and the sum must promote to fp32.
        var a = attentionNorm.forward(F.dropout(attentionOut.forward(attended), dropout, training: drop) + x);
        var y = outputNorm.forward(F.dropout(output.forward(F.gelu(intermediate.forward(a))), dropout, training: drop) + a);
        return y.MoveToOuterDisposeScope();
    }
}
