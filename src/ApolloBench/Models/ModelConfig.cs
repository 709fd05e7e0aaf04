namespace ApolloBench.Models;

public enum Architecture { Bert, Gpt }

/// <summary>Everything a model constructor needs. One object flows into every module.</summary>
public sealed record ModelConfig(
    Architecture Arch,
    int Layers,
    int Hidden,
    int Heads,
    int Vocab,
    int SeqLen,
    int FfnMultiplier = 4,
    int TypeVocab = 2)
{
    public int Ffn => Hidden * FfnMultiplier;
    public int HeadDim => Hidden / Heads;
    /// <summary>BERT uses 1e-12 (Hugging Face's BertConfig), GPT-2 uses 1e-5.</summary>
    public double LayerNormEps => Arch == Architecture.Bert ? 1e-12 : 1e-5;

    public void Validate()
    {
        if (Layers < 1) throw new Core.UsageException($"model.layers: must be >= 1 (got {Layers})");
        if (Hidden < 1 || Heads < 1 || Hidden % Heads != 0)
            throw new Core.UsageException($"model.hidden: {Hidden} must be a positive multiple of model.heads ({Heads})");
        if (Vocab < 8) throw new Core.UsageException($"model.vocab: must be >= 8 (got {Vocab})");
        if (SeqLen < 4) throw new Core.UsageException($"model.seqLen: must be >= 4 (got {SeqLen})");
    }
}
