using System.Text;
using Microsoft.ML.Tokenizers;

namespace ApolloBench.Data;

/// <summary>
/// cl100k_base (tiktoken, offline) remapped onto a small vocabulary of size V: ids 0..5 are the special
/// tokens [PAD] [UNK] [CLS] [SEP] [MASK] [EOS]; ids 6..V-1 are the V-6 cl100k tokens most frequent in
/// the training documents (ties broken by the smaller cl100k id), most frequent first. Every other cl100k
/// token maps to [UNK]. If the training documents hold fewer than V-6 distinct tokens, the upper ids
/// stay unused (the model still gets V rows, so its shape does not depend on the corpus).
/// </summary>
public sealed class VocabTokenizer
{
    public const int Pad = 0, Unk = 1, Cls = 2, Sep = 3, Mask = 4, Eos = 5;
    /// <summary>How many special ids sit at the bottom of the vocabulary (S).</summary>
    public const int SpecialCount = 6;
    public const string BaseEncoding = "cl100k_base";
    public static readonly IReadOnlyList<string> SpecialNames = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[EOS]"];

    static readonly Lazy<Tokenizer> SharedBase = new(() => TiktokenTokenizer.CreateForEncoding(BaseEncoding));

    /// <summary>The cl100k_base tokenizer (one shared instance; it is thread-safe).</summary>
    public static Tokenizer Base => SharedBase.Value;

    readonly int[] toBase;   // our id -> cl100k id; -1 for specials and unused ids
    readonly int[] fromBase; // cl100k id -> our id; Unk where not kept

    /// <param name="baseIds">Index = our id, value = cl100k id. Entries 0..S-1 are ignored (specials);
    /// a negative value marks an unused id. Length = V.</param>
    public VocabTokenizer(IReadOnlyList<int> baseIds)
    {
        if (baseIds.Count <= SpecialCount)
            throw new ArgumentOutOfRangeException(nameof(baseIds), $"vocabulary size must exceed {SpecialCount} (got {baseIds.Count})");
        toBase = new int[baseIds.Count];
        int maxBase = -1;
        for (int i = 0; i < toBase.Length; i++)
        {
            toBase[i] = i < SpecialCount || baseIds[i] < 0 ? -1 : baseIds[i];
            maxBase = Math.Max(maxBase, toBase[i]);
        }
        fromBase = new int[maxBase + 1];
        Array.Fill(fromBase, Unk);
        for (int i = SpecialCount; i < toBase.Length; i++)
        {
            if (toBase[i] < 0) continue;
            if (fromBase[toBase[i]] != Unk) throw new ArgumentException($"cl100k id {toBase[i]} appears twice", nameof(baseIds));
            fromBase[toBase[i]] = i;
        }
        UsedIds = toBase.Skip(SpecialCount).Count(b => b >= 0);
    }

    public int VocabSize => toBase.Length;
    /// <summary>How many non-special ids are assigned to a cl100k token (at most V - S).</summary>
    public int UsedIds { get; }
    /// <summary>Index = our id, value = cl100k id (-1 for specials and unused ids).</summary>
    public IReadOnlyList<int> BaseIds => toBase;

    /// <summary>Keeps the V - S most frequent cl100k ids of the training documents (ties: smaller id first).</summary>
    public static VocabTokenizer FromTrainingIds(IEnumerable<int[]> trainingBaseIds, int vocabSize)
    {
        if (vocabSize <= SpecialCount) throw new ArgumentOutOfRangeException(nameof(vocabSize), $"must exceed {SpecialCount}");
        var counts = new Dictionary<int, long>();
        foreach (var doc in trainingBaseIds)
            foreach (var id in doc)
                counts[id] = counts.GetValueOrDefault(id) + 1;
        var kept = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(vocabSize - SpecialCount).Select(kv => kv.Key).ToList();
        var baseIds = new int[vocabSize];
        Array.Fill(baseIds, -1);
        for (int i = 0; i < kept.Count; i++) baseIds[SpecialCount + i] = kept[i];
        return new VocabTokenizer(baseIds);
    }

    /// <summary>cl100k_base ids of a text.</summary>
    public static int[] EncodeBase(string text) => [.. Base.EncodeToIds(text)];

    public int Map(int baseId) => (uint)baseId < (uint)fromBase.Length ? fromBase[baseId] : Unk;

    public int[] Map(ReadOnlySpan<int> baseIds)
    {
        var r = new int[baseIds.Length];
        for (int i = 0; i < r.Length; i++) r[i] = Map(baseIds[i]);
        return r;
    }

    /// <summary>Our ids of a text (no specials added).</summary>
    public int[] Encode(string text) => Map(EncodeBase(text));

    /// <summary>Text of our ids; special ids are written as their names, e.g. "[UNK]".</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var sb = new StringBuilder();
        var run = new List<int>();
        void Flush()
        {
            if (run.Count > 0) sb.Append(Base.Decode(run));
            run.Clear();
        }
        foreach (var id in ids)
        {
            if ((uint)id < (uint)toBase.Length && toBase[id] >= 0) { run.Add(toBase[id]); continue; }
            Flush();
            sb.Append(id is >= 0 and < SpecialCount ? SpecialNames[id] : "[UNK]");
        }
        Flush();
        return sb.ToString();
    }
}
