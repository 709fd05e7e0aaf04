using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace ApolloBench.Reports;

/// <summary>Where and how a report's numbers were produced; every report prints it beside the paper's numbers.</summary>
public sealed record ReportContext
{
    /// <summary>smoke, cpu, gpu or paper. A reduced scale's numbers are never the paper's.</summary>
    public required string Scale { get; init; }

    /// <summary>What computed the numbers, e.g. "cpu" or "cpu (exact computation, no training)".</summary>
    public required string Device { get; init; }

    /// <summary>The seeds, e.g. "42" or "42, 43, 44".</summary>
    public required string Seeds { get; init; }

    /// <summary>The git commit of the code, with "+dirty" when the working tree (outside reports/) had changes.</summary>
    public required string Commit { get; init; }

    public required string Machine { get; init; }

    /// <summary>When the numbers were computed (ISO 8601, UTC). Not printed in the markdown, so re-renders are stable.</summary>
    public required string Created { get; init; }
}

/// <summary>The exact depth distribution of one sampler for one N, and the check against draws.</summary>
public sealed record SamplerResult(
    string Key, string Label, string Sampler, double? K, int Trained, int Target,
    double[] Probabilities, double MeanDepth, EmpiricalCheck? Empirical);

/// <summary>
/// Frequencies of <see cref="Draws"/> draws (pooled over seeds) and the largest deviation from the exact
/// probability in standard errors <c>sqrt(p(1-p)/draws)</c>; a depth of probability 0 or 1 must be drawn
/// never or always (otherwise the deviation is infinite).
/// </summary>
public sealed record EmpiricalCheck(long Draws, double[] Frequencies, double MeanDepth, double MaxStandardErrors)
{
    /// <summary>The bar the suite's sampler tests hold draws to.</summary>
    public const double PassBelow = 5;

    public bool Passes => MaxStandardErrors < PassBelow;
}

/// <summary>A layer mapping: <c>Map[i]</c> is the weight (0-based) that layer <c>i</c> runs.</summary>
public sealed record MappingResult(string Key, string Label, string Kind, int From, int To, int[] Map);

/// <summary>A model shape resolved at the report's scale.</summary>
public sealed record ShapeResult(string Key, string Label, string Model, int Layers, int Hidden, int Heads, int Vocab, int SeqLen);

/// <summary>
/// Everything a report is rendered from, stored as results.json next to it: the context, the resolved
/// definition (with the paper's numbers) and the computed numbers. <c>report</c> re-renders from this
/// file alone and never recomputes or trains.
/// </summary>
public sealed record ArtifactResults
{
    public const string FileName = "results.json";
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;
    public required string Id { get; init; }

    /// <summary>The definition's fingerprint at this scale (<see cref="Experiments.Experiment.Fingerprint"/>), for --resume.</summary>
    public required string Fingerprint { get; init; }

    public required ReportContext Context { get; init; }

    /// <summary>The resolved definition (scale overlay and overrides applied).</summary>
    public required JsonObject Definition { get; init; }

    public List<SamplerResult> Samplers { get; init; } = [];
    public List<MappingResult> Mappings { get; init; } = [];
    public List<ShapeResult> Shapes { get; init; } = [];

    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static ArtifactResults FromJson(string json) =>
        JsonSerializer.Deserialize<ArtifactResults>(json, Json) ?? throw new JsonException("results.json is empty");
}
