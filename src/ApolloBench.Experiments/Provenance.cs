using ApolloBench.Core;

namespace ApolloBench.Experiments;

/// <summary>
/// Which file and layer set each key of a merged definition (the definition itself, a shared run set it includes, a
/// scale overlay of either, <c>--set</c>), so that every problem is named where it can be fixed:
/// <c>experiments/shared/bert-baselines.json: scales.cpu.runs.ligo.options.operatorSteps: ...</c>.
/// </summary>
public sealed class Provenance(string file)
{
    readonly Dictionary<string, (string File, string Layer)> keys = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The definition's own file.</summary>
    public string File { get; } = file;

    /// <summary>
    /// Notes the configuration keys (<c>runs:lvps:options:sampler</c>) one layer of <paramref name="file"/> sets;
    /// <paramref name="layer"/> is how a message names it (<c>""</c>, <c>"scales.cpu."</c>, <c>"--set "</c>). A value is
    /// the last layer's that set it; an object is the first layer's that introduced it.
    /// </summary>
    public void Add(IEnumerable<KeyValuePair<string, string?>> pairs, string file, string layer)
    {
        foreach (var (key, value) in pairs)
        {
            if (value is null) continue;
            keys[key] = (file, layer);
            for (int colon = key.LastIndexOf(':'); colon > 0; colon = key.LastIndexOf(':', colon - 1))
                keys.TryAdd(key[..colon], (file, layer));
        }
    }

    /// <summary><c>FILE: LAYERpath</c> for a dotted key path: the layer that set it, or that introduced its nearest enclosing object.</summary>
    public string Where(string path)
    {
        for (var key = path.Replace('.', ':'); key.Length > 0; key = key.Contains(':') ? key[..key.LastIndexOf(':')] : "")
            if (keys.TryGetValue(key, out var source)) return $"{source.File}: {source.Layer}{path}";
        return $"{File}: {path}";
    }

    public UsageException Fail(string path, string message) => new($"{Where(path)}: {message}");
}
