using System.Globalization;
using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>Where runs live and how they are trained; the same for every artifact of one invocation.</summary>
public sealed record RunSettings
{
    /// <summary>The runs root: every run is the folder <c>&lt;Runs&gt;/&lt;RunSpec.FolderName&gt;/</c>, shared by every artifact that needs it.</summary>
    public required string Runs { get; init; }

    /// <summary>Corpora, tokenised corpora and the small-model dependency runs of bert2BERT and LiGO.</summary>
    public required string Cache { get; init; }

    /// <summary>The pre-training corpus (a path, or a fetched corpus by name: <c>sotu+brown</c>), or null for the scale's (<see cref="Scale.Corpus"/>).</summary>
    public string? Corpus { get; init; }

    /// <summary>torch threads (results are bit-identical only at the same count, but the count is not part of a run's key: <see cref="ApolloBench.Runs.RunSpec.Canonical"/>). Null: the scale's (all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>GLUE's task folders and SQuAD's files; without it only the stand-in tasks are fine-tuned.</summary>
    public string? DataDir { get; init; }

    /// <summary>How often a training run checkpoints (default: every 3 minutes); a killed run continues from its last checkpoint with --resume.</summary>
    public TimeSpan? CheckpointEvery { get; init; }

    /// <summary>The corpus as it enters a run's key: a full path, so the same folder named two ways is one run (a fetched corpus keeps its name).</summary>
    public string? CorpusKey => Corpus is null ? null : Data.Corpus.FetchedParts(Corpus) is not null ? Corpus : Path.GetFullPath(Corpus);

    /// <summary>The corpus the runs of a scale train on: <see cref="Corpus"/> when given, else the scale's default.</summary>
    public string? CorpusFor(Scale scale) => CorpusKey ?? scale.Corpus;
}

/// <summary>One run of a definition for one seed, fully resolved.</summary>
/// <param name="Name">the run's name in the definition (<c>runs.&lt;name&gt;</c>).</param>
/// <param name="Folder">the run folder under the runs root.</param>
public sealed record PlannedRun(string Name, RunDefinition Definition, long Seed, RunSpec Spec, string Folder)
{
    public string Label => Definition.Label ?? Name;
}

/// <summary>
/// A run named as the <c>source</c> of bert2BERT or LiGO: the small model they grow from. It is not trained as a
/// run of its own: the method's dependency mechanism (<see cref="SmallModelDependency"/>) trains exactly this model
/// (same shape, steps, seed and data) once, caches it, and charges its cost in the consumer's ledger.csv as an entry
/// not counted in the run; the reports show the savings with and without it.
/// </summary>
public sealed record DependencyRun(string Name, RunDefinition Definition, IReadOnlyList<string> Consumers)
{
    public string Label => Definition.Label ?? Name;
}

/// <summary>Everything an artifact needs trained: its runs per seed, and the runs that are dependencies of others.</summary>
public sealed record ArtifactPlan(Experiment Experiment, IReadOnlyList<PlannedRun> Runs, IReadOnlyList<DependencyRun> Dependencies)
{
    public IEnumerable<PlannedRun> Of(string name) => Runs.Where(r => r.Name == name);

    public PlannedRun Get(string name, long seed) => Runs.First(r => r.Name == name && r.Seed == seed);

    public bool Has(string name, long seed) => Runs.Any(r => r.Name == name && r.Seed == seed);

    /// <summary>
    /// Why this artifact cannot be rendered from some of its runs (<c>report --interim</c>); null when it can: its
    /// results then pair runs explicitly (saving-vs-budget) or plot each on its own, so a missing run takes only its own rows.
    /// </summary>
    public string? WhyNotInPart() => Experiment.Definition.Target is not null ? "its savings summarise every seed against its reference run, so it needs them all"
        : Experiment.Definition.Probe is not null ? "it probes the runs' weights"
        : Experiment.Definition.Downstream is not null ? "it fine-tunes the runs"
        : Dependencies.Count > 0 ? "its runs grow from a small model trained with them"
        : null;

    /// <summary>This plan cut to the runs in <paramref name="folders"/>, with what an interim report says of the rest.</summary>
    public (ArtifactPlan Part, InterimState Interim) Part(ISet<string> folders)
    {
        var part = this with { Runs = Runs.Where(r => folders.Contains(r.Folder)).ToList() };
        return (part, new InterimState(Runs.Count, Runs.Where(r => !folders.Contains(r.Folder)).Select(r => $"{r.Name} (seed {r.Seed})").ToList()));
    }

    public bool IsDependency(string name) => Dependencies.Any(d => d.Name == name);
}

