namespace ApolloBench.Experiments;

// The schema of experiments/<id>.json, bound by Microsoft.Extensions.Configuration.Binder.
// Every key is optional here; ExperimentValidator says which are required and checks every value.
// There are no arrays anywhere: lists of things are objects keyed by name (runs, samplers, outputs,
// ...) and lists of numbers are comma-separated strings ("1,3,6,12"), because configuration layers
// merge arrays by index and a scale overlay could then never shorten or reorder a list.
// A definition may carry a "scales" object whose sections (smoke, cpu, gpu, paper) are overlays of
// this same schema; ExperimentLoader merges the chosen one over the base and --set overrides on top.

/// <summary>One paper artifact: what it reproduces, the runs it needs, how it is measured, what it renders.</summary>
public sealed record ExperimentDefinition
{
    /// <summary>A short title for reports and <c>list</c>.</summary>
    public string? Title { get; init; }

    /// <summary>What in the paper this reproduces, e.g. "Figure 7: sampler ablation on BERT-Base".</summary>
    public string? Reproduces { get; init; }

    /// <summary>Where the paper's numbers below come from (a table, a caption, margins stated in the text).</summary>
    public string? PaperSource { get; init; }

    /// <summary>The default model of every run: bert or gpt.</summary>
    public string? Model { get; init; }

    /// <summary>How many seeds each run is trained with (or, for pure-math artifacts, how many independent draw sets).</summary>
    public int? Seeds { get; init; }

    /// <summary>The first seed; seed i (0-based) is <c>FirstSeed + i</c>. Default 42, the released code's seed.</summary>
    public long? FirstSeed { get; init; }

    /// <summary>Training runs by name (the name is used in file names and legends).</summary>
    public Dictionary<string, RunDefinition>? Runs { get; init; }

    /// <summary>The target loss that savings are measured against (SPEC section 6).</summary>
    public TargetDefinition? Target { get; init; }

    /// <summary>Depth samplers whose exact distributions are tabulated or plotted.</summary>
    public Dictionary<string, SamplerDefinition>? Samplers { get; init; }

    /// <summary>The depth range the samplers are evaluated on.</summary>
    public DepthDefinition? Depth { get; init; }

    /// <summary>Draws per seed for the empirical check of the sampler distributions (0: no check).</summary>
    public long? Draws { get; init; }

    /// <summary>Layer mappings to draw (paper Fig. 4).</summary>
    public Dictionary<string, MappingDefinition>? Mappings { get; init; }

    /// <summary>Model shapes to tabulate (paper Table 5).</summary>
    public Dictionary<string, ShapeDefinition>? Shapes { get; init; }

    /// <summary>Measurements on trained or grown models: loss, gradients, activations (paper Tables 2-3, Fig. 5).</summary>
    public ProbeDefinition? Probe { get; init; }

    /// <summary>Fine-tuning tasks after pre-training (paper Table 4).</summary>
    public DownstreamDefinition? Downstream { get; init; }

    /// <summary>What is rendered, by name: each has a <see cref="OutputDefinition.Type"/>.</summary>
    public Dictionary<string, OutputDefinition>? Outputs { get; init; }
}

/// <summary>One training run (trained once per seed).</summary>
public sealed record RunDefinition
{
    /// <summary>scratch, apollo, stackbert, bert2bert or ligo.</summary>
    public string? Method { get; init; }

    /// <summary>The legend label; defaults to the run's name.</summary>
    public string? Label { get; init; }

    /// <summary>bert or gpt; defaults to the definition's model.</summary>
    public string? Model { get; init; }

    /// <summary>Layers of the target model (default 12; BERT-Large has 24).</summary>
    public int? Layers { get; init; }

    /// <summary>Heads relative to the scale's, keeping the head width (BERT-Small: 8/12 of BERT-Base's heads). Default 1.</summary>
    public double? HeadsRatio { get; init; }

    /// <summary>Steps as a fraction of the scale's step budget (default 1).</summary>
    public double? Budget { get; init; }

    /// <summary>
    /// The peak learning rate as a multiple of the scale's (default 1). A diagnostic knob for artifacts the suite adds
    /// (labelled "not in the paper"): the paper's artifacts train every method at the scale's own rate.
    /// </summary>
    public double? LearningRateFactor { get; init; }

