using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using ApolloBench.Core;

namespace ApolloBench.Data;

/// <summary>A corpus cut into training and validation documents. Both keep the corpus order.</summary>
public sealed record CorpusSplit(IReadOnlyList<Document> Train, IReadOnlyList<Document> Valid)
{
    public const string ValidFractionKey = "data.validFraction";

    /// <summary>
    /// Splits by document. Every document gets a rank key, the first 8 bytes of
    /// SHA-256(seed as 8 little-endian bytes ++ UTF-8 id); the <c>round(validFraction * n)</c> documents with
    /// the smallest keys (ties by id, ordinal) are validation, the rest training. This depends only on the
    /// ids and the seed (not on the corpus order, the runtime or the machine). With validFraction &gt; 0 and at
    /// least 2 documents there is at least 1 validation and at least 1 training document;
    /// validFraction = 0 puts everything in training.
    /// </summary>
    public static CorpusSplit ByDocument(IReadOnlyList<Document> docs, double validFraction, long seed)
    {
        if (!(validFraction >= 0 && validFraction < 1))
            throw new UsageException($"{ValidFractionKey}: must be in [0, 1) (got {validFraction})");
        int n = docs.Count;
        if (validFraction == 0 || n == 0) return new CorpusSplit(docs.ToList(), []);
        if (n < 2)
            throw new UsageException($"{Corpus.Option}: the corpus has only 1 document, so no validation document can be held out " +
                "(separate documents in a text file by two empty lines, or use a folder of .txt files)");

        int nValid = Math.Clamp((int)Math.Round(validFraction * n, MidpointRounding.AwayFromZero), 1, n - 1);
        var ranked = Enumerable.Range(0, n)
            .Select(i => (Index: i, Key: RankKey(docs[i].Id, seed)))
            .OrderBy(x => x.Key)
            .ThenBy(x => docs[x.Index].Id, StringComparer.Ordinal)
            .ThenBy(x => x.Index)
            .ToList();
        var isValid = new bool[n];
        for (int k = 0; k < nValid; k++) isValid[ranked[k].Index] = true;

        var train = new List<Document>(n - nValid);
        var valid = new List<Document>(nValid);
        for (int i = 0; i < n; i++) (isValid[i] ? valid : train).Add(docs[i]);
        return new CorpusSplit(train, valid);
    }

    internal static ulong RankKey(string id, long seed)
    {
        var idBytes = Encoding.UTF8.GetBytes(id);
        var buf = new byte[8 + idBytes.Length];
        BinaryPrimitives.WriteInt64LittleEndian(buf, seed);
        idBytes.CopyTo(buf, 8);
        return BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(buf));
    }
}
