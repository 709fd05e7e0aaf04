namespace ApolloBench.Data;

/// <summary>The pre-training objective a batch stream serves.</summary>
public enum Objective
{
    /// <summary>GPT: predict every next token of a contiguous block.</summary>
    CausalLm,
    /// <summary>BERT: predict the original ids at 15% masked positions of a [CLS] ... [SEP] block.</summary>
    MaskedLm,
}
