using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using ApolloBench.Core;

namespace ApolloBench.Data;

public enum TokenCacheStatus
{
    /// <summary>No cache file: tokenized and written.</summary>
    Built,
    /// <summary>Read from the cache file.</summary>
    Loaded,
    /// <summary>The cache file was damaged (bad length, magic or checksum): tokenized again and rewritten.</summary>
    RebuiltCorrupt,
}

/// <summary>
/// A corpus split by document, tokenized with a <see cref="VocabTokenizer"/> fitted on the training
/// documents, and flattened: <see cref="Train"/> and <see cref="Valid"/> are the documents' ids
/// concatenated in corpus order with one [EOS] between consecutive documents.
/// Cached as <c>&lt;cacheDir&gt;/tokens/&lt;key&gt;.bin</c>, where key = SHA-256 of (format version,
/// base encoding, <see cref="ContentHash"/>, V, validFraction, split seed).
/// </summary>
public sealed class TokenizedCorpus
{
    /// <summary>Bump when the file layout or the tokenization rule changes: old files are then simply not found.</summary>
    public const int FormatVersion = 1;
    static readonly byte[] Magic = "ABTOKENS"u8.ToArray();
    static readonly byte[] EndMagic = "ABTOKEND"u8.ToArray();
    const int HeaderBytes = 8 + 4 * 4 + 8 * 2 + 32 + 4 * 2;
    const int TrailerBytes = 32 + 8;

    TokenizedCorpus(int[] train, int[] valid, VocabTokenizer tokenizer, double trainOov, double validOov,
        int trainDocs, int validDocs, string contentHash, string cacheKey, string cachePath, TokenCacheStatus status)
    {
        Train = train; Valid = valid; Tokenizer = tokenizer;
        TrainOovRate = trainOov; ValidOovRate = validOov;
        TrainDocuments = trainDocs; ValidDocuments = validDocs;
        ContentHash = contentHash; CacheKey = cacheKey; CachePath = cachePath; CacheStatus = status;
    }

    public int[] Train { get; }
    public int[] Valid { get; }
    public VocabTokenizer Tokenizer { get; }
    public int VocabSize => Tokenizer.VocabSize;
    /// <summary>Fraction of the training documents' tokens (the [EOS] separators not counted) that became [UNK].</summary>
    public double TrainOovRate { get; }
    /// <summary>The same for the validation documents (0 when there are none).</summary>
    public double ValidOovRate { get; }
    public int TrainDocuments { get; }
    public int ValidDocuments { get; }
    /// <summary>Lower-case hex SHA-256 of the documents (ids and texts, in order): names the corpus in run records.</summary>
    public string ContentHash { get; }
    /// <summary>Lower-case hex SHA-256 naming the cache file.</summary>
    public string CacheKey { get; }
    public string CachePath { get; }
    public TokenCacheStatus CacheStatus { get; }

