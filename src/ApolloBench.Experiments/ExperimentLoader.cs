using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ApolloBench.Core;
using ApolloBench.Training;
using Microsoft.Extensions.Configuration;

namespace ApolloBench.Experiments;

/// <summary>
/// Reads <c>experiments/&lt;id&gt;.json</c> into a validated <see cref="Experiment"/>. Layers, last wins: each shared
/// run set the definition includes (<c>experiments/shared/&lt;name&gt;.json</c>, in the order named), its base then its
/// <c>scales.&lt;scale&gt;</c> overlay; the definition's base (without <c>scales</c> and <c>include</c>), then its overlay;
/// then <c>--set key=value</c> overrides (Microsoft.Extensions.Configuration: JSON, in-memory and command-line
/// providers). So whatever the definition says, in its base or its overlay, wins over what it includes. Before anything
/// is bound, every file is checked on its own: no arrays, no nulls, no duplicate keys, every key known to the schema,
/// every value of the right type; every scale's overlay is checked, not only the chosen one. Then the merged definition
/// is bound with <c>ErrorOnUnknownConfiguration</c> and validated as a whole (<see cref="ExperimentValidator"/>). Every
/// problem is a <see cref="UsageException"/> of the form <c>FILE: KEY: what is wrong</c>, where FILE is the file that
/// set the value (a shared run set's own) and KEY says which layer (<c>scales.smoke.seeds</c>, <c>--set seeds</c>).
/// </summary>
public static partial class ExperimentLoader
{
    public const string DefaultDirectory = "experiments";

    /// <summary>The subfolder of the definitions folder that holds the shared run sets a definition may include.</summary>
    public const string SharedDirectory = "shared";

    const string ScalesKey = "scales", IncludeKey = "include";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    internal static partial Regex NamePattern();

    /// <summary>The files of the definitions folder that are not definitions: the scales and the scales' candidates.</summary>
    static readonly HashSet<string> NotDefinitions = [Scales.FileName, ScaleCandidates.FileName];

    /// <summary>Every definition id in <paramref name="directory"/> (the *.json file names), in natural order.</summary>
    public static IReadOnlyList<string> Ids(string directory)
    {
        if (!Directory.Exists(directory))
            throw new UsageException($"--experiments: folder '{directory}' not found");
        return Directory.GetFiles(directory, "*.json").Where(f => !NotDefinitions.Contains(Path.GetFileName(f)))
            .Select(f => Path.GetFileNameWithoutExtension(f)!).Order(NaturalOrder.Instance).ToList();
    }

    /// <summary>Loads and validates <c>directory/id.json</c> at <paramref name="scale"/> with <c>--set</c> overrides.</summary>
    public static Experiment Load(string directory, string id, string scale, IReadOnlyList<string>? overrides = null)
    {
        var file = Path.Combine(directory, id + ".json");
        if (!File.Exists(file) || NotDefinitions.Contains(id + ".json"))
        {
            var known = Directory.Exists(directory) ? string.Join(", ", Ids(directory)) : "none";
            throw new UsageException($"{file}: no such experiment (known: {known})");
        }
        return Parse(file, id, File.ReadAllText(file), scale, overrides ?? [], directory);
    }

    /// <summary>
    /// Loads a definition from its text; <paramref name="file"/> is the name used in messages, <paramref name="directory"/>
    /// the definitions folder: its scales.json and the shared run sets under <c>shared/</c>.
    /// </summary>
    public static Experiment Parse(string file, string id, string json, string scale, IReadOnlyList<string> overrides, string directory)
    {
        var scales = Scales.Load(directory);
        var resolvedScale = scales.Get(scale);
        if (!NamePattern().IsMatch(id))
            throw new UsageException($"{file}: the file name must be an id of lowercase letters, digits and '-' (got '{id}')");

        // 1-2. The definition and each shared run set it includes, read and checked against the schema on their own,
        // so a message can say which file and layer is wrong; then the --set overrides.
        var definition = DefinitionFile.Read(file, json, scales, shared: false);
        var files = Includes(definition, directory).Select(path => DefinitionFile.Read(path, File.ReadAllText(path), scales, shared: true))
            .Append(definition).ToList();
        var overrideArgs = ParseOverrides(overrides);
        var overrideRoot = new ConfigurationBuilder().AddCommandLine(overrideArgs).Build();
        var schema = new SchemaWalker(file);
        foreach (var child in overrideRoot.GetChildren()) schema.CheckMember(child, typeof(ExperimentDefinition), "--set ");

        // 3. Merge, last wins: each include's base and scale overlay, the definition's, the overrides; note which file
        // and layer set each key, and the order in which keys first appear.
        var layers = new ConfigurationBuilder();
        var source = new Provenance(file);
        var order = new KeyOrder();
        var overlay = $"{ScalesKey}:{resolvedScale.Name}:";
        foreach (var f in files)
        {
            var basePairs = f.Base().ToList();
            var overlayPairs = f.Overlay(resolvedScale.Name).ToList();
            layers.AddInMemoryCollection(basePairs).AddInMemoryCollection(overlayPairs);
            source.Add(basePairs, f.File, "");
            source.Add(overlayPairs, f.File, overlay.Replace(':', '.'));
            order.Merge(f.Order, "");
            order.Merge(f.Order, overlay);
        }
        var merged = layers.AddCommandLine(overrideArgs).Build();
        source.Add(overrideRoot.AsEnumerable(), file, "--set ");
        foreach (var kv in overrideRoot.AsEnumerable()) order.AddKey(kv.Key);

        // 4. Bind (unknown keys rejected again by the binder itself), restore file order, validate the whole.
        ExperimentDefinition bound;
        try
        {
            bound = merged.Get<ExperimentDefinition>(o => o.ErrorOnUnknownConfiguration = true) ?? new ExperimentDefinition();
        }
        catch (InvalidOperationException e)
        {
            throw new UsageException($"{file}: {e.Message.ReplaceLineEndings(" ")}");
        }
        return new ExperimentValidator(source).Validate(id, resolvedScale, Reorder(bound, order));
    }

