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
        return Directory.GetFiles(directory, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Order(NaturalOrder.Instance).ToList();
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
        return Parse(file, id, File.ReadAllText(file), scale, overrides ?? []);
    }

    /// <summary>Loads a definition from its text; <paramref name="file"/> is the name used in messages.</summary>
    public static Experiment Parse(string file, string id, string json, string scale, IReadOnlyList<string> overrides)
    {
        var resolvedScale = Scale.Parse(scale);
        if (!NamePattern().IsMatch(id))
            throw new UsageException($"{file}: the file name must be an id of lowercase letters, digits and '-' (got '{id}')");

        // 1. The raw JSON: well-formed, an object, no arrays or nulls, no duplicate keys; remember key order.
        var order = new KeyOrder();
        using (var doc = ParseJson(file, json))
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{file}: the definition must be a JSON object");
            CheckRaw(file, doc.RootElement, "", order);
        }

        // 2. Each layer against the schema, on its own, so a message can say which layer is wrong.
        var baseRoot = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
        var schema = new SchemaWalker(file);
        foreach (var child in baseRoot.GetChildren())
        {
            if (child.Key.Equals(ScalesKey, StringComparison.OrdinalIgnoreCase)) CheckScales(file, child, schema);
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

    static JsonDocument ParseJson(string file, string json)
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

    static void CheckRaw(string file, JsonElement element, string path, KeyOrder order)
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

    static void CheckScales(string file, IConfigurationSection scales, SchemaWalker schema)
    {
        var valid = string.Join(", ", Scale.All.Select(s => s.Name));
        if (!scales.GetChildren().Any())
            throw new UsageException($"{file}: {scales.Key}: expected an object of scale overlays ({valid})");
        foreach (var overlay in scales.GetChildren())
        {
            var path = $"{scales.Key}.{overlay.Key}";
            if (!Scale.All.Any(s => s.Name == overlay.Key))
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

    /// <summary>The order in which keys first appear in each object of the layers.</summary>
    sealed class KeyOrder
    {
        readonly Dictionary<string, List<string>> children = new(StringComparer.OrdinalIgnoreCase);

        public void Add(string parent, string name)
        {
            if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
            if (!list.Contains(name, StringComparer.OrdinalIgnoreCase)) list.Add(name);
        }

        /// <summary>Appends the keys of the overlay under <paramref name="prefix"/> as if they were at the root.</summary>
        public void AddOverlay(string prefix)
        {
            foreach (var (parent, names) in children.Where(kv => kv.Key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)
                                                                  || kv.Key.Equals(prefix.TrimEnd(':'), StringComparison.OrdinalIgnoreCase)).ToList())
            {
                var relative = parent.Length > prefix.Length ? parent[prefix.Length..] : "";
                foreach (var name in names) Add(relative, name);
            }
        }

        public void AddKey(string path)
        {
            var parts = path.Split(':');
            for (int i = 0; i < parts.Length; i++) Add(string.Join(':', parts[..i]), parts[i]);
        }

        public Dictionary<string, T>? Sort<T>(Dictionary<string, T>? items, string parent)
        {
            if (items is null) return null;
            var seq = children.TryGetValue(parent, out var list) ? list : [];
            int Rank(string key)
            {
                int i = seq.FindIndex(n => n.Equals(key, StringComparison.OrdinalIgnoreCase));
                return i < 0 ? int.MaxValue : i;
            }
            return items.OrderBy(kv => Rank(kv.Key)).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .ToDictionary(kv => kv.Key, kv => kv.Value);
        }
    }

    /// <summary>Checks one configuration layer against the schema types: known keys, objects where objects go, parsable values.</summary>
    sealed class SchemaWalker(string file)
    {
        UsageException Fail(string path, string message) => new($"{file}: {path}: {message}");

        public void CheckMember(IConfigurationSection section, Type owner, string path)
        {
            var property = Properties(owner).FirstOrDefault(p => p.Name.Equals(section.Key, StringComparison.OrdinalIgnoreCase));
            var here = path + section.Key;
            if (property is null)
                throw Fail(here, $"unknown key (valid: {string.Join(", ", Properties(owner).Select(p => CamelCase(p.Name)))})");
            CheckValue(section, property.PropertyType, here);
        }

        void CheckValue(IConfigurationSection section, Type type, string path)
        {
            var children = section.GetChildren().ToList();
            var leaf = Nullable.GetUnderlyingType(type) ?? type;
            if (LeafKind(leaf) is { } kind)
            {
                if (children.Count > 0) throw Fail(path, $"expected {kind}, found an object");
                if (section.Value is null) throw Fail(path, $"expected {kind}, found an empty object");
                if (!Parses(leaf, section.Value)) throw Fail(path, $"'{section.Value}' is not {kind}");
                return;
            }
            if (children.Count == 0)
                throw Fail(path, section.Value is { Length: > 0 } v ? $"expected an object, found '{v}'" : "expected an object, found an empty one");
            if (leaf.IsGenericType && leaf.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                var itemType = leaf.GetGenericArguments()[1];
                foreach (var child in children) CheckValue(child, itemType, $"{path}.{child.Key}");
                return;
            }
            foreach (var child in children) CheckMember(child, leaf, path + ".");
        }

        static PropertyInfo[] Properties(Type t) => t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.Name != "EqualityContract").ToArray();

        static string? LeafKind(Type t) =>
            t == typeof(string) ? "a string" :
            t == typeof(int) || t == typeof(long) ? "an integer" :
            t == typeof(double) ? "a number" :
            t == typeof(bool) ? "true or false" : null;

        static bool Parses(Type t, string value) =>
            t == typeof(string) ||
            (t == typeof(int) && int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _)) ||
            (t == typeof(long) && long.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _)) ||
            (t == typeof(double) && double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d)) ||
            (t == typeof(bool) && bool.TryParse(value, out _));
    }

    internal static string CamelCase(string name) => char.ToLowerInvariant(name[0]) + name[1..];

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
