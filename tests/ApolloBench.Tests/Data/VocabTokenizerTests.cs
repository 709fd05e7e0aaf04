using ApolloBench.Data;

namespace ApolloBench.Tests.Data;

public class VocabTokenizerTests
{
    [Fact]
    public void Specials_have_fixed_small_ids()
    {
        Assert.Equal((0, 1, 2, 3, 4, 5, 6),
            (VocabTokenizer.Pad, VocabTokenizer.Unk, VocabTokenizer.Cls, VocabTokenizer.Sep, VocabTokenizer.Mask, VocabTokenizer.Eos, VocabTokenizer.SpecialCount));
        var tok = VocabTokenizer.FromTrainingIds([[10, 11]], 16);
        Assert.All(tok.BaseIds.Take(VocabTokenizer.SpecialCount), b => Assert.Equal(-1, b));
        Assert.Equal("[PAD][UNK][CLS][SEP][MASK][EOS]", tok.Decode([0, 1, 2, 3, 4, 5]));
    }

    [Fact]
    public void Keeps_the_most_frequent_ids_ties_broken_by_smaller_id()
    {
        // counts: 30 -> 4, 7 -> 2, 3 -> 2, 9 -> 1, 50 -> 1
        var tok = VocabTokenizer.FromTrainingIds([[30, 7, 3, 30, 9], [3, 30, 7, 30, 50]], VocabTokenizer.SpecialCount + 3);

        Assert.Equal([-1, -1, -1, -1, -1, -1, 30, 3, 7], tok.BaseIds);
        Assert.Equal(6, tok.Map(30));
        Assert.Equal(7, tok.Map(3));
        Assert.Equal(8, tok.Map(7));
        Assert.Equal(VocabTokenizer.Unk, tok.Map(9));
        Assert.Equal(VocabTokenizer.Unk, tok.Map(50));
        Assert.Equal(VocabTokenizer.Unk, tok.Map(1_000_000));
        Assert.Equal(3, tok.UsedIds);
    }

    [Fact]
    public void Unused_ids_stay_empty_when_the_corpus_has_few_distinct_tokens()
    {
        var tok = VocabTokenizer.FromTrainingIds([[5, 5, 6]], 100);
        Assert.Equal(100, tok.VocabSize);
        Assert.Equal(2, tok.UsedIds);
    }

    [Fact]
    public void Encode_and_decode_round_trip_kept_tokens()
    {
        var text = "the cat sat on the mat";
        var baseIds = VocabTokenizer.EncodeBase(text);
        var tok = VocabTokenizer.FromTrainingIds([baseIds], 64);
        var ids = tok.Encode(text);
        Assert.All(ids, id => Assert.True(id >= VocabTokenizer.SpecialCount));
        Assert.Equal(text, tok.Decode(ids));
        Assert.Equal("[CLS]the cat[UNK]", tok.Decode([VocabTokenizer.Cls, .. tok.Encode("the cat"), VocabTokenizer.Unk]));
    }
}
