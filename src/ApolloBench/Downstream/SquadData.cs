using System.Text.Json;
using ApolloBench.Core;

namespace ApolloBench.Downstream;

/// <summary>
/// SQuAD's JSON as distributed (Rajpurkar et al. 2016, 2018): <c>{"data": [{"title", "paragraphs": [{"context",
/// "qas": [{"id", "question", "answers": [{"text", "answer_start"}], "is_impossible"?}]}]}]}</c>.
/// Files: <c>train-v1.1.json</c>/<c>dev-v1.1.json</c> or <c>train-v2.0.json</c>/<c>dev-v2.0.json</c>, in
/// <c>--data-dir</c> itself or its <c>SQuAD/</c> folder. The dev file is the evaluation set. Errors name the
/// file and the line of the offending value. A v2.0 question with <c>"is_impossible": true</c> has no answers
/// (its <c>plausible_answers</c> are ignored).
/// </summary>
public static class SquadData
{
    public static (string Train, string Dev) FileNames(string task) => task switch
    {
        "squad1" => ("train-v1.1.json", "dev-v1.1.json"),
        "squad2" => ("train-v2.0.json", "dev-v2.0.json"),
        _ => throw new ArgumentException($"not a SQuAD task: {task}", nameof(task)),
    };

    public static TaskData<SquadExample> Load(string task, string dataDir)
    {
        if (!Directory.Exists(dataDir)) throw new UsageException($"{GlueData.Option}: {dataDir} does not exist");
        var (trainName, devName) = FileNames(task);
        string folder = File.Exists(Path.Combine(dataDir, "SQuAD", trainName)) || Directory.Exists(Path.Combine(dataDir, "SQuAD"))
            ? Path.Combine(dataDir, "SQuAD") : dataDir;
        foreach (var f in new[] { trainName, devName })
            if (!File.Exists(Path.Combine(folder, f)))
                throw new UsageException($"{GlueData.Option}: {Path.Combine(folder, f)} is missing (task {task} reads {trainName} and {devName} " +
                                         $"from {dataDir} or {Path.Combine(dataDir, "SQuAD")})");
        var train = ReadFile(Path.Combine(folder, trainName), out int misaligned);
        var dev = ReadFile(Path.Combine(folder, devName), out _);
        var notes = misaligned > 0 ? $"{misaligned} training answers whose text does not match the context at answer_start were not trained on" : "";
        return new TaskData<SquadExample>(train, [new EvalSet<SquadExample>("dev", dev)], Path.GetFullPath(folder), notes);
    }

    /// <summary>Every question of a SQuAD file. <paramref name="misaligned"/> counts answers whose text is not the
    /// context at their answer_start (kept for scoring; the span extractor does not train on them).</summary>
    public static List<SquadExample> ReadFile(string file, out int misaligned)
    {
        var root = JsonTree.Parse(file);
        var result = new List<SquadExample>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        misaligned = 0;
        foreach (var article in root.Object("the file").Property("data").Array("\"data\""))
        {
            foreach (var paragraph in article.Object("an article").Property("paragraphs").Array("\"paragraphs\""))
            {
                var p = paragraph.Object("a paragraph");
                var context = p.Property("context").String("\"context\"");
                foreach (var qaNode in p.Property("qas").Array("\"qas\""))
                {
                    var qa = qaNode.Object("a question");
                    var id = qa.Property("id").String("\"id\"");
                    if (!ids.Add(id)) throw qa.Error($"question id \"{id}\" appears twice");
                    var question = qa.Property("question").String("\"question\"");
                    bool impossible = qa.OptionalProperty("is_impossible") is { } imp && imp.Bool("\"is_impossible\"");
                    var answers = new List<SquadAnswer>();
                    if (!impossible)
                    {
                        foreach (var ansNode in qa.Property("answers").Array("\"answers\""))
                        {
                            var ans = ansNode.Object("an answer");
                            var text = ans.Property("text").String("\"text\"");
                            var startNode = ans.Property("answer_start");
                            int start = startNode.Int("\"answer_start\"");
                            if (start < 0 || start + text.Length > context.Length)
                                throw startNode.Error($"answer_start {start} with an answer of {text.Length} characters lies outside the context ({context.Length} characters)");
                            if (string.CompareOrdinal(context, start, text, 0, text.Length) != 0) misaligned++;
                            answers.Add(new SquadAnswer(text, start));
                        }
                        if (answers.Count == 0 && qa.OptionalProperty("is_impossible") is null)
                            throw qa.Error($"question \"{id}\" has no answers and is not marked \"is_impossible\"");
                    }
                    result.Add(new SquadExample(id, question, context, answers));
                }
            }
        }
        if (result.Count == 0) throw new UsageException($"{GlueData.Option}: {file} holds no questions");
        return result;
    }
}

