using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Data;

namespace ApolloBench.Training;

/// <summary>
/// The remapped vocabulary of a pre-training run, saved beside its weights as <c>vocab.json</c>
/// (<c>{"baseEncoding": "cl100k_base", "size": V, "baseIds": [...]}</c>, index = our id, value = cl100k id,
/// -1 for specials and unused ids). Fine-tuning must read text through the same ids the model was trained on;
/// with this file it never has to re-read and re-tokenize the pre-training corpus.
/// </summary>
public static class RunVocabulary
{
    public const string File = "vocab.json";

    public static void Save(string runDir, VocabTokenizer tokenizer)
    {
        Directory.CreateDirectory(runDir);
        var json = new JsonObject
        {
            ["baseEncoding"] = VocabTokenizer.BaseEncoding,
            ["size"] = tokenizer.VocabSize,
            ["baseIds"] = new JsonArray(tokenizer.BaseIds.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
        };
        RunFiles.Atomic(Path.Combine(runDir, File), path => System.IO.File.WriteAllText(path, json.ToJsonString()));
    }

    /// <summary>The run's vocabulary, or null when the run folder has no vocab.json (runs from before it existed).</summary>
    public static VocabTokenizer? TryLoad(string runDir)
    {
        var path = Path.Combine(runDir, File);
        if (!System.IO.File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(System.IO.File.ReadAllText(path))?.AsObject()
                       ?? throw new UsageException($"{path}: empty");
            var encoding = json["baseEncoding"]?.GetValue<string>();
            if (encoding != VocabTokenizer.BaseEncoding)
                throw new UsageException($"{path}: base encoding '{encoding}' is not {VocabTokenizer.BaseEncoding}");
            var ids = json["baseIds"]?.AsArray().Select(n => n!.GetValue<int>()).ToArray()
                      ?? throw new UsageException($"{path}: no \"baseIds\"");
            var size = json["size"]?.GetValue<int>();
            if (size != ids.Length) throw new UsageException($"{path}: \"size\" {size} but {ids.Length} ids");
            return new VocabTokenizer(ids);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new UsageException($"{path}: not a valid vocabulary file ({e.Message.ReplaceLineEndings(" ")})");
        }
    }
}