/// <summary>
/// Resolves a definition's runs into <see cref="RunSpec"/>s: the scale's model (layers and heads ratio applied,
/// <see cref="ModelShapes"/>) and train config (steps = budget x the scale's steps, the seed), and the definition's
/// options mapped onto <see cref="MethodOptions"/>, written out canonically (a default spelled out and a default left
/// out give the same key), so one configuration is one run folder whichever artifact asks for it.
/// </summary>
public static class RunPlanner
{
    public static ArtifactPlan Plan(Experiment e, RunSettings settings)
    {
        var sources = e.Runs.Where(kv => kv.Value.Method is "bert2bert" or "ligo")
            .Select(kv => (Consumer: kv.Key, Source: kv.Value.Options!.Source!)).ToList();
        var dependencies = sources.GroupBy(s => s.Source)
            .Select(g => new DependencyRun(g.Key, e.Runs[g.Key], g.Select(s => s.Consumer).ToList())).ToList();
        foreach (var d in dependencies)
        {
            if (e.Definition.Target?.Reference == d.Name)
                throw e.Source.Fail("target.reference", $"'{d.Name}' is the small model of {string.Join(", ", d.Consumers)}, trained as their dependency run; name another scratch run");
            if (e.Definition.Probe?.Rows?.FirstOrDefault(r => r.Value.Run == d.Name) is { Key: { } row })
                throw e.Source.Fail($"probe.rows.{row}.run", $"'{d.Name}' is the small model of {string.Join(", ", d.Consumers)}, trained as their dependency run, not as a run with its own folder");
        }
        var runs = new List<PlannedRun>();
        foreach (var (name, run) in e.Runs)
        {
            if (dependencies.Any(d => d.Name == name)) continue;
            foreach (var seed in e.SeedValues)
            {
                var spec = Resolve(e, name, run, seed, settings);
                runs.Add(new PlannedRun(name, run, seed, spec, Path.Combine(settings.Runs, spec.FolderName)));
            }
        }
        return new ArtifactPlan(e, runs, dependencies);
    }

    /// <summary>Steps of a run: its budget (default 1) times the scale's steps for its architecture, at least 1.</summary>
    public static long Steps(Scale scale, Architecture arch, double? budget)
        => Math.Max(1, (long)Math.Round((budget ?? 1) * scale.TrainFor(arch).Steps, MidpointRounding.AwayFromZero));

    public static RunSpec Resolve(Experiment e, string name, RunDefinition run, long seed, RunSettings settings)
    {
        var arch = ModelShapes.Parse(run.Model ?? e.Definition.Model!);
        int layers = run.Layers ?? 12;
        var model = ModelShapes.Resolve(e.Scale, arch, layers, run.HeadsRatio ?? 1);
        var scaleTrain = e.Scale.TrainFor(arch);
        var train = scaleTrain with
        {
            Steps = Steps(e.Scale, arch, run.Budget),
            // x * 1 == x exactly, so a run that leaves the factor out or spells out 1 keeps its key.
            LearningRate = scaleTrain.LearningRate * (run.LearningRateFactor ?? 1),
            Seed = seed,
            Threads = settings.Threads ?? scaleTrain.Threads,
        };
        var options = Options(e, name, run, model, train);
        return new RunSpec(arch, e.Scale.Name, model, train, run.Method!, options, settings.CorpusFor(e.Scale));
    }

