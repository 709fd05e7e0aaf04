namespace ApolloBench.Experiments;

/// <summary>
/// One kind of rendered output: what it shows, the definition sections it needs, and which section
/// its <c>include</c> names entries of. Pure-math outputs are computed from the samplers, mappings
/// and scales alone; the others need training runs.
/// </summary>
public sealed record OutputType(string Name, string Shows, string[] Needs, string IncludeFrom, bool PureMath);

/// <summary>Every output type, in one plain table.</summary>
public static class OutputTypes
{
    public static IReadOnlyList<OutputType> All { get; } =
    [
        new("sampler-table", "exact depth probabilities of each sampler beside the paper's density, with an empirical check from draws", ["samplers", "depth"], "samplers", PureMath: true),
        new("sampler-bars", "bar chart of each sampler's depth probabilities", ["samplers", "depth"], "samplers", PureMath: true),
        new("mapping-diagram", "which weight each layer runs under stacking and interpolation", ["mappings"], "mappings", PureMath: true),
        new("shape-table", "model shapes at the chosen scale beside the paper's", ["shapes"], "shapes", PureMath: true),
        new("loss-vs-flops", "training loss against FLOPs with the savings to the target marked", ["runs", "target"], "runs", PureMath: false),
        new("loss-vs-wall", "training loss against wall-clock seconds with the savings marked", ["runs", "target"], "runs", PureMath: false),
        new("savings-table", "FLOPs and wall-time savings at each target, held-out loss first, over all seeds (mean and 95% interval, or median when some never reached)", ["runs", "target"], "runs", PureMath: false),
        new("probe-table", "loss and gradient statistics of trained, grown and random models", ["probe"], "probe.rows", PureMath: false),
        new("activation-histogram", "distribution of output activations of trained and grown models", ["probe"], "probe.rows", PureMath: false),
        new("saving-vs-budget", "each method's held-out FLOPs saving to the Scratch run of the same model, shape and budget (its 50% and final loss) against the budget in steps, with the paper's saving as a line", ["runs"], "runs", PureMath: false),
        new("downstream-table", "fine-tuning scores per task and group average", ["runs", "downstream"], "runs", PureMath: false),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(t => t.Name).ToArray();

    public static OutputType? Find(string name) => All.FirstOrDefault(t => t.Name == name);
}
