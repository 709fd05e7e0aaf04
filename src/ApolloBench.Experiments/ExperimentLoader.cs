using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ApolloBench.Core;
using ApolloBench.Training;
using Microsoft.Extensions.Configuration;

namespace ApolloBench.Experiments;

/// <summary>
/// Reads <c>experiments/&lt;id&gt;.json</c> into a validated <see cref="Experiment"/>. Layers, last wins:
/// the base file (without its <c>scales</c> object), the file's <c>scales.&lt;scale&gt;</c> overlay, then
/// <c>--set key=value</c> overrides (Microsoft.Extensions.Configuration: JSON, in-memory and
/// command-line providers). Before anything is bound, every layer is checked on its own: no arrays,
/// no nulls, no duplicate keys, every key known to the schema, every value of the right type; every
/// scale's overlay is checked, not only the chosen one. Then the merged definition is bound with
/// <c>ErrorOnUnknownConfiguration</c> and validated as a whole (<see cref="ExperimentValidator"/>).
/// Every problem is a <see cref="UsageException"/> of the form <c>FILE: KEY: what is wrong</c>, where
/// KEY says which layer set the value (<c>scales.smoke.seeds</c>, <c>--set seeds</c>).
/// </summary>
public static partial class ExperimentLoader
{
    public const string DefaultDirectory = "experiments";
    const string ScalesKey = "scales";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    internal static partial Regex NamePattern();

    /// <summary>Every definition id in <paramref name="directory"/> (the *.json file names), in natural order.</summary>
    public static IReadOnlyList<string> Ids(string directory)
    {
        if (!Directory.Exists(directory))
            throw new UsageException($"--experiments: folder '{directory}' not found");
        return Directory.GetFiles(directory, "*.json").Where(f => Path.GetFileName(f) != Scales.FileName)
            .Select(f => Path.GetFileNameWithoutExtension(f)!).Order(NaturalOrder.Instance).ToList();
    }

    /// <summary>Loads and validates <c>directory/id.json</c> at <paramref name="scale"/> with <c>--set</c> overrides.</summary>
    public static Experiment Load(string directory, string id, string scale, IReadOnlyList<string>? overrides = null)
    {
        var file = Path.Combine(directory, id + ".json");
        if (!File.Exists(file))
        {
            var known = Directory.Exists(directory) ? string.Join(", ", Ids(directory)) : "none";
            throw new UsageException($"{file}: no such experiment (known: {known})");
        }
        return Parse(file, id, File.ReadAllText(file), scale, overrides ?? [], directory);
    }

    /// <summary>
    /// Loads a definition from its text; <paramref name="file"/> is the name used in messages, <paramref name="directory"/>
    /// the definitions folder whose scales.json it is resolved with.
    /// </summary>
    public static Experiment Parse(string file, string id, string json, string scale, IReadOnlyList<string> overrides, string directory)
    {
        var scales = Scales.Load(directory);
        var resolvedScale = scales.Get(scale);
        if (!NamePattern().IsMatch(id))
            throw new UsageException($"{file}: the file name must be an id of lowercase letters, digits and '-' (got '{id}')");

        // 1. The raw JSON: well-formed, an object, no arrays or nulls, no duplicate keys; remember key order.
        var order = new KeyOrder();
        using (var doc = JsonLayer.Parse(file, json))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{file}: the definition must be a JSON object");
            JsonLayer.CheckRaw(file, doc.RootElement, "", order);
        }

        // 2. Each layer against the schema, on its own, so a message can say which layer is wrong.
        var baseRoot = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var schema = new SchemaWalker(file);
        foreach (var child in baseRoot.GetChildren())
        {
            if (child.Key.Equals(ScalesKey, StringComparison.OrdinalIgnoreCase)) CheckScales(file, child, schema, scales);
            else schema.CheckMember(child, typeof(ExperimentDefinition), "");
        }
        var overrideArgs = ParseOverrides(overrides);
        var overrideRoot = new ConfigurationBuilder().AddCommandLine(overrideArgs).Build();
        foreach (var child in overrideRoot.GetChildren()) schema.CheckMember(child, typeof(ExperimentDefinition), "--set ");

