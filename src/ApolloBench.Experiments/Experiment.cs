using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// A definition merged for one scale and validated as a whole: every name it uses exists, every
/// value is in range, so nothing downstream (computing, training, rendering) can fail on it.
/// Keyed objects keep the order of the file.
/// </summary>
/// <param name="Source">which file and layer set each key: every later problem with the definition is named through it.</param>
public sealed record Experiment(string Id, Provenance Source, Scale Scale, ExperimentDefinition Definition)
{
    /// <summary>The seed of the released code; seed i is <c>FirstSeed + i</c>.</summary>
    public const long DefaultFirstSeed = 42;

    public string Title => Definition.Title!;
    public string Reproduces => Definition.Reproduces!;
    public int Seeds => Definition.Seeds ?? 1;
    public IReadOnlyList<long> SeedValues => Enumerable.Range(0, Seeds).Select(i => (Definition.FirstSeed ?? DefaultFirstSeed) + i).ToArray();

    public IReadOnlyDictionary<string, RunDefinition> Runs => Definition.Runs ?? [];
    public IReadOnlyDictionary<string, SamplerDefinition> Samplers => Definition.Samplers ?? [];
    public IReadOnlyDictionary<string, MappingDefinition> Mappings => Definition.Mappings ?? [];
    public IReadOnlyDictionary<string, ShapeDefinition> Shapes => Definition.Shapes ?? [];
    public IReadOnlyDictionary<string, OutputDefinition> Outputs => Definition.Outputs ?? [];

    /// <summary>True when any output needs a trained model; such artifacts are reproduced by training runs.</summary>
    /// <summary>Whether the savings target is the smoothed training loss (the default, the paper's) rather than the held-out loss.</summary>
    public bool TargetsTrainingLoss => (Definition.Target?.Loss ?? "train") == "train";

    public bool NeedsTraining => Runs.Count > 0 || Definition.Probe is not null || Definition.Downstream is not null
                                 || Outputs.Values.Any(o => OutputTypes.Find(o.Type!) is { PureMath: false });

    /// <summary>The target depth L and the trained counts N of the sampler section.</summary>
    public (int Target, int[] Trained) Depth => (Definition.Depth!.Target!.Value, Csv.Ints(Definition.Depth.Trained!));

    /// <summary>The names an output shows: its <c>include</c> list, or every entry of its section.</summary>
    public IReadOnlyList<string> Included(OutputDefinition output, IEnumerable<string> all)
        => output.Include is { } include ? Csv.Names(include) : all.ToList();

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>The resolved definition (this scale's overlay and overrides applied) as JSON, keys in file order.</summary>
    public string DefinitionJson() => JsonSerializer.Serialize(Definition, Json);

    /// <summary>Identifies what was computed: the resolved definition and the scale. Stored with results for --resume.</summary>
    public string Fingerprint()
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Scale.Name + "\n" + DefinitionJson())))[..16];
}

/// <summary>Lists in definitions are comma-separated strings (never arrays; see ExperimentDefinition).</summary>
public static class Csv
{
    public static string[] Names(string csv) => csv.Split(',', StringSplitOptions.TrimEntries);

    public static int[] Ints(string csv) => Names(csv).Select(s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();

    public static double[] Doubles(string csv) => Names(csv).Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();

    public static bool TryInts(string csv, out int[] values)
    {
        var parts = Names(csv);
        values = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i])) return false;
        return true;
    }

    public static bool TryDoubles(string csv, out double[] values)
    {
        var parts = Names(csv);
        values = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !double.IsFinite(values[i])) return false;
        return true;
    }
}
