using ApolloBench.Data;
using ApolloBench.Downstream;

namespace ApolloBench.Tests.Downstream;

public class FeatureTests
{
    static readonly VocabTokenizer Tok = VocabTokenizer.FromTrainingIds(
        [VocabTokenizer.EncodeBase(DownstreamFixtures.SquadContext + " Who won Super Bowl 50? Where was the game played? one two three four five six seven")], 256);

    [Fact]
    public void Pairs_are_cls_a_sep_b_sep_truncated_longest_first()
    {
        var b = new FeatureBuilder(Tok, 12);
        var a = Tok.Encode("one two three four five six seven");     // 7 tokens
        var bb = Tok.Encode("one two");                               // 2 tokens
        var enc = b.EncodePair("one two three four five six seven", "one two").Ids;
        // budget 12 - 3 = 9 = 7 + 2: nothing cut
        Assert.Equal([VocabTokenizer.Cls, .. a, VocabTokenizer.Sep, .. bb, VocabTokenizer.Sep], enc);

        var small = new FeatureBuilder(Tok, 8).EncodePair("one two three four five six seven", "one two").Ids;
        // budget 5: the longer text loses tokens from its end until 3 + 2 fit
        Assert.Equal([VocabTokenizer.Cls, .. a[..3], VocabTokenizer.Sep, .. bb, VocabTokenizer.Sep], small);

        var single = new FeatureBuilder(Tok, 5).EncodePair("one two three four five", null).Ids;
        Assert.Equal([VocabTokenizer.Cls, .. Tok.Encode("one two three four five")[..3], VocabTokenizer.Sep], single);
    }

    [Fact]
    public void Token_offsets_cover_the_text_including_unknown_and_multibyte_tokens()
    {
        var b = new FeatureBuilder(Tok, 32);
        var text = "Super Bowl 50 — Zürich’s naïve 🏈 fans, 24–10!";
        var (ids, start, end) = b.EncodeWithOffsets(text);
        Assert.Equal(VocabTokenizer.Base.EncodeToIds(text).Count, ids.Length);
        Assert.Contains(VocabTokenizer.Unk, ids);                    // words the tiny vocabulary lacks
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.InRange(start[i], 0, text.Length);
            Assert.InRange(end[i], start[i], text.Length);
            if (i > 0) Assert.True(start[i] >= start[i - 1]);
        }
        // Every character lies in some token's span; the spans of an ASCII text concatenate back to it.
        Assert.All(Enumerable.Range(0, text.Length), c => Assert.Contains(Enumerable.Range(0, ids.Length), i => start[i] <= c && c < end[i]));
        var ascii = "Super Bowl 50 was played in Santa Clara.";
        var (_, s2, e2) = b.EncodeWithOffsets(ascii);
        Assert.Equal(ascii, string.Concat(s2.Select((s, i) => ascii[s..e2[i]])));
    }

    [Fact]
    public void Span_windows_slide_over_the_context_and_target_the_answer_where_it_lies()
    {
        var b = new FeatureBuilder(Tok, 24);
        var ex = new SquadExample("q1", "Who won Super Bowl 50?", DownstreamFixtures.SquadContext,
            [new SquadAnswer("Denver Broncos", DownstreamFixtures.SquadContext.IndexOf("Denver", StringComparison.Ordinal))]);
        var features = b.EncodeSpan(0, ex, withTargets: true);
        Assert.True(features.Count > 1, "the context must need several windows at 24 tokens");
        Assert.All(features, f =>
        {
            Assert.True(f.Ids.Length <= 24);
            Assert.Equal(VocabTokenizer.Cls, f.Ids[0]);
            Assert.Equal(VocabTokenizer.Sep, f.Ids[f.ContextStart - 1]);
            Assert.Equal(VocabTokenizer.Sep, f.Ids[^1]);
            Assert.Equal(f.Ids.Length - 1, f.ContextStart + f.ContextLength);
        });
        // consecutive windows overlap (stride = half a window) and together cover the context
        var first = features[0];
        Assert.Equal(0, first.CharStart[0]);
        Assert.Equal(DownstreamFixtures.SquadContext.Length, features[^1].CharEnd[^1]);
        for (int k = 1; k < features.Count; k++) Assert.True(features[k].CharStart[0] < features[k - 1].CharEnd[^1]);

        var hits = features.Where(f => f.StartTarget > 0).ToList();
        Assert.NotEmpty(hits);
        Assert.All(hits, f =>
        {
            var text = DownstreamFixtures.SquadContext[f.CharStart[f.StartTarget - f.ContextStart]..f.CharEnd[f.EndTarget - f.ContextStart]].Trim();
            Assert.Equal("Denver Broncos", text);
        });
        // windows without the whole answer point at [CLS]
        Assert.All(features.Except(hits), f => Assert.Equal((0, 0), (f.StartTarget, f.EndTarget)));

        var impossible = ex with { Answers = [] };
        Assert.All(b.EncodeSpan(0, impossible, withTargets: true), f => Assert.Equal((0, 0), (f.StartTarget, f.EndTarget)));
    }

    [Fact]
    public void Answers_pick_the_best_span_and_abstain_in_v2_when_the_null_score_wins()
    {
        var b = new FeatureBuilder(Tok, 64);
        var ctx = DownstreamFixtures.SquadContext;
        var ex = new SquadExample("q1", "Who won Super Bowl 50?", ctx, [new SquadAnswer("Denver Broncos", ctx.IndexOf("Denver", StringComparison.Ordinal))]);
        var f = b.EncodeSpan(0, ex, withTargets: true).Single();
        float[] Logits(int hot, float value, float cls)
        {
            var l = new float[f.Ids.Length];
            l[0] = cls;
            l[hot] = value;
            return l;
        }
        // peaks on the answer tokens; [CLS] scores 2 + 2 = 4 against 3 + 3 = 6 for the span
        var logits = new[] { (Logits(f.StartTarget, 3, 2), Logits(f.EndTarget, 3, 2)) };
        Assert.Equal(["Denver Broncos"], Finetuner.Answers([ex], [f], logits, allowNoAnswer: true));
        // null score 8 beats the span: v2 abstains, v1 still answers
        var nullWins = new[] { (Logits(f.StartTarget, 3, 4), Logits(f.EndTarget, 3, 4)) };
        Assert.Equal([""], Finetuner.Answers([ex], [f], nullWins, allowNoAnswer: true));
        Assert.Equal(["Denver Broncos"], Finetuner.Answers([ex], [f], nullWins, allowNoAnswer: false));
        // an end before the start is never chosen: with the peaks swapped the best valid span differs
        var swapped = new[] { (Logits(f.EndTarget, 3, 0), Logits(f.StartTarget, 3, 0)) };
        Assert.NotEqual("Denver Broncos", Finetuner.Answers([ex], [f], swapped, allowNoAnswer: false)[0]);
    }

    [Fact]
    public void Learning_rate_warms_up_linearly_then_decays_to_zero()
    {
        Assert.Equal(0.25, Finetuner.LearningRate(1, 0, 4, 10), 12);
        Assert.Equal(1.0, Finetuner.LearningRate(1, 3, 4, 10), 12);
        Assert.Equal(1.0, Finetuner.LearningRate(1, 4, 4, 10), 12);
        Assert.Equal(0.5, Finetuner.LearningRate(1, 7, 4, 10), 12);
        Assert.Equal(1.0 / 6, Finetuner.LearningRate(1, 9, 4, 10), 12);
        Assert.Equal(1.0, Finetuner.LearningRate(1, 0, 0, 10), 12);
    }
}