    static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The definition's options as <see cref="MethodOptions"/>; options a method does not read keep their defaults.</summary>
    static MethodOptions Options(Experiment e, string name, RunDefinition run, ModelConfig model, TrainConfig train)
    {
        var o = run.Options ?? new MethodOptionsDefinition();
        var p = $"runs.{name}.options";
        UsageException Fail(string key, string message) => e.Source.Fail($"{p}.{key}", message);
        var none = new MethodOptions();
        switch (run.Method)
        {
            case "scratch":
                return none;
            case "apollo":
            {
                var schedule = Schedule("apollo", o, model.Layers)!;
                var sampler = DepthSampler.Create(o.Sampler ?? "lvps", o.SamplerK);
                return none with
                {
                    Sampler = sampler.Name,
                    SamplerK = sampler.K,
                    Stages = string.Join(",", schedule.Layers),
                    StageEnds = string.Join(",", schedule.Ends.Select(F)),
                    Mapping = LayerMapping.Parse(o.Mapping ?? "interpolate") == MappingKind.Stack ? "stack" : "interpolate",
                    Moments = o.Moments ?? "released",
                };
            }
            case "stackbert":
            {
                if (o.Stages is null && o.StageEnds is null) return none;
                // StackBERT grows L/4 -> L/2 -> L; a definition may move the stage ends, not change the depths.
                var expected = Schedule("stackbert", null, model.Layers)!;
                var schedule = Schedule("stackbert", o, model.Layers)!;
                if (!schedule.Layers.SequenceEqual(expected.Layers))
                    throw Fail("stages", $"StackBERT grows L/4 -> L/2 -> L, i.e. {string.Join(",", expected.Layers)} for {model.Layers} layers (got {string.Join(",", schedule.Layers)})");
                return none with { StackBertStages = $"{F(schedule.Ends[0])},{F(schedule.Ends[1])}" };
            }
            case "bert2bert":
                return Small(e, name, o, model, train, none with { WidthInit = o.Width ?? "aki" });
            case "ligo":
            {
                int steps = o.OperatorSteps ?? 100;
                var warmup = o.OperatorWarmup is { } w ? (int?)(int)Math.Round(w * steps, MidpointRounding.AwayFromZero) : null;
                return Small(e, name, o, model, train, none with
                {
                    LigoSteps = steps.ToString(CultureInfo.InvariantCulture),
                    LigoWarmup = warmup?.ToString(CultureInfo.InvariantCulture),
                });
            }
            default:
                throw new InvalidOperationException($"unknown method '{run.Method}' passed validation");
        }
    }

    /// <summary>
    /// The stage schedule a definition's run trains with, the one place that reads it (planner, validator, time
    /// estimate): Apollo's is the paper's for the run's depth unless <c>stages</c>/<c>stageEnds</c> are given;
    /// StackBERT's depths are L/4, L/2, L with the authors' stage ends unless given; other methods have none.
    /// Throws the schedule parser's <see cref="UsageException"/> (naming --stages or --stage-ends) on a bad one.
    /// </summary>
    public static StageSchedule? Schedule(string method, MethodOptionsDefinition? options, int layers)
    {
        var o = options ?? new MethodOptionsDefinition();
        var defaults = method switch
        {
            "apollo" => StageSchedule.Paper(layers),
            "stackbert" => new StackBert(StackBert.DefaultStageEnds).ScheduleFor(layers),
            _ => null,
        };
        if (defaults is null || (o.Stages is null && o.StageEnds is null)) return defaults;
        var ends = o.StageEnds ?? (o.Stages is null ? string.Join(",", defaults.Ends.Select(F)) : null);
        return StageSchedule.Parse(o.Stages ?? string.Join(",", defaults.Layers), ends, layers);
    }

    /// <summary>
    /// The small model of bert2BERT/LiGO is the definition's <c>source</c> run: its depth and budget become
    /// <c>SmallLayers</c> and <c>SmallSteps</c>, and its width must be the one the dependency mechanism trains
    /// (<see cref="SmallModel.ConfigFor"/>: 8/12 of the target's heads, head width kept).
    /// </summary>
    static MethodOptions Small(Experiment e, string name, MethodOptionsDefinition o, ModelConfig model, TrainConfig train, MethodOptions options)
    {
        var sourceName = o.Source!;
        var source = e.Runs[sourceName];
        var sourceArch = ModelShapes.Parse(source.Model ?? e.Definition.Model!);
        int sourceLayers = source.Layers ?? 12;
        var sourceModel = ModelShapes.Resolve(e.Scale, sourceArch, sourceLayers, source.HeadsRatio ?? 1);
        if (sourceLayers > model.Layers)
            throw e.Source.Fail($"runs.{sourceName}.layers", $"the small model of '{name}' cannot be deeper than its target ({sourceLayers} > {model.Layers})");
        var expected = SmallModel.ConfigFor(model, sourceLayers);
        if (sourceModel != expected)
            throw e.Source.Fail($"runs.{sourceName}", $"the small model of '{name}' is trained by its dependency run as " +
                $"{expected.Arch} {expected.Layers}x{expected.Hidden} ({expected.Heads} heads: 8/12 of the target's, head width kept); " +
                $"this run resolves to {sourceModel.Arch} {sourceModel.Layers}x{sourceModel.Hidden} ({sourceModel.Heads} heads) at scale {e.Scale.Name}");
        long sourceSteps = Steps(e.Scale, sourceArch, source.Budget);
        return options with
        {
            SmallLayers = sourceLayers == model.Layers ? null : sourceLayers.ToString(CultureInfo.InvariantCulture),
            SmallSteps = sourceSteps == train.Steps ? null : sourceSteps.ToString(CultureInfo.InvariantCulture),
        };
    }
}