        // 3. Merge: base, the chosen scale's overlay, the overrides; note which layer set each key.
        var overlay = baseRoot.GetSection($"{ScalesKey}:{resolvedScale.Name}");
        var basePairs = baseRoot.AsEnumerable()
            .Where(kv => !kv.Key.Equals(ScalesKey, StringComparison.OrdinalIgnoreCase)
                         && !kv.Key.StartsWith(ScalesKey + ":", StringComparison.OrdinalIgnoreCase));
        var overlayPairs = overlay.AsEnumerable(makePathsRelative: true).Where(kv => kv.Key.Length > 0).ToList();
        var merged = new ConfigurationBuilder()
            .AddInMemoryCollection(basePairs)
            .AddInMemoryCollection(overlayPairs)
            .AddCommandLine(overrideArgs)
            .Build();
        var provenance = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var kv in overlayPairs.Where(kv => kv.Value is not null)) provenance[kv.Key] = $"{ScalesKey}.{resolvedScale.Name}.";
        foreach (var kv in overrideRoot.AsEnumerable().Where(kv => kv.Value is not null)) provenance[kv.Key] = "--set ";

        // 4. Bind (unknown keys rejected again by the binder itself), restore file order, validate the whole.
        ExperimentDefinition definition;
        try
        {
            definition = merged.Get<ExperimentDefinition>(o => o.ErrorOnUnknownConfiguration = true) ?? new ExperimentDefinition();
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"{file}: {e.Message.ReplaceLineEndings(" ")}");
        }
        order.AddOverlay($"{ScalesKey}:{resolvedScale.Name}:");
        foreach (var kv in overrideRoot.AsEnumerable()) order.AddKey(kv.Key);
        definition = Reorder(definition, order);
        return new ExperimentValidator(file, provenance).Validate(id, resolvedScale, definition);
    }

    static void CheckScales(string file, IConfigurationSection overlays, SchemaWalker schema, Scales scales)
    {
        var valid = string.Join(", ", scales.Names);
        if (!overlays.GetChildren().Any())
            throw new UsageException($"{file}: {overlays.Key}: expected an object of scale overlays ({valid})");
        foreach (var overlay in overlays.GetChildren())
        {
            var path = $"{overlays.Key}.{overlay.Key}";
            if (!scales.Names.Contains(overlay.Key))
                throw new UsageException($"{file}: {path}: unknown scale '{overlay.Key}' (valid: {valid})");
            if (!overlay.GetChildren().Any())
                throw new UsageException($"{file}: {path}: expected an object (an overlay of this definition's keys)");
            foreach (var child in overlay.GetChildren()) schema.CheckMember(child, typeof(ExperimentDefinition), path + ".");
        }
    }

    /// <summary><c>runs.lvps.seeds=3</c> (dots or colons) to the command-line provider's <c>runs:lvps:seeds=3</c>.</summary>
    static string[] ParseOverrides(IReadOnlyList<string> overrides) => overrides.Select(o =>
    {
        int eq = o.IndexOf('=');
        if (eq <= 0 || o[..eq].Trim().Length == 0)
            throw new UsageException($"--set: '{o}' must look like key=value, e.g. runs.lvps.options.sampler=es");
        var key = o[..eq].Trim().Replace('.', ':');
        if (key.Split(':').Any(part => part.Length == 0))
            throw new UsageException($"--set: '{o}' has an empty key segment");
        return $"{key}={o[(eq + 1)..]}";
    }).ToArray();

    /// <summary>The binder fills dictionaries in sorted key order; put every keyed object back in file order.</summary>
    static ExperimentDefinition Reorder(ExperimentDefinition d, KeyOrder order) => d with
    {
        Runs = order.Sort(d.Runs, "runs"),
        Samplers = order.Sort(d.Samplers, "samplers"),
        Mappings = order.Sort(d.Mappings, "mappings"),
        Shapes = order.Sort(d.Shapes, "shapes"),
        Outputs = order.Sort(d.Outputs, "outputs"),
        Probe = d.Probe is null ? null : d.Probe with { Rows = order.Sort(d.Probe.Rows, "probe:rows") },
        Downstream = d.Downstream is null ? null : d.Downstream with { Tasks = order.Sort(d.Downstream.Tasks, "downstream:tasks") },
    };

    /// <summary>table1 &lt; table2 &lt; table10; fig6a &lt; fig6b.</summary>
    sealed class NaturalOrder : IComparer<string>
    {
        public static readonly NaturalOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            var a = Regex.Split(x ?? "", "([0-9]+)");
            var b = Regex.Split(y ?? "", "([0-9]+)");
            for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            {
                int c = i % 2 == 1 && long.TryParse(a[i], out var na) && long.TryParse(b[i], out var nb)
                    ? na.CompareTo(nb)
                    : string.CompareOrdinal(a[i], b[i]);
                if (c != 0) return c;
            }
            return a.Length.CompareTo(b.Length);
        }
    }
}
