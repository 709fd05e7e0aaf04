using System.Globalization;
using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Training;

namespace ApolloBench.Runs;

/// <summary>
/// Options a method may read; each method takes what applies to it. Strings are as typed on the command line; null means
/// the documented default. The record enters every run's key (<see cref="RunSpec.Canonical"/>), so an option added for a
/// new method is a nullable property, null meaning its default, marked
/// <c>[JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]</c>: left unset it adds nothing to a key, and every
/// existing run and committed record keeps its own (RunKeyTests fails otherwise, saying so).
/// </summary>
public sealed record MethodOptions
{
    // Apollo (and its ablations: --mapping interpolate|stack is Apollo-I|-S; --sampler; --moments).
    public string Sampler { get; init; } = "lvps";
    public double? SamplerK { get; init; }
    public string Stages { get; init; } = "1,3,6,12";
    public string? StageEnds { get; init; } = "0.05,0.10,0.25,1.0";
    public string Mapping { get; init; } = "interpolate";
    public string Moments { get; init; } = "released";
    // StackBERT: ends of the L/4 and L/2 stages as fractions of the budget.
    public string StackBertStages { get; init; } = "0.125,0.30";
    // bert2BERT.
    public string WidthInit { get; init; } = "aki";
    public string TwoStage { get; init; } = "off";
    // LiGO.
    public string LigoSteps { get; init; } = "100";
    public string? LigoLr { get; init; }
    public string? LigoWarmup { get; init; }
    // The small model of bert2BERT and LiGO: depth (default: the target's) and its own step budget (default: the run's).
    public string? SmallLayers { get; init; }
    public string? SmallSteps { get; init; }

    /// <summary><c>--small-layers</c> as a number, or null for the default.</summary>
    public int? SmallLayersValue => SmallLayers is null ? null
        : int.TryParse(SmallLayers, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n : throw new UsageException($"--small-layers: must be an integer >= 1 (got '{SmallLayers}')");

    /// <summary><c>--small-steps</c> as a number, or <paramref name="runSteps"/> by default.</summary>
    public long SmallStepsValue(long runSteps) => SmallSteps is null ? runSteps
        : long.TryParse(SmallSteps, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n : throw new UsageException($"--small-steps: must be an integer >= 1 (got '{SmallSteps}')");
}

/// <summary>
/// Every growth method by name, in one plain table. A new method is one file in baselines/ and one line here.
/// Methods that start from a trained small model (bert2BERT, LiGO) get it from the <see cref="ISmallModelSource"/>
/// passed to <see cref="Create"/>: the CLI's cached dependency run, or whatever a test supplies.
/// </summary>
public static class MethodRegistry
{
    static readonly Dictionary<string, Func<MethodOptions, int, ISmallModelSource?, GrowthMethod>> Factories = new()
    {
        ["scratch"] = (_, _, _) => new Scratch(),
        ["apollo"] = (o, layers, _) => new Apollo(
            StageSchedule.Parse(o.Stages, o.StageEnds, layers),
            LayerMapping.Parse(o.Mapping),
            DepthSampler.Create(o.Sampler, o.SamplerK),
            ParseMoments(o.Moments)),
        ["stackbert"] = (o, layers, _) => Validated(new StackBert(StackBert.ParseStages(o.StackBertStages)), m => m.ScheduleFor(layers)),
        ["bert2bert"] = (o, _, small) => new Bert2Bert(Bert2Bert.ParseWidthInit(o.WidthInit), Bert2Bert.ParseTwoStage(o.TwoStage), o.SmallLayersValue, small),
        ["ligo"] = (o, _, small) => new Ligo(Ligo.ParseSteps(o.LigoSteps), Ligo.ParseLr(o.LigoLr), o.LigoWarmup is null ? null : Ligo.ParseWarmup(o.LigoWarmup), o.SmallLayersValue, small),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>Builds and validates a method for a model of <paramref name="layers"/> layers; bad options throw <see cref="UsageException"/>.</summary>
    public static GrowthMethod Create(string name, MethodOptions options, int layers, ISmallModelSource? smallModels = null)
    {
        if (!Factories.TryGetValue(name.ToLowerInvariant(), out var factory))
            throw new UsageException($"--method: unknown method '{name}' (valid: {string.Join(", ", Names)})");
        return factory(options, layers, smallModels);
    }

    static T Validated<T>(T method, Action<T> check)
    {
        check(method);
        return method;
    }

    static MomentPolicy ParseMoments(string value) => value.ToLowerInvariant() switch
    {
        "released" => MomentPolicy.Released,
        "copy" => MomentPolicy.Copy,
        _ => throw new UsageException($"--moments: unknown policy '{value}' (valid: released, copy)"),
    };
}