/// <summary>
/// A JSON value that remembers the file and the 1-based line it starts on, so a loader can say where a
/// malformed value is. Built with <see cref="Utf8JsonReader"/>; a syntax error names its line too.
/// </summary>
public sealed class JsonTree
{
    readonly string file;
    JsonTree(string file, int line, JsonTokenType kind) { this.file = file; Line = line; Kind = kind; }

    public int Line { get; }
    public JsonTokenType Kind { get; }
    string? text;
    double number;
    List<JsonTree>? items;
    Dictionary<string, JsonTree>? props;

    public UsageException Error(string message) => new($"{GlueData.Option}: {file} line {Line}: {message}");

    public static JsonTree Parse(string file)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new UsageException($"{GlueData.Option}: cannot read {file} ({e.Message})"); }
        int offset = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        var span = bytes.AsSpan(offset);
        // Line starts, to turn a token's byte offset into a line number.
        var lineStarts = new List<int> { 0 };
        for (int i = 0; i < span.Length; i++) if (span[i] == (byte)'\n') lineStarts.Add(i + 1);
        var reader = new Utf8JsonReader(span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read()) throw new UsageException($"{GlueData.Option}: {file} line 1: empty file, expected JSON");
            var root = Read(ref reader, file, lineStarts);
            if (reader.Read()) throw new UsageException($"{GlueData.Option}: {file} line {LineOf(lineStarts, (int)reader.TokenStartIndex)}: text after the JSON value");
            return root;
        }
        catch (JsonException e)
        {
            throw new UsageException($"{GlueData.Option}: {file} line {(e.LineNumber ?? 0) + 1}: not valid JSON ({e.Message.Split('.')[0]})");
        }
    }

    static int LineOf(List<int> starts, int offset)
    {
        int i = starts.BinarySearch(offset);
        return (i >= 0 ? i : ~i - 1) + 1;
    }

    static JsonTree Read(ref Utf8JsonReader r, string file, List<int> lineStarts)
    {
        var node = new JsonTree(file, LineOf(lineStarts, (int)r.TokenStartIndex), r.TokenType);
        switch (r.TokenType)
        {
            case JsonTokenType.StartObject:
                node.props = new Dictionary<string, JsonTree>(StringComparer.Ordinal);
                while (r.Read() && r.TokenType != JsonTokenType.EndObject)
                {
                    var key = r.GetString()!;
                    r.Read();
                    node.props[key] = Read(ref r, file, lineStarts);
                }
                break;
            case JsonTokenType.StartArray:
                node.items = [];
                while (r.Read() && r.TokenType != JsonTokenType.EndArray) node.items.Add(Read(ref r, file, lineStarts));
                break;
            case JsonTokenType.String:
                node.text = r.GetString();
                break;
            case JsonTokenType.Number:
                node.number = r.GetDouble();
                break;
        }
        return node;
    }

    static string Describe(JsonTokenType k) => k switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => k.ToString(),
    };

    public JsonTree Object(string what) => Kind == JsonTokenType.StartObject ? this : throw Error($"expected {what} to be an object, found {Describe(Kind)}");

    public IReadOnlyList<JsonTree> Array(string what) => items ?? throw Error($"expected {what} to be an array, found {Describe(Kind)}");

    public string String(string what) => Kind == JsonTokenType.String ? text! : throw Error($"expected {what} to be a string, found {Describe(Kind)}");

    public bool Bool(string what) => Kind switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Error($"expected {what} to be true or false, found {Describe(Kind)}"),
    };

    public int Int(string what) => Kind == JsonTokenType.Number && number == Math.Floor(number) && Math.Abs(number) <= int.MaxValue
        ? (int)number : throw Error($"expected {what} to be an integer, found {(Kind == JsonTokenType.Number ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : Describe(Kind))}");

    public JsonTree Property(string name) => OptionalProperty(name) ?? throw Error($"missing field \"{name}\"");

    public JsonTree? OptionalProperty(string name)
    {
        if (props is null) throw Error($"expected an object with field \"{name}\", found {Describe(Kind)}");
        return props.GetValueOrDefault(name);
    }
}
