using ApolloBench.Core;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Baselines;

/// <summary>
/// A trained small model handed to a method that grows from one (bert2BERT, LiGO), with what it cost to train.
/// The receiver owns <see cref="Model"/> (a fresh instance per request).
/// </summary>
/// <param name="FromCache">true when this process did not train it (it came from an earlier run's cache entry).</param>
public sealed record SmallModel(LanguageModel Model, double Flops, double WallSeconds, long Steps, string Key, bool FromCache)
{
    /// <summary>
    /// The small model of bert2BERT and LiGO (paper: BERT-Small / GPT-Small, 12 x 512, 8 heads, for a 12 x 768,
    /// 12-head target): the head dimension is kept and the head count scaled by 8/12 (rounded half away from zero,
    /// at least 1), so hidden = heads x head dim. At paper scale that is exactly 512; at reduced scale it is the
    /// nearest width made of whole heads (cpu: 4 heads of 32 -> 3 heads, 96; smoke: 2 heads of 16 -> 1 head, 16).
    /// Depth: <paramref name="layers"/> or, by default, the target's (the paper's small models have 12 layers).
    /// </summary>
    public static ModelConfig ConfigFor(ModelConfig target, int? layers = null)
    {
        int heads = Math.Max(1, (int)Math.Round(target.Heads * 8.0 / 12.0, MidpointRounding.AwayFromZero));
        int depth = layers ?? target.Layers;
        if (depth < 1 || depth > target.Layers)
            throw new UsageException($"--small-layers: must lie in [1, {target.Layers}] (got {depth})");
        return target with { Hidden = heads * target.HeadDim, Heads = heads, Layers = depth };
    }
}

/// <summary>Where methods get their small model: the cached dependency run (ApolloBench.Runs.SmallModelDependency), anything at all in tests.</summary>
public interface ISmallModelSource
{
    SmallModel Get(ModelConfig config);
}

/// <summary>A method that starts from a trained small model; says which one so a harness can prepare it before the run.</summary>
public interface IUsesSmallModel
{
    ModelConfig SmallConfigFor(ModelConfig target);
}

/// <summary>A source from a function (tests: a tiny untrained or briefly trained model, no corpus).</summary>
public sealed class DelegateSmallModelSource(Func<ModelConfig, SmallModel> get) : ISmallModelSource
{
    public SmallModel Get(ModelConfig config) => get(config);
}

/// <summary>What bert2BERT and LiGO do first: take the small model, charge its cost beside the run, and train from it.</summary>
public static class SmallModelStart
{
    /// <summary>
    /// Gets the small model for <paramref name="target"/>, charges its training as a ledger line not counted in the
    /// run, and makes it the session's model, so the trainer's growth probe at step 0 measures the small model
    /// before and the grown model after.
    /// </summary>
    public static SmallModel Adopt(TrainingSession session, ISmallModelSource? source, ModelConfig smallConfig, string method)
    {
        if (source is null) throw new InvalidOperationException($"{method} needs a small-model source (pass one to MethodRegistry.Create)");
        var small = source.Get(smallConfig);
        if (small.Model.Config != smallConfig)
            throw new InvalidOperationException($"the small-model source returned {small.Model.Config}, {method} asked for {smallConfig}");
        session.ChargeExtra($"small model {smallConfig.Layers}x{smallConfig.Hidden} ({small.Steps} steps, dependency run {small.Key[..12]}, {(small.FromCache ? "cached" : "trained now")})",
            small.Flops, small.WallSeconds, countedInRun: false);
        session.ReplaceModel(small.Model);
        return small;
    }

    /// <summary>The small model's description for a method's options in the manifest.</summary>
    public static Dictionary<string, object> Describe(SmallModel? small, ModelConfig? config) => small is null || config is null
        ? new() { ["status"] = "not yet loaded" }
        : new()
        {
            ["layers"] = config.Layers, ["hidden"] = config.Hidden, ["heads"] = config.Heads,
            ["steps"] = small.Steps, ["flops"] = small.Flops, ["wallSeconds"] = small.WallSeconds,
            ["key"] = small.Key, ["fromCache"] = small.FromCache,
        };
}