    /// <summary>
    /// The corpus tokenized, from the cache file when it is there and whole. One process builds a missing file: it holds
    /// <c>locks/tokens-&lt;key&gt;.lock</c> (<see cref="FolderLock"/>) while it does, and another waits (told through
    /// <paramref name="log"/>) and then reads what the first wrote.
    /// </summary>
    public static TokenizedCorpus Load(IReadOnlyList<Document> docs, int vocabSize, double validFraction, long splitSeed, string cacheDir,
        Action<string>? log = null)
    {
        if (vocabSize <= VocabTokenizer.SpecialCount)
            throw new UsageException($"model.vocab: must be greater than {VocabTokenizer.SpecialCount} (the special tokens), got {vocabSize}");
        if (!(validFraction >= 0 && validFraction < 1))
            throw new UsageException($"{CorpusSplit.ValidFractionKey}: must be in [0, 1) (got {validFraction})");
        if (docs.Count == 0) throw new UsageException($"{Corpus.Option}: the corpus is empty");

        var contentHash = HashDocuments(docs);
        var keyText = $"apollobench-tokens|v{FormatVersion}|{VocabTokenizer.BaseEncoding}|{contentHash}|V={vocabSize}" +
                      $"|valid={BitConverter.DoubleToInt64Bits(validFraction):x16}|seed={splitSeed}";
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(keyText)));
        var path = Path.Combine(cacheDir, "tokens", key + ".bin");

        if (File.Exists(path) && TryRead(path, vocabSize, contentHash, key) is { } whole) return whole;
        using var held = FolderLock.Acquire(FolderLock.InCache(cacheDir, "tokens-" + key), $"tokenized corpus {path}", log);
        var status = TokenCacheStatus.Built;
        if (File.Exists(path))
        {
            var cached = TryRead(path, vocabSize, contentHash, key);
            if (cached != null) return cached;
            status = TokenCacheStatus.RebuiltCorrupt;
        }

        var split = CorpusSplit.ByDocument(docs, validFraction, splitSeed);
        var trainBase = EncodeAll(split.Train);
        var validBase = EncodeAll(split.Valid);
        var tok = VocabTokenizer.FromTrainingIds(trainBase, vocabSize);
        var (train, trainOov) = Flatten(trainBase, tok);
        var (valid, validOov) = Flatten(validBase, tok);
        var result = new TokenizedCorpus(train, valid, tok, trainOov, validOov, split.Train.Count, split.Valid.Count,
            contentHash, key, path, status);
        Write(result);
        return result;
    }

    /// <summary>SHA-256 over every document's id and text (UTF-8, length-prefixed), in order.</summary>
    public static string HashDocuments(IReadOnlyList<Document> docs)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> len = stackalloc byte[8];
        foreach (var d in docs)
        {
            foreach (var s in new[] { d.Id, d.Text })
            {
                var bytes = Encoding.UTF8.GetBytes(s);
                BinaryPrimitives.WriteInt64LittleEndian(len, bytes.Length);
                h.AppendData(len);
                h.AppendData(bytes);
            }
        }
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    /// <summary>cl100k ids per document; documents are encoded in parallel, results kept in document order.</summary>
    static int[][] EncodeAll(IReadOnlyList<Document> docs)
    {
        var result = new int[docs.Count][];
        Parallel.For(0, docs.Count, i => result[i] = VocabTokenizer.EncodeBase(docs[i].Text));
        return result;
    }

    static (int[] Ids, double OovRate) Flatten(int[][] docsBase, VocabTokenizer tok)
    {
        long total = 0;
        foreach (var d in docsBase) total += d.Length;
        long length = total + Math.Max(0, docsBase.Length - 1);
        if (length > Array.MaxLength) throw new UsageException($"{Corpus.Option}: the corpus has {length} tokens, more than one array can hold");
        var ids = new int[length];
        long unk = 0;
        int pos = 0;
        for (int d = 0; d < docsBase.Length; d++)
        {
            if (d > 0) ids[pos++] = VocabTokenizer.Eos;
            foreach (var b in docsBase[d])
            {
                int id = tok.Map(b);
                if (id == VocabTokenizer.Unk) unk++;
                ids[pos++] = id;
            }
        }
        return (ids, total == 0 ? 0 : (double)unk / total);
    }

    // ---- cache file ----------------------------------------------------------------------------------
    // "ABTOKENS", int32 version, int32 V, int32 trainDocs, int32 validDocs, double trainOov, double validOov,
    // 32-byte content hash, int32 nTrain, int32 nValid, int32[V] cl100k ids, int32[nTrain], int32[nValid],
    // 32-byte SHA-256 of everything before it, "ABTOKEND". All little-endian.

    static void Write(TokenizedCorpus c)
    {
        var v = c.VocabSize;
        long total = HeaderBytes + 4L * (v + c.Train.Length + c.Valid.Length) + TrailerBytes;
        var buf = new byte[total];
        var s = buf.AsSpan();
        Magic.CopyTo(s);
        int o = 8;
        BinaryPrimitives.WriteInt32LittleEndian(s[o..], FormatVersion); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(s[o..], v); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(s[o..], c.TrainDocuments); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(s[o..], c.ValidDocuments); o += 4;
        BinaryPrimitives.WriteDoubleLittleEndian(s[o..], c.TrainOovRate); o += 8;
        BinaryPrimitives.WriteDoubleLittleEndian(s[o..], c.ValidOovRate); o += 8;
        Convert.FromHexString(c.ContentHash).CopyTo(s[o..]); o += 32;
        BinaryPrimitives.WriteInt32LittleEndian(s[o..], c.Train.Length); o += 4;
        BinaryPrimitives.WriteInt32LittleEndian(s[o..], c.Valid.Length); o += 4;
        o = WriteInts(s, o, [.. c.Tokenizer.BaseIds]);
        o = WriteInts(s, o, c.Train);
        o = WriteInts(s, o, c.Valid);
        SHA256.HashData(s[..o], s[o..]); o += 32;
        EndMagic.CopyTo(s[o..]);

        Directory.CreateDirectory(Path.GetDirectoryName(c.CachePath)!);
        var tmp = $"{c.CachePath}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(tmp, buf);
            File.Move(tmp, c.CachePath, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    static int WriteInts(Span<byte> s, int o, int[] values)
    {
        var dst = s.Slice(o, values.Length * 4);
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(dst);
        else for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(dst[(i * 4)..], values[i]);
        return o + dst.Length;
    }

    static int[] ReadInts(ReadOnlySpan<byte> s, ref int o, int count)
    {
        var r = new int[count];
        var src = s.Slice(o, count * 4);
        if (BitConverter.IsLittleEndian) src.CopyTo(MemoryMarshal.AsBytes(r.AsSpan()));
        else for (int i = 0; i < count; i++) r[i] = BinaryPrimitives.ReadInt32LittleEndian(src[(i * 4)..]);
        o += count * 4;
        return r;
    }

    /// <summary>The cached corpus, or null when the file is damaged or does not match.</summary>
    static TokenizedCorpus? TryRead(string path, int vocabSize, string contentHash, string key)
    {
        byte[] buf;
        try { buf = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        ReadOnlySpan<byte> s = buf;
        if (s.Length < HeaderBytes + TrailerBytes || !s[..8].SequenceEqual(Magic) || !s[^8..].SequenceEqual(EndMagic)) return null;
        int o = 8;
        int version = BinaryPrimitives.ReadInt32LittleEndian(s[o..]); o += 4;
        int v = BinaryPrimitives.ReadInt32LittleEndian(s[o..]); o += 4;
        int trainDocs = BinaryPrimitives.ReadInt32LittleEndian(s[o..]); o += 4;
        int validDocs = BinaryPrimitives.ReadInt32LittleEndian(s[o..]); o += 4;
        double trainOov = BinaryPrimitives.ReadDoubleLittleEndian(s[o..]); o += 8;
        double validOov = BinaryPrimitives.ReadDoubleLittleEndian(s[o..]); o += 8;
        var hash = Convert.ToHexStringLower(s.Slice(o, 32)); o += 32;
        int nTrain = BinaryPrimitives.ReadInt32LittleEndian(s[o..]); o += 4;
        int nValid = BinaryPrimitives.ReadInt32LittleEndian(s[o..]); o += 4;
        if (version != FormatVersion || v != vocabSize || hash != contentHash || nTrain < 0 || nValid < 0) return null;
        if (s.Length != HeaderBytes + 4L * ((long)v + nTrain + nValid) + TrailerBytes) return null;
        int payload = s.Length - TrailerBytes;
        if (!SHA256.HashData(s[..payload]).AsSpan().SequenceEqual(s.Slice(payload, 32))) return null;

        var baseIds = ReadInts(s, ref o, v);
        var train = ReadInts(s, ref o, nTrain);
        var valid = ReadInts(s, ref o, nValid);
        foreach (var a in new[] { train, valid })
            foreach (var id in a)
                if ((uint)id >= (uint)v) return null;
        VocabTokenizer tok;
        try { tok = new VocabTokenizer(baseIds); }
        catch (ArgumentException) { return null; }
        return new TokenizedCorpus(train, valid, tok, trainOov, validOov, trainDocs, validDocs, contentHash, key, path, TokenCacheStatus.Loaded);
    }
}
