using System.Text.Json.Nodes;
using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Runs;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Gpu;

/// <summary>Savings of stored gpu-scale runs, computed by the suite's own code (the plan, curves and savings <c>report</c> uses).</summary>
public static class GpuResults
{
    /// <summary>The runs root of a gpu-scale <c>reproduce</c> (reproduce.yml's report job merges them into out/runs).</summary>
    public const string Variable = "APOLLOBENCH_GPU_RUNS";

    public const string ScaleName = "gpu";

    /// <summary>The folder <see cref="Variable"/> names, or null when it is unset; a relative path is taken from the repository root, where the workflows run.</summary>
    public static string? RunsRoot => Environment.GetEnvironmentVariable(Variable) is { } value && !string.IsNullOrWhiteSpace(value)
        ? Path.GetFullPath(value.Trim(), Repo.Root)
        : null;

    public static string? SkipReason => RunsRoot is not null ? null
        : $"GPU savings band skipped: {Variable} is not set. Set it to the runs folder of `reproduce fig6a,fig6c --scale gpu` " +
          "(reproduce.yml's report job sets it to out/runs) to check Apollo's gpu-scale FLOPs savings against the paper's.";

    /// <summary>
    /// Apollo's verdict for one artifact (fig6a, fig6c) from the runs under <paramref name="runsRoot"/>: the definition at
    /// gpu scale, its runs planned where <c>reproduce</c> put them, the savings computed as the report computes them.
    /// Throws, naming what is wrong, when the runs are not all there.
    /// </summary>
    public static BandVerdict Measure(string experimentsDir, string id, string runsRoot, IReadOnlyList<string>? overrides = null, string method = "apollo")
    {
        if (!Directory.Exists(runsRoot)) throw new InvalidOperationException($"{Variable}: '{runsRoot}' is not a folder");
        var e = ExperimentLoader.Load(experimentsDir, id, ScaleName, overrides ?? []);
        var settings = SettingsOf(runsRoot, e.Definition.Model!);
        var plan = RunPlanner.Plan(e, settings);
        var missing = TrainingResults.Missing(plan, settings);
        if (missing.Count > 0)
            throw new InvalidOperationException($"{Variable}={runsRoot}: {id} at gpu scale lacks {missing.Count} run(s):{Environment.NewLine}{string.Join(Environment.NewLine, missing)}");
        var context = new ReportContext { Scale = ScaleName, Device = "", Seeds = "", Commit = "", Machine = "", Created = "" };
        var results = TrainingResults.Compute(plan, settings, context);
        var savings = results.Savings.SingleOrDefault(s => s.Run == method && !s.WithDependency)
                      ?? throw new InvalidOperationException($"{id}: no savings row for run '{method}'");
        return SavingsBand.Check(id, savings);
    }

    /// <summary>
    /// The settings the runs were trained with, as far as they enter a run's folder name: the thread count and the corpus
    /// are part of every run's key, so they are read back from the manifests of the finished gpu-scale runs of
    /// <paramref name="model"/> (all of them must agree) rather than guessed.
    /// </summary>
    public static RunSettings SettingsOf(string runsRoot, string model)
    {
        var found = new HashSet<(int Threads, string? Corpus)>();
        foreach (var dir in Directory.EnumerateDirectories(runsRoot).Where(RunExecutor.IsComplete))
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFiles.Manifest)));
            if (manifest?["scale"]?.GetValue<string>() != ScaleName || manifest["model"]?.GetValue<string>() != model) continue;
            int threads = manifest["environment"]?["threads"]?.GetValue<int>()
                          ?? throw new InvalidOperationException($"{Path.Combine(dir, RunFiles.Manifest)}: no environment.threads");
            var source = manifest["corpus"]?["source"]?.GetValue<string>();
            found.Add((threads, source is null || source == SotuCorpus.PackageName ? null : source));
        }
        if (found.Count == 0)
            throw new InvalidOperationException($"{Variable}={runsRoot}: no finished gpu-scale {model} run there (train them with `reproduce fig6a,fig6c --scale gpu --runs <that folder>`)");
        if (found.Count > 1)
            throw new InvalidOperationException($"{Variable}={runsRoot}: gpu-scale {model} runs of different settings are mixed there " +
                                                $"({string.Join("; ", found.Select(f => $"{f.Threads} threads, corpus {f.Corpus ?? SotuCorpus.PackageName}"))}); point it at one reproduction's runs");
        var (t, corpus) = found.Single();
        return new RunSettings { Runs = runsRoot, Cache = ReproduceOptions.DefaultCache(), Threads = t, Corpus = corpus };
    }
}
