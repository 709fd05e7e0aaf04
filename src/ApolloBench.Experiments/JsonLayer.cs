using System.Text.Json;
using ApolloBench.Core;

namespace ApolloBench.Experiments;

/// <summary>
/// One JSON configuration file (a definition, a shared run set, scales.json) read and checked on its own, before
/// anything is merged: well-formed, an object, no arrays, no nulls, no duplicate keys, no ':' or '.' in a key, and
/// the order in which the keys of every object appear. Problems are <c>FILE: KEY: what is wrong</c>.
/// </summary>
static class JsonLayer
{
    public static JsonDocument Parse(string file, string json)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            var reason = e.Message.Split(" LineNumber:")[0].Trim();
            throw new UsageException($"{file}: invalid JSON at line {e.LineNumber + 1}, column {e.BytePositionInLine + 1}: {reason}");
        }
    }

    public static void CheckRaw(string file, JsonElement element, string path, KeyOrder order)
    {
        string Where(string p) => p.Length == 0 ? file : $"{file}: {p}";
        switch (element.ValueKind)
        {
            case JsonValueKind.Array:
                throw new UsageException($"{Where(path)}: arrays are not allowed (configuration layers merge them by index); use an object keyed by name, or a comma-separated string for a list of numbers");
            case JsonValueKind.Null:
                throw new UsageException($"{Where(path)}: null is not allowed; leave the key out instead");
            case JsonValueKind.Object:
                var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                foreach (var property in element.EnumerateObject())
                {
                    var name = property.Name;
                    var childPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (name.Trim().Length == 0 || name.Contains(':') || name.Contains('.'))
                        throw new UsageException($"{Where(childPath)}: a key may not be empty or contain ':' or '.'");
                    if (!seen.Add(name))
                        throw new UsageException($"{Where(childPath)}: duplicate key (keys are case-insensitive)");
                    order.Add(path.Replace('.', ':'), name);
                    CheckRaw(file, property.Value, childPath, order);
                }
                break;
        }
    }

    public static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}