    /// <summary>The files of the shared run sets a definition's <c>include</c> names, in its order.</summary>
    static List<string> Includes(DefinitionFile definition, string directory)
    {
        if (definition.Include is not { } csv) return [];
        var shared = Path.Combine(directory, SharedDirectory);
        List<string> known = Directory.Exists(shared) ? [.. Directory.GetFiles(shared, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Order()] : [];
        var paths = new List<string>();
        foreach (var name in Csv.Names(csv))
        {
            var path = Path.Combine(shared, name + ".json");
            if (!NamePattern().IsMatch(name) || !File.Exists(path))
                throw new UsageException($"{definition.File}: {IncludeKey}: no shared run set '{name}' in {shared} (known: {string.Join(", ", known)})");
            if (paths.Contains(path)) throw new UsageException($"{definition.File}: {IncludeKey}: '{name}' is named twice");
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>
    /// One file of a definition, the definition itself or a shared run set, read and checked on its own: raw JSON (no
    /// arrays, nulls or duplicate keys), every key against the schema, every scale overlay, not only the chosen one.
    /// Only a definition may <c>include</c>; a shared run set is included, never includes.
    /// </summary>
    sealed record DefinitionFile(string File, IConfigurationRoot Root, KeyOrder Order)
    {
        public static DefinitionFile Read(string file, string json, Scales scales, bool shared)
        {
            var order = new KeyOrder();
            using (var doc = JsonLayer.Parse(file, json))
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                    throw new UsageException($"{file}: {(shared ? "a shared run set" : "the definition")} must be a JSON object");
                JsonLayer.CheckRaw(file, doc.RootElement, "", order);
            }
            var root = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();
            var schema = new SchemaWalker(file);
            foreach (var child in root.GetChildren())
            {
                if (Is(child.Key, ScalesKey)) CheckScales(file, child, schema, scales);
                else if (Is(child.Key, IncludeKey) && shared)
                    throw new UsageException($"{file}: {child.Key}: a shared run set cannot include another (name them all in the definition)");
                else if (Is(child.Key, IncludeKey) && child.Value is null)
                    throw new UsageException($"{file}: {child.Key}: expected a string, the shared run sets by name, comma-separated");
                else if (!Is(child.Key, IncludeKey)) schema.CheckMember(child, typeof(ExperimentDefinition), "");
            }
            return new DefinitionFile(file, root, order);
        }

        public string? Include => Root[IncludeKey];

        /// <summary>The file without its <c>scales</c> and <c>include</c>.</summary>
        public IEnumerable<KeyValuePair<string, string?>> Base()
            => Root.AsEnumerable().Where(kv => !Under(kv.Key, ScalesKey) && !Under(kv.Key, IncludeKey));

        /// <summary>The file's overlay for <paramref name="scale"/>, as root keys.</summary>
        public IEnumerable<KeyValuePair<string, string?>> Overlay(string scale)
            => Root.GetSection($"{ScalesKey}:{scale}").AsEnumerable(makePathsRelative: true).Where(kv => kv.Key.Length > 0);

        static bool Is(string key, string name) => key.Equals(name, StringComparison.OrdinalIgnoreCase);

        static bool Under(string key, string name) => Is(key, name) || key.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase);
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
