using ApolloBench.Core;
using ApolloBench.Data;

namespace ApolloBench.Tests.Data;

public class TokenizedCorpusTests
{
    static List<Document> SmallCorpus() => Enumerable.Range(0, 12)
        .Select(i => new Document($"d{i:D2}", string.Join(" ", Enumerable.Range(0, 40 + i).Select(k => $"w{(k * 7 + i) % 23}"))))
        .ToList();

    [Fact]
    public void Oov_rates_are_computed_on_a_hand_made_example()
    {
        // With a 2-token vocabulary, training "a a a a b b c" = [a][ a][ a][ a][ b][ b][ c] keeps " a" (3) and " b" (2);
        // "a" and " c" (1 each) become [UNK]: 2/7. Validation "b b a d" = [b][ b][ a][ d]: "b" and " d" are [UNK]: 2/4.
        Assert.Equal(7, VocabTokenizer.EncodeBase("a a a a b b c").Length);
        Assert.Equal(4, VocabTokenizer.EncodeBase("b b a d").Length);
        var train = new Document("train-doc", "a a a a b b c");
        var valid = new Document("valid-doc", "b b a d");
        long seed = Enumerable.Range(0, 100).First(s => CorpusSplit.ByDocument([train, valid], 0.5, s).Valid[0] == valid);
        using var cache = new TempDir();

        var tc = TokenizedCorpus.Load([train, valid], VocabTokenizer.SpecialCount + 2, 0.5, seed, cache.Path);

        Assert.Equal(2.0 / 7, tc.TrainOovRate, 12);
        Assert.Equal(0.5, tc.ValidOovRate, 12);
        Assert.Equal((1, 1), (tc.TrainDocuments, tc.ValidDocuments));
        int a = tc.Tokenizer.Map(VocabTokenizer.EncodeBase(" a")[0]), b = tc.Tokenizer.Map(VocabTokenizer.EncodeBase(" b")[0]);
        Assert.Equal((6, 7), (a, b));
        const int U = VocabTokenizer.Unk;
        Assert.Equal([U, a, a, a, b, b, U], tc.Train);
        Assert.Equal([U, b, a, U], tc.Valid);
    }

    [Fact]
    public void Documents_are_joined_with_eos_between_them()
    {
        var docs = new List<Document> { new("x", "one two"), new("y", "three"), new("z", "four five six") };
        using var cache = new TempDir();
        var tc = TokenizedCorpus.Load(docs, 64, 0, 1, cache.Path);

        var expected = new List<int>();
        foreach (var d in docs)
        {
            if (expected.Count > 0) expected.Add(VocabTokenizer.Eos);
            expected.AddRange(tc.Tokenizer.Encode(d.Text));
        }
        Assert.Equal(expected, tc.Train);
        Assert.Empty(tc.Valid);
        Assert.Equal(0, tc.TrainOovRate);
        Assert.Equal(2, tc.Train.Count(i => i == VocabTokenizer.Eos));
    }

    [Fact]
    public void Cache_hit_returns_identical_arrays()
    {
        using var cache = new TempDir();
        var docs = SmallCorpus();

        var built = TokenizedCorpus.Load(docs, 20, 0.25, 3, cache.Path);
        var loaded = TokenizedCorpus.Load(SmallCorpus(), 20, 0.25, 3, cache.Path);

        Assert.Equal(TokenCacheStatus.Built, built.CacheStatus);
        Assert.Equal(TokenCacheStatus.Loaded, loaded.CacheStatus);
        Assert.Equal(built.Train, loaded.Train);
        Assert.Equal(built.Valid, loaded.Valid);
        Assert.Equal(built.Tokenizer.BaseIds, loaded.Tokenizer.BaseIds);
        Assert.Equal((built.TrainOovRate, built.ValidOovRate, built.TrainDocuments, built.ValidDocuments, built.ContentHash),
            (loaded.TrainOovRate, loaded.ValidOovRate, loaded.TrainDocuments, loaded.ValidDocuments, loaded.ContentHash));
        Assert.True(built.TrainOovRate > 0);
        Assert.Equal((9, 3), (built.TrainDocuments, built.ValidDocuments));
        Assert.Equal(Path.Combine(cache.Path, "tokens", built.CacheKey + ".bin"), built.CachePath);
        Assert.Single(Directory.GetFiles(Path.Combine(cache.Path, "tokens"))); // no temp files left behind
    }

    [Fact]
    public void Cache_key_changes_with_content_vocab_and_split()
    {
        using var cache = new TempDir();
        var docs = SmallCorpus();
        var baseKey = TokenizedCorpus.Load(docs, 20, 0.25, 3, cache.Path).CacheKey;
        var edited = docs.Select((d, i) => i == 5 ? d with { Text = d.Text + " w1" } : d).ToList();

        Assert.NotEqual(baseKey, TokenizedCorpus.Load(edited, 20, 0.25, 3, cache.Path).CacheKey);
        Assert.NotEqual(baseKey, TokenizedCorpus.Load(docs, 21, 0.25, 3, cache.Path).CacheKey);
        Assert.NotEqual(baseKey, TokenizedCorpus.Load(docs, 20, 0.2, 3, cache.Path).CacheKey);
        Assert.NotEqual(baseKey, TokenizedCorpus.Load(docs, 20, 0.25, 4, cache.Path).CacheKey);
        Assert.NotEqual(TokenizedCorpus.HashDocuments(docs), TokenizedCorpus.HashDocuments(edited));
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    [InlineData("garbage")]
    [InlineData("empty")]
    public void Corrupt_cache_is_detected_and_rebuilt(string damage)
    {
        using var cache = new TempDir();
        var docs = SmallCorpus();
        var built = TokenizedCorpus.Load(docs, 20, 0.25, 3, cache.Path);
        var bytes = File.ReadAllBytes(built.CachePath);
        switch (damage)
        {
            case "flip": bytes[bytes.Length / 2] ^= 0x01; break;
            case "truncate": bytes = bytes[..^13]; break;
            case "garbage": bytes = "not a token cache"u8.ToArray(); break;
            case "empty": bytes = []; break;
        }
        File.WriteAllBytes(built.CachePath, bytes);

        var rebuilt = TokenizedCorpus.Load(docs, 20, 0.25, 3, cache.Path);
        var loaded = TokenizedCorpus.Load(docs, 20, 0.25, 3, cache.Path);

        Assert.Equal(TokenCacheStatus.RebuiltCorrupt, rebuilt.CacheStatus);
        Assert.Equal(TokenCacheStatus.Loaded, loaded.CacheStatus);
        Assert.Equal(built.Train, rebuilt.Train);
        Assert.Equal(built.Valid, loaded.Valid);
    }

    [Fact]
    public void Too_small_vocabulary_is_a_usage_error()
    {
        using var cache = new TempDir();
        var e = Assert.Throws<UsageException>(() => TokenizedCorpus.Load(SmallCorpus(), VocabTokenizer.SpecialCount, 0.1, 1, cache.Path));
        Assert.StartsWith("model.vocab:", e.Message);
    }
}