    /// <summary>Options of the method; each method accepts only its own.</summary>
    public MethodOptionsDefinition? Options { get; init; }

    /// <summary>The paper's numbers for this run.</summary>
    public PaperNumbers? Paper { get; init; }
}

/// <summary>Method options, spelled as in <c>train</c>'s options. Which method takes which: see ExperimentValidator.</summary>
public sealed record MethodOptionsDefinition
{
    /// <summary>apollo: depth sampler (lvps, es, us, fs, none, lvps-code, sigmoid-code).</summary>
    public string? Sampler { get; init; }

    /// <summary>apollo: k of lvps or es.</summary>
    public double? SamplerK { get; init; }

    /// <summary>apollo, stackbert: trained layers per stage, e.g. "1,3,6,12".</summary>
    public string? Stages { get; init; }

    /// <summary>apollo, stackbert: the fraction of the budget at which each stage ends, e.g. "0.05,0.1,0.25,1".</summary>
    public string? StageEnds { get; init; }

    /// <summary>apollo: interpolate (Apollo-I) or stack (Apollo-S).</summary>
    public string? Mapping { get; init; }

    /// <summary>apollo: optimiser moments at growth, released or copy.</summary>
    public string? Moments { get; init; }

    /// <summary>bert2bert, ligo: the run (by name) that trains the small model they grow from.</summary>
    public string? Source { get; init; }

    /// <summary>bert2bert: width growth, fpi or aki.</summary>
    public string? Width { get; init; }

    /// <summary>ligo: steps that train the growth operator alone (paper: 100).</summary>
    public int? OperatorSteps { get; init; }

    /// <summary>ligo: warmup of the operator steps, as a fraction of them.</summary>
    public double? OperatorWarmup { get; init; }
}

/// <summary>How the target losses are chosen (SPEC section 6).</summary>
public sealed record TargetDefinition
{
    /// <summary>The run (a scratch run) whose curve defines the targets.</summary>
    public string? Reference { get; init; }

    /// <summary>train (smoothed training loss, what the paper's figures use) or valid (held-out loss at evaluations).</summary>
    public string? Loss { get; init; }

    /// <summary>Training loss only: trailing mean over this fraction of the reference's steps (default 0.02).</summary>
    public double? Smoothing { get; init; }

    /// <summary>Targets: the reference's loss at these fractions of its budget, e.g. "0.25,0.5,0.75,1" (the default).</summary>
    public string? BudgetFractions { get; init; }

    /// <summary>
    /// Absolute held-out loss targets fixed in advance, comma-separated (MLPerf's quality targets), e.g. "5.9,5.8": each
    /// run's cost to first reach the value, Scratch's included; beside the budget fractions' targets.
    /// </summary>
    public string? Losses { get; init; }
}

/// <summary>A depth sampler (paper Table 1).</summary>
public sealed record SamplerDefinition
{
    /// <summary>lvps, es, us, fs, none, lvps-code or sigmoid-code.</summary>
    public string? Sampler { get; init; }

    /// <summary>k of lvps (default 0) or es (default 10).</summary>
    public double? K { get; init; }

    public string? Label { get; init; }

    public PaperNumbers? Paper { get; init; }
}

/// <summary>The depths samplers draw from: <c>N..L</c> for each N in <see cref="Trained"/>.</summary>
public sealed record DepthDefinition
{
    /// <summary>L, the target depth.</summary>
    public int? Target { get; init; }

    /// <summary>The trained weight counts N, comma-separated and increasing, e.g. "1,3,6".</summary>
    public string? Trained { get; init; }
}

/// <summary>A layer mapping from <see cref="From"/> weights to <see cref="To"/> layers (paper Eq. 11-12, Fig. 4).</summary>
public sealed record MappingDefinition
{
    /// <summary>stack or interpolate.</summary>
    public string? Kind { get; init; }

    public int? From { get; init; }

    public int? To { get; init; }

    public string? Label { get; init; }

    public PaperNumbers? Paper { get; init; }
}

/// <summary>A model shape (paper Table 5), resolved at the chosen scale.</summary>
public sealed record ShapeDefinition
{
    public string? Label { get; init; }

    /// <summary>bert or gpt.</summary>
    public string? Model { get; init; }

    /// <summary>Layers (default 12).</summary>
    public int? Layers { get; init; }

