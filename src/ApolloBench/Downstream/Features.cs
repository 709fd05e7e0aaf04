using ApolloBench.Data;

namespace ApolloBench.Downstream;

/// <summary>A tokenized input: [CLS] a [SEP] (b [SEP]), at most the model's sequence length.</summary>
public sealed record Encoded(int[] Ids);

/// <summary>
/// One window of a SQuAD example: [CLS] question [SEP] context window [SEP]. <see cref="ContextStart"/> is the
/// position of the window's first context token; <see cref="CharStart"/>/<see cref="CharEnd"/> give each
/// window token's character span in the context. Training targets are positions (0 = [CLS] = no answer here).
/// </summary>
public sealed record SpanFeature(int Example, int[] Ids, int ContextStart, int[] CharStart, int[] CharEnd, int StartTarget, int EndTarget)
{
    public int ContextLength => CharStart.Length;
}

/// <summary>Turns text into the model's inputs with the pre-training run's remapped vocabulary.</summary>
public sealed class FeatureBuilder(VocabTokenizer tokenizer, int seqLen)
{
    public VocabTokenizer Tokenizer { get; } = tokenizer;
    public int SeqLen { get; } = seqLen;

    /// <summary>Longest question kept, in tokens: 64 as BERT's SQuAD recipe at 384 tokens, at most a third of shorter sequences.</summary>
    public int MaxQueryTokens => Math.Max(1, Math.Min(64, SeqLen / 3));
    /// <summary>Longest answer considered at prediction time, in tokens (BERT's max_answer_length).</summary>
    public const int MaxAnswerTokens = 30;
    /// <summary>Start and end candidates considered per window (BERT's n_best_size).</summary>
    public const int BestCandidates = 20;

    /// <summary>
    /// [CLS] a [SEP] or [CLS] a [SEP] b [SEP], truncated longest-first (one token at a time from the end of the
    /// longer text, as BERT's truncate_seq_pair) to fit <see cref="SeqLen"/>.
    /// </summary>
    public Encoded EncodePair(string a, string? b)
    {
        var ta = Tokenizer.Encode(a).ToList();
        var tb = b is null ? null : Tokenizer.Encode(b).ToList();
        int budget = SeqLen - (tb is null ? 2 : 3);
        if (budget < 1) throw new ArgumentException($"sequence length {SeqLen} leaves no room for text");
        while (ta.Count + (tb?.Count ?? 0) > budget)
        {
            if (tb is not null && tb.Count > ta.Count) tb.RemoveAt(tb.Count - 1);
            else ta.RemoveAt(ta.Count - 1);
        }
        var ids = new List<int>(SeqLen) { VocabTokenizer.Cls };
        ids.AddRange(ta);
        ids.Add(VocabTokenizer.Sep);
        if (tb is not null) { ids.AddRange(tb); ids.Add(VocabTokenizer.Sep); }
        return new Encoded([.. ids]);
    }

    /// <summary>
    /// Our ids of a text with each token's character span [start, end) in it. cl100k tokens that split one
    /// character (bytes of a multi-byte UTF-8 sequence) share that character's span; ids outside the run's
    /// vocabulary become [UNK] and keep their span.
    /// </summary>
    public (int[] Ids, int[] Start, int[] End) EncodeWithOffsets(string text)
    {
        var tokens = VocabTokenizer.Base.EncodeToTokens(text, out _);
        var ids = new int[tokens.Count];
        var start = new int[tokens.Count];
        var end = new int[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            var (off, len) = tokens[i].Offset.GetOffsetAndLength(text.Length);
            ids[i] = Tokenizer.Map(tokens[i].Id);
            start[i] = off;
            end[i] = off + len;
        }
        return (ids, start, end);
    }

    /// <summary>
    /// The windows of one SQuAD example: the context slides in steps of half a window (BERT's doc_stride is
    /// about that share of its window). A training answer is located by the first gold answer's character span;
    /// a window that does not hold it whole (or an unanswerable question, or a misaligned answer) targets [CLS].
    /// </summary>
    public List<SpanFeature> EncodeSpan(int exampleIndex, SquadExample ex, bool withTargets)
    {
        var q = Tokenizer.Encode(ex.Question);
        if (q.Length > MaxQueryTokens) q = q[..MaxQueryTokens];
        int window = SeqLen - q.Length - 3;
        if (window < 1) throw new ArgumentException($"sequence length {SeqLen} leaves no room for the context");
        var (ids, cs, ce) = EncodeWithOffsets(ex.Context);

        int answerFirst = -1, answerLast = -1;
        if (withTargets && ex.Answers.Count > 0)
        {
            var a = ex.Answers[0];
            bool aligned = string.CompareOrdinal(ex.Context, a.Start, a.Text, 0, a.Text.Length) == 0 && a.Text.Length > 0;
            if (aligned) (answerFirst, answerLast) = TokenSpan(cs, ce, a.Start, a.Start + a.Text.Length);
        }

        var features = new List<SpanFeature>();
        int stride = Math.Max(1, window / 2);
        for (int from = 0; ; from += stride)
        {
            int len = Math.Min(window, ids.Length - from);
            if (len < 0) len = 0;
            var seq = new int[q.Length + len + 3];
            seq[0] = VocabTokenizer.Cls;
            q.CopyTo(seq, 1);
            seq[q.Length + 1] = VocabTokenizer.Sep;
            Array.Copy(ids, from, seq, q.Length + 2, len);
            seq[^1] = VocabTokenizer.Sep;
            int ctx = q.Length + 2;
            int st = 0, en = 0;
            if (answerFirst >= 0 && answerFirst >= from && answerLast < from + len)
            {
                st = ctx + answerFirst - from;
                en = ctx + answerLast - from;
            }
            features.Add(new SpanFeature(exampleIndex, seq, ctx, cs[from..(from + len)], ce[from..(from + len)], st, en));
            if (from + len >= ids.Length) break;
        }
        return features;
    }

    /// <summary>The first and last token overlapping the character span [start, end); (-1, -1) if none does.</summary>
    public static (int First, int Last) TokenSpan(int[] charStart, int[] charEnd, int start, int end)
    {
        int first = -1, last = -1;
        for (int i = 0; i < charStart.Length; i++)
        {
            if (charEnd[i] <= start || charStart[i] >= end) continue;
            if (first < 0) first = i;
            last = i;
        }
        return (first, last);
    }
}
