using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Training;

namespace ApolloBench.Baselines;

/// <summary>Options a method may read; each method takes what applies to it. Strings are as typed on the command line.</summary>
public sealed record MethodOptions
{
    public string Sampler { get; init; } = "lvps";
    public double? SamplerK { get; init; }
    public string Stages { get; init; } = "1,3,6,12";
    public string? StageEnds { get; init; } = "0.05,0.10,0.25,1.0";
    public string Mapping { get; init; } = "interpolate";
    public string Moments { get; init; } = "released";
}

/// <summary>
/// Every growth method by name, in one plain table. A new method is one file in baselines/ and one line here.
/// </summary>
public static class MethodRegistry
{
    static readonly Dictionary<string, Func<MethodOptions, int, GrowthMethod>> Factories = new()
    {
        ["scratch"] = (_, _) => new Scratch(),
        ["apollo"] = (o, layers) => new Apollo(
            StageSchedule.Parse(o.Stages, o.StageEnds, layers),
            LayerMapping.Parse(o.Mapping),
            DepthSampler.Create(o.Sampler, o.SamplerK),
            ParseMoments(o.Moments)),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>Builds and validates a method for a model of <paramref name="layers"/> layers; bad options throw <see cref="UsageException"/>.</summary>
    public static GrowthMethod Create(string name, MethodOptions options, int layers)
    {
        if (!Factories.TryGetValue(name.ToLowerInvariant(), out var factory))
            throw new UsageException($"--method: unknown method '{name}' (valid: {string.Join(", ", Names)})");
        return factory(options, layers);
    }

    static MomentPolicy ParseMoments(string value) => value.ToLowerInvariant() switch
    {
        "released" => MomentPolicy.Released,
        "copy" => MomentPolicy.Copy,
        _ => throw new UsageException($"--moments: unknown policy '{value}' (valid: released, copy)"),
    };
}