    /// <summary>Heads relative to the scale's, head width kept (default 1).</summary>
    public double? HeadsRatio { get; init; }

    public PaperNumbers? Paper { get; init; }
}

/// <summary>Measurements on models taken from runs, grown from them, or freshly initialised.</summary>
public sealed record ProbeDefinition
{
    /// <summary>Held-out sequences measured (paper: 500).</summary>
    public int? Samples { get; init; }

    /// <summary>Histogram bins of the output activations.</summary>
    public int? Bins { get; init; }

    public Dictionary<string, ProbeRowDefinition>? Rows { get; init; }
}

/// <summary>One measured model.</summary>
public sealed record ProbeRowDefinition
{
    /// <summary>
    /// random (fresh init), run (a run's final model), stage-end (a run's model at the end of its stage
    /// with <see cref="Layers"/> weights), stage-start (just after growing into that stage), grow (a run's
    /// final model grown to <see cref="Layers"/> by <see cref="Mapping"/>).
    /// </summary>
    public string? Kind { get; init; }

    /// <summary>The run the model comes from (not for random).</summary>
    public string? Run { get; init; }

    /// <summary>Layers of the measured model (random, grow) or the stage's weight count (stage-end, stage-start).</summary>
    public int? Layers { get; init; }

    /// <summary>grow: stack or interpolate.</summary>
    public string? Mapping { get; init; }

    public string? Label { get; init; }

    public PaperNumbers? Paper { get; init; }
}

/// <summary>Fine-tuning after pre-training.</summary>
public sealed record DownstreamDefinition
{
    public int? Epochs { get; init; }

    /// <summary>At most this many training examples, and as many per evaluation set (a fixed random subset); default all.</summary>
    public int? MaxExamples { get; init; }

    /// <summary>Peak fine-tuning learning rate; default the task's (BERT's recipe, meant for paper-scale models).</summary>
    public double? LearningRate { get; init; }

    /// <summary>Examples per fine-tuning step; default the task's.</summary>
    public int? BatchSize { get; init; }

    public Dictionary<string, TaskDefinition>? Tasks { get; init; }
}

/// <summary>One fine-tuning task.</summary>
public sealed record TaskDefinition
{
    /// <summary>A known dataset name (see ExperimentValidator.Datasets); GLUE and SQuAD are read from local copies, the stand-ins fetched with npm.</summary>
    public string? Dataset { get; init; }

    /// <summary>accuracy, f1, mcc, pearson or spearman.</summary>
    public string? Metric { get; init; }

    /// <summary>Tasks of a group are averaged together (glue, squad).</summary>
    public string? Group { get; init; }

    public string? Label { get; init; }
}

/// <summary>One rendered output.</summary>
public sealed record OutputDefinition
{
    /// <summary>See <see cref="OutputTypes"/>.</summary>
    public string? Type { get; init; }

    public string? Title { get; init; }

    /// <summary>Comma-separated names of the entries shown (runs, samplers, mappings, shapes or probe rows); default all.</summary>
    public string? Include { get; init; }
}

/// <summary>
/// The paper's numbers for one entry, copied from the paper as data to compare against (never a
/// reproduced number). Percentages are written as percent (41.6 for 41.6%); gradients in units of 1e-3.
/// </summary>
public sealed record PaperNumbers
{
    public double? FlopsSaving { get; init; }
    public double? WallSaving { get; init; }
    public double? Loss { get; init; }
    public double? GradMean { get; init; }
    public double? GradStd { get; init; }

    /// <summary>Downstream scores by task name.</summary>
    public Dictionary<string, double>? Tasks { get; init; }

    /// <summary>Downstream averages by task group.</summary>
    public Dictionary<string, double>? Groups { get; init; }

    public int? Layers { get; init; }
    public int? Hidden { get; init; }
    public int? Heads { get; init; }
    public int? Vocab { get; init; }
    public int? SeqLen { get; init; }

    /// <summary>A formula as printed in the paper.</summary>
    public string? Formula { get; init; }

    /// <summary>A layer mapping as comma-separated weight indices, 0-based.</summary>
    public string? Mapping { get; init; }

    /// <summary>What the paper says where it gives no number ("shape only", "US performs normally").</summary>
    public string? Note { get; init; }
}
