using ApolloBench.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ApolloBench.Downstream;

/// <summary>
/// A pre-trained BERT with a fine-tuning head, as Hugging Face's BertForSequenceClassification and
/// BertForQuestionAnswering: for a sequence task the [CLS] state goes through a pooler (dense + tanh), dropout
/// and a linear layer to <c>labels</c> logits (1 output for regression); for a span task a linear layer maps every
/// token's state to a start and an end logit. The encoder runs its full identity plan (all L weights: every
/// method's final model has L trained layers). The MLM head's parameters stay in the module but receive no
/// gradient, so AdamW leaves them alone.
/// </summary>
public sealed class FinetuneModel : nn.Module
{
    readonly LanguageModel encoder;
    readonly Linear? pooler, classifier, qaOutputs;
    readonly Dropout dropout;
    readonly int[] plan;

    public FinetuneModel(LanguageModel encoder, TaskKind kind, int labels, double dropoutRate, long headSeed) : base(nameof(FinetuneModel))
    {
        if (encoder.Config.Arch != Architecture.Bert) throw new ArgumentException("fine-tuning heads are defined for BERT", nameof(encoder));
        this.encoder = encoder;
        encoder.DropoutRate = dropoutRate;   // as Hugging Face's fine-tuning models: the encoder's own dropout sites are active too
        Kind = kind;
        int h = encoder.Config.Hidden;
        plan = LanguageModel.IdentityPlan(encoder.Config.Layers);
        torch.manual_seed(headSeed);
        if (kind == TaskKind.Span) qaOutputs = nn.Linear(h, 2);
        else
        {
            pooler = nn.Linear(h, h);
            classifier = nn.Linear(h, kind == TaskKind.Regression ? 1 : labels);
        }
        dropout = nn.Dropout(dropoutRate);
        register_module("encoder", encoder);
        if (pooler is not null) register_module("pooler", pooler);
        if (classifier is not null) register_module("classifier", classifier);
        if (qaOutputs is not null) register_module("qa_outputs", qaOutputs);
        register_module("dropout", dropout);
        using (torch.no_grad())
            foreach (var head in new[] { pooler, classifier, qaOutputs })
            {
                if (head is null) continue;
                nn.init.normal_(head.weight!, 0, 0.02);
                head.bias!.zero_();
            }
    }

    public TaskKind Kind { get; }
    public LanguageModel Encoder => encoder;

    /// <summary>Sequence tasks: logits (B, labels), or (B) for regression. <paramref name="mask"/>: bool (B, T), true for real tokens.</summary>
    public Tensor Classify(Tensor ids, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var h = encoder.Encode(ids, plan, mask);                                  // (B, T, h)
        var pooled = torch.tanh(pooler!.forward(h.select(1, 0)));                 // (B, h)
        var logits = classifier!.forward(dropout.forward(pooled));                // (B, labels)
        if (Kind == TaskKind.Regression) logits = logits.squeeze(1);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>Span tasks: start and end logits (B, T); padding positions get -1e4 so they are never chosen.</summary>
    public (Tensor Start, Tensor End) Spans(Tensor ids, Tensor mask)
    {
        using var scope = torch.NewDisposeScope();
        var h = dropout.forward(encoder.Encode(ids, plan, mask));                 // (B, T, h)
        var logits = qaOutputs!.forward(h).masked_fill(mask.logical_not().unsqueeze(2), -1e4); // (B, T, 2)
        var start = logits.select(2, 0).contiguous();
        var end = logits.select(2, 1).contiguous();
        return (start.MoveToOuterDisposeScope(), end.MoveToOuterDisposeScope());
    }

    /// <summary>The training loss of a batch: cross-entropy (classification), MSE (regression) or the mean of the
    /// start and end cross-entropies (span).</summary>
    public Tensor Loss(Tensor ids, Tensor mask, Tensor targets, Tensor? endTargets = null)
    {
        using var scope = torch.NewDisposeScope();
        Tensor loss = Kind switch
        {
            TaskKind.Classification => F.cross_entropy(Classify(ids, mask), targets),
            TaskKind.Regression => F.mse_loss(Classify(ids, mask), targets),
            _ => SpanLoss(ids, mask, targets, endTargets!),
        };
        return loss.MoveToOuterDisposeScope();
    }

    Tensor SpanLoss(Tensor ids, Tensor mask, Tensor startTargets, Tensor endTargets)
    {
        var (s, e) = Spans(ids, mask);
        return F.cross_entropy(s, startTargets).add(F.cross_entropy(e, endTargets)).div(2);
    }

    /// <summary>(name, parameter) of everything trainable, for AdamW.</summary>
    public IEnumerable<(string Name, Parameter Param)> NamedParameters() => named_parameters().Select(p => (p.name, p.parameter));
}
