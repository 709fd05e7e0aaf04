using System.Globalization;
using System.Text.Json.Nodes;
using ApolloBench.Data;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Runs;
using ApolloBench.Training;
using TorchSharp;

namespace ApolloBench.Experiments;

/// <summary>
/// The results of a training-driven artifact, computed from stored run folders only (curve.csv, manifest.json,
/// model.bin, the stage snapshots, the fine-tuning results): nothing here trains. Savings follow SPEC section 6
/// (<see cref="Savings"/>), probes are <see cref="Probes"/> over the stored weights and the held-out split.
/// </summary>
public static class TrainingResults
{
    /// <summary>Points kept per plotted curve.</summary>
    public const int CurvePoints = 400;

    /// <summary>
    /// What the artifact still lacks, one line each; empty when it can be rendered. The runs that records stand in for
    /// (<paramref name="fromRecords"/>, by run folder) lack nothing.
    /// </summary>
    public static IReadOnlyList<string> Missing(ArtifactPlan plan, RunSettings settings, IReadOnlyDictionary<string, string>? fromRecords = null)
    {
        var e = plan.Experiment;
        var lines = new List<string>();
        foreach (var run in plan.Runs)
        {
            if (fromRecords?.ContainsKey(run.Folder) == true) continue;
            if (!RunExecutor.IsComplete(run.Folder))
            {
                var next = Checkpoint.NextStep(Path.Combine(run.Folder, Checkpoint.Folder));
                var state = !Directory.Exists(run.Folder) ? "not trained"
                    : RunFiles.IsFinished(run.Folder) ? $"damaged ({RunFiles.Verify(run.Folder)}; reproduce trains it again)"
                    : next is not null ? $"unfinished, checkpoint at step {next} of {run.Spec.Train.Steps} (continue with --resume)"
                    : "unfinished, no checkpoint";
                lines.Add($"{e.Id}: run {run.Name} (seed {run.Seed}): {state}: {run.Folder}");
                continue;
            }
            foreach (var f in JobRunner.Finetunes(plan, run, settings).Where(f => !File.Exists(f.PathIn(run.Folder))))
                lines.Add($"{e.Id}: run {run.Name} (seed {run.Seed}): not fine-tuned on {f.TaskId} yet: {f.PathIn(run.Folder)}");
        }
        foreach (var (key, row) in e.Definition.Probe?.Rows ?? [])
        {
            if (row.Kind is not ("stage-end" or "stage-start")) continue;
            foreach (var run in plan.Of(row.Run!).Where(r => RunExecutor.IsComplete(r.Folder)))
            {
                if (SnapshotWeights(run.Spec, row) is not int weights) continue;
                var path = StageSnapshots.EndOf(run.Spec, run.Folder, weights);
                if (!File.Exists(path)) lines.Add($"{e.Id}: probe {key} (seed {run.Seed}): the run has no snapshot of its {weights}-weight stage: {path}");
            }
        }
        return lines;
    }

    /// <summary>
    /// The artifact's results; every run must be complete (<see cref="Missing"/> empty). <paramref name="measuredProbes"/>:
    /// probes measured earlier, taken as they are (run records carry no weights to measure them on; <see cref="RunRecords"/>).
    /// </summary>
    public static ArtifactResults Compute(ArtifactPlan plan, RunSettings settings, ReportContext context, Action<string>? log = null,
        IReadOnlyList<ProbeResult>? measuredProbes = null)
    {
        var e = plan.Experiment;
        var stored = plan.Runs.ToDictionary(r => r.Folder, r => StoredRun.Read(r, ShownLabel(plan, r)));
        var runs = plan.Runs.Select(r => stored[r.Folder].Record).ToList();
        var results = new ArtifactResults
        {
            Id = e.Id,
            Fingerprint = e.Fingerprint(),
            Context = context with
            {
                Device = Distinct(runs.Select(r => r.Device)),
                Commit = Distinct(runs.SelectMany(r => r.Commit.Split(Separator))),
                Machine = Distinct(runs.Select(r => r.Machine)),
                Seeds = string.Join(", ", e.SeedValues),
            },
            Definition = (JsonObject)JsonNode.Parse(e.DefinitionJson())!,
            Runs = runs,
            Dependencies = plan.Dependencies.Select(d => new DependencyRecord(d.Name, d.Label, d.Consumers.Select(c => e.Runs[c].Label ?? c).ToList(),
                d.Consumers.SelectMany(c => plan.Of(c)).SelectMany(r => stored[r.Folder].Ledger.Where(l => !l.Counted)
                    .Select(l => new DependencyCost(r.Label, r.Seed, l.What, l.Flops, l.Seconds))).ToList())).ToList(),
        };
        var window = Window(plan, stored);
        results.Curves.AddRange(plan.Runs.Select(r => Curve(r, ShownLabel(plan, r), stored[r.Folder], window)));
        if (e.Definition.Target is { } target)
        {
            // Held-out first: the loss of the full network on fixed batches; the paper's training loss after it.
            var absolute = target.Losses is { } losses ? Csv.Doubles(losses) : [];
            results.HeldOutSavings.AddRange(SavingsOf(plan, stored, train: false, window: 1, absolute));
            if (e.TargetsTrainingLoss) results.Savings.AddRange(SavingsOf(plan, stored, train: true, window, []));
            results = results with { Speedup = ResultsUpgrade.SpeedupOf(results) };
        }
        if (e.Outputs.Values.FirstOrDefault(o => o.Type == "saving-vs-budget") is { } budget) results.BudgetSavings.AddRange(BudgetSavingsOf(plan, stored, budget));
        if (e.Definition.Probe is not null) results.Probes.AddRange(measuredProbes ?? ProbesOf(plan, settings, log));
        if (e.Definition.Downstream is not null) results.Downstream.AddRange(DownstreamOf(plan, settings));
        return results;
    }

    // a context's list of devices, commits or machines, and a run's list of commits
    const string Separator = "; ";

    static string Distinct(IEnumerable<string> values) => string.Join(Separator, values.Distinct());

    /// <summary>
    /// The commits that trained a run, short: every stretch's in order (a run resumed by several builds; "unknown" for the
    /// steps of a checkpoint that predates stretches), else, for a manifest written before they were recorded, the
    /// finishing process's.
    /// </summary>
    static string Commits(JsonObject manifest)
    {
        static string Short(string? commit) => commit is null or "unknown" ? "unknown" : Runtime.BuildInfo.Short(commit);
        if (manifest["stretches"] is JsonArray { Count: > 0 } stretches)
            return Distinct(stretches.Select(t => Short(t?["commit"]?.GetValue<string>())));
        return Short(manifest["environment"]?["commit"]?.GetValue<string>());
    }

    // ---- runs -------------------------------------------------------------------------------

    /// <summary>
    /// A finished run folder as the report needs it: manifest (as a record and its ledger), curve, and the curve's
    /// cumulative normalised seconds (null without calibration), each read or computed once.
    /// </summary>
    sealed record StoredRun(RunRecord Record, IReadOnlyList<(string What, double Flops, double Seconds, bool Counted)> Ledger, IReadOnlyList<CurveRow> Curve,
        double[]? Normalised)
    {
        public static StoredRun Read(PlannedRun run, string label)
        {
            var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Folder, RunFiles.Manifest)))!.AsObject();
            var r = manifest["results"]!;
            var env = manifest["environment"]!;
            var commit = Commits(manifest);
            int threads = env["threads"]?.GetValue<int>() ?? 0;
            var device = $"{env["device"]?.GetValue<string>() ?? "?"}, {threads} thread{(threads == 1 ? "" : "s")}";
            var curve = RunFiles.ReadCurve(run.Folder);
            // Only the current calibration's rates normalise wall time: older runs timed a matmul that did not slow as a step does.
            bool current = WallTime.IsCurrentCalibration(r["calibration"]?.GetValue<string>());
            var normalised = current ? WallTime.Normalised(curve) : null;
            var evals = curve.Where(x => x.ValidLoss is not null).ToList();
            var speeds = current ? evals.Select(x => x.MachineSpeed).OfType<double>().Where(v => v > 0).Order().ToList() : [];
            var spreads = evals.Where(x => x.HiddenSpread is { } v && double.IsFinite(v)).ToList();
            var collapse = spreads.FirstOrDefault(x => CollapseDetector.IsCollapsed(x.HiddenSpread!.Value));
            var record = new RunRecord(run.Name, label, run.Spec.Method, run.Seed, Path.GetFileName(run.Folder), manifest["runKey"]?.GetValue<string>() ?? run.Spec.Key(),
                r["steps"]!.GetValue<long>(), r["totalFlops"]!.GetValue<double>(), r["trainingWallSeconds"]!.GetValue<double>(),
                r["externalFlops"]?.GetValue<double>() ?? 0, r["externalWallSeconds"]?.GetValue<double>() ?? 0,
                r["finalTrainLoss"]!.GetValue<double>(), r["finalValidLoss"]!.GetValue<double>(), commit, device,
                env["machine"]?.GetValue<string>() ?? "unknown",
                MachineSpeed: speeds.Count == 0 ? null : Round(Savings.Quantile(speeds, 0.5)),
                NormalisedWallSeconds: normalised is null ? null : Round(normalised[^1]),
                CollapsedAtStep: collapse is null ? null : collapse.Step + 1,   // a row's step is 0-based; the evaluation follows step + 1 steps
                LowestHiddenSpread: spreads.Count == 0 ? null : spreads.Min(x => x.HiddenSpread!.Value),
                CpuWait: WallTime.CpuWait(curve) is { } wait ? Round(wait) : null,
                RecoveredAtStep: CollapseDetector.RecoveredAt([.. spreads.Select(x => (x.Step + 1, x.HiddenSpread!.Value))]),
                LearningRate: manifest["train"]?["LearningRate"]?.GetValue<double>(),
                Passes: Passes(manifest),
                LowestValidLoss: evals.Count == 0 ? null : evals.Min(x => x.ValidLoss!.Value),
                Growths: manifest["growthEvents"] is JsonArray growths
                    ? [.. growths.OfType<JsonObject>().Select(g => new GrowthAt(g["step"]!.GetValue<long>(), g["from"]?.GetValue<string>() ?? "", g["to"]?.GetValue<string>() ?? ""))]
                    : null);
            var ledger = (manifest["ledger"]?.AsArray() ?? []).Select(n => (n!["what"]!.GetValue<string>(), n["flops"]!.GetValue<double>(),
                n["seconds"]!.GetValue<double>(), n["countedInRun"]!.GetValue<bool>())).ToList();
            return new StoredRun(record, ledger, curve, normalised);
        }

        /// <summary>
        /// The manifest's <c>corpus.passes</c>; for runs made before it was recorded, the tokens trained over the corpus's
        /// training tokens, from the same manifest (steps x batch x accumulation x sequence length); null when neither is there.
        /// </summary>
        static double? Passes(JsonObject manifest)
        {
            if (manifest["corpus"]?["passes"]?.GetValue<double>() is { } passes) return passes;
            var train = manifest["train"];
            if (manifest["corpus"]?["trainTokens"]?.GetValue<long>() is not (> 0 and var tokens) || train?["Steps"]?.GetValue<long>() is not { } steps
                || train["BatchSize"]?.GetValue<int>() is not { } batch || manifest["modelConfig"]?["SeqLen"]?.GetValue<int>() is not { } seqLen) return null;
            return Math.Round(Data.CorpusPasses.Of(steps, batch, train["Accumulation"]?.GetValue<int>() ?? 1, seqLen, tokens).Passes, 4);   // as RunManifest records it
        }

        /// <summary>
        /// The loss curve the savings are measured on, its costs shifted by what the run did not count (when charged; the
        /// normalised seconds are then not measured, as the small model's calibration is not stored with the run).
        /// </summary>
        public IReadOnlyList<CurvePoint> Points(bool train, bool charged = false) => Points(Curve, charged ? null : Normalised, train,
            charged ? Record.ExternalFlops : 0, charged ? Record.ExternalWallSeconds : 0);

        /// <summary>Every step's training loss, or the held-out loss at evaluations.</summary>
        static IReadOnlyList<CurvePoint> Points(IReadOnlyList<CurveRow> rows, double[]? normalised, bool train, double extraFlops, double extraSeconds)
            => Enumerable.Range(0, rows.Count).Where(i => train || rows[i].ValidLoss is not null)
                .Select(i => new CurvePoint(rows[i].Flops + extraFlops, rows[i].WallSeconds + extraSeconds, train ? rows[i].Loss : rows[i].ValidLoss!.Value,
                    normalised?[i] ?? double.NaN)).ToList();
    }

    // ---- curves and savings -----------------------------------------------------------------

    /// <summary>
    /// The trailing-mean window in points: the target's smoothing fraction of the steps the reference recorded
    /// (its first seed's curve; 1 for held-out loss).
    /// </summary>
    static int Window(ArtifactPlan plan, IReadOnlyDictionary<string, StoredRun> stored)
    {
        var e = plan.Experiment;
        if (e.Definition.Target is not { } target || !e.TargetsTrainingLoss) return 1;
        var reference = plan.Of(target.Reference!).First();
        return Savings.Window(stored[reference.Folder].Curve.Count, target.Smoothing ?? 0.02);
    }

    static CurveResult Curve(PlannedRun run, string label, StoredRun stored, int window)
    {
        var train = Savings.Smooth(stored.Points(train: true), window);
        var valid = stored.Points(train: false);
        var evals = stored.Curve.Where(r => r.ValidLoss is not null).ToList();
        var keep = Thin(train.Count);
        bool calibrated = stored.Normalised is not null;
        bool spread = evals.Any(r => r.HiddenSpread is { } v && double.IsFinite(v));
        bool waited = evals.Any(r => r.CpuWait is { } v && double.IsFinite(v));
        return new CurveResult(run.Name, label, run.Seed, window,
            keep.Select(i => train[i].Flops).ToArray(), keep.Select(i => train[i].WallSeconds).ToArray(), keep.Select(i => Round(train[i].Loss)).ToArray(),
            valid.Select(p => p.Flops).ToArray(), valid.Select(p => p.WallSeconds).ToArray(), valid.Select(p => Round(p.Loss)).ToArray(),
            NormalisedSeconds: calibrated ? keep.Select(i => Round(train[i].NormalisedSeconds)).ToArray() : null,
            ValidSteps: evals.Select(r => r.Step + 1).ToArray(),
            ValidNormalisedSeconds: calibrated ? valid.Select(p => Round(p.NormalisedSeconds)).ToArray() : null,
            ValidHiddenSpread: spread ? evals.Select(r => r.HiddenSpread ?? double.NaN).ToArray() : null,
            ValidMachineSpeed: calibrated ? evals.Select(r => r.MachineSpeed is { } v ? Round(v) : double.NaN).ToArray() : null,
            ValidCpuWait: waited ? evals.Select(r => r.CpuWait is { } v ? Round(v) : double.NaN).ToArray() : null);
    }

    static double Round(double v) => Math.Round(v, 6);

    /// <summary>
    /// The label a run is shown with in tables, notes and legends: its definition's, followed by its name where another run
    /// of the definition has the same label (budget's "Apollo" at each model and budget: "Apollo (bert-apollo-05x)"), whichever
    /// runs an interim plan holds.
    /// </summary>
    static string ShownLabel(ArtifactPlan plan, PlannedRun run)
        => plan.Experiment.Runs.Any(kv => kv.Key != run.Name && (kv.Value.Label ?? kv.Key) == run.Label) ? $"{run.Label} ({run.Name})" : run.Label;

    /// <summary>Indices of at most <see cref="CurvePoints"/> evenly spaced points, the last always kept.</summary>
    static List<int> Thin(int count)
    {
        int stride = Math.Max(1, (int)Math.Ceiling(count / (double)CurvePoints));
        var keep = Enumerable.Range(0, count).Where(i => i % stride == 0).ToList();
        if (count > 0 && keep[^1] != count - 1) keep.Add(count - 1);
        return keep;
    }

    /// <summary>
    /// Every method's savings to the reference's <paramref name="train"/>ing (or held-out) loss targets: its budget fractions,
    /// then the <paramref name="absolute"/> losses; with and without a small model's cost.
    /// </summary>
    static IEnumerable<SavingsResult> SavingsOf(ArtifactPlan plan, IReadOnlyDictionary<string, StoredRun> stored, bool train, int window, IReadOnlyList<double> absolute)
    {
        var e = plan.Experiment;
        var target = e.Definition.Target!;
        var fractions = target.BudgetFractions is { } csv ? Csv.Doubles(csv) : Savings.DefaultFractions.ToArray();
        var reference = target.Reference!;
        var scratch = e.SeedValues.Select(seed => stored[plan.Get(reference, seed).Folder].Points(train)).ToList();
        foreach (var (name, def) in e.Runs)
        {
            if (name == reference || plan.IsDependency(name)) continue;
            var withDependency = def.Method is "bert2bert" or "ligo" ? new[] { false, true } : [false];
            foreach (bool charged in withDependency)
            {
                var bySeed = e.SeedValues.Select((seed, s) =>
                    Savings.Compute(scratch[s], stored[plan.Get(name, seed).Folder].Points(train, charged), fractions, window, absolute)).ToList();
                var perSeed = bySeed.SelectMany((targets, s) => targets.Select(t => SeedSaving.From(e.SeedValues[s], t))).ToList();
                var targets = Savings.SummarizeTargets(bySeed).ToList();
                var label = def.Label ?? name;
                var paper = def.Paper;
                yield return charged
                    ? new SavingsResult(name, $"{label} + small model's cost", true, null, null, "the paper does not charge the small model", targets, perSeed)
                    : new SavingsResult(name, label, false, paper?.FlopsSaving, paper?.WallSaving, paper?.Note, targets, perSeed);
            }
        }
    }

    /// <summary>Every included method run against the Scratch run of its model, shape and budget, seed by seed (held-out loss).</summary>
    static IEnumerable<BudgetSaving> BudgetSavingsOf(ArtifactPlan plan, IReadOnlyDictionary<string, StoredRun> stored, OutputDefinition output)
    {
        var e = plan.Experiment;
        foreach (var name in e.Included(output, e.Runs.Keys))
        {
            var def = e.Runs[name];
            if (def.Method == "scratch") continue;
            var reference = ExperimentValidator.BudgetReference(e.Definition, name)!;
            foreach (var seed in e.SeedValues)
            {
                // An interim plan (report --interim) holds finished runs only: a pair missing either is left out.
                if (!plan.Has(reference, seed) || !plan.Has(name, seed)) continue;
                var scratch = stored[plan.Get(reference, seed).Folder];
                var method = stored[plan.Get(name, seed).Folder];
                var savings = Savings.Compute(scratch.Points(train: false), method.Points(train: false), [0.5, 1.0]);
                yield return new BudgetSaving(name, def.Label ?? name, def.Model ?? e.Definition.Model!, reference, def.Budget ?? 1,
                    plan.Get(name, seed).Spec.Train.Steps, seed, scratch.Record.FinalValidLoss, method.Record.FinalValidLoss,
                    savings[0].FlopsSaving, savings[1].FlopsSaving, def.Paper?.FlopsSaving);
            }
        }
    }

    // ---- probes -----------------------------------------------------------------------------

    /// <summary>The stage whose end a probe row starts from: its own (stage-end) or the one before (stage-start); null for the start of the first stage (the run's initial weights).</summary>
    static int? SnapshotWeights(RunSpec spec, ProbeRowDefinition row)
    {
        if (row.Kind == "stage-end") return row.Layers!.Value;
        var schedule = StageSnapshots.Schedule(spec)!;
        int index = Array.IndexOf(schedule.Layers, row.Layers!.Value);
        return index <= 0 ? null : schedule.Layers[index - 1];
    }

    static IEnumerable<ProbeResult> ProbesOf(ArtifactPlan plan, RunSettings settings, Action<string>? log)
    {
        var e = plan.Experiment;
        var probe = e.Definition.Probe!;
        int samples = probe.Samples ?? 500, bins = probe.Bins ?? 60;
        var measured = new List<(string Key, ProbeRowDefinition Row, long Seed, int Layers, string Plan, ProbeMeasurement M)>();
        var data = new Dictionary<string, IReadOnlyList<Batch>>();
        IReadOnlyList<Batch> Batches(ModelConfig config)
        {
            var key = $"{config.Arch}/{config.Vocab}/{config.SeqLen}";
            if (data.TryGetValue(key, out var cached)) return cached;
            var tokens = RunExecutor.Tokens(settings.CorpusFor(e.Scale), config.Vocab, settings.Cache);
            int batch = Math.Min(samples, 32);
            return data[key] = RunExecutor.HeldOut(tokens, config.Arch, batch, config.SeqLen, (samples + batch - 1) / batch);
        }
        try
        {
            foreach (var (key, row) in probe.Rows!)
            foreach (var seed in e.SeedValues)
            {
                var (model, runPlan, threads) = ProbeModel(e, plan, row, seed, settings);
                using (model)
                {
                    torch.set_num_threads(threads);
                    var m = Probes.Measure(model, runPlan, Batches(model.Config));
                    log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{e.Id}: probe {key} (seed {seed}): loss {m.Loss:F3}, |grad| {1e3 * m.GradMean:F3} +- {1e3 * m.GradStd:F3} x1e-3 over {m.Samples} sequences"));
                    measured.Add((key, row, seed, model.Config.Layers, PlanText(runPlan), m));
                }
            }
        }
        finally
        {
            foreach (var batches in data.Values) foreach (var b in batches) b.Dispose();
        }
        // One histogram range for every row, so the distributions can be laid over each other (Fig. 5).
        var ranges = measured.Select(x => Percentiles(x.M.Activations, 0.001, 0.999)).ToList();
        var low = ranges.Min(r => r.Low);
        var high = ranges.Max(r => r.High);
        return measured.Select(x =>
        {
            var a = x.M.Activations;
            double mean = a.Length == 0 ? 0 : a.Average(v => (double)v);
            double std = a.Length == 0 ? 0 : Math.Sqrt(a.Average(v => ((double)v - mean) * ((double)v - mean)));
            return new ProbeResult(x.Key, x.Row.Label ?? x.Key, x.Row.Kind!, x.Seed, x.Layers, x.Plan, x.M.Samples, Round(x.M.Loss),
                Round(1e3 * x.M.GradMean), Round(1e3 * x.M.GradStd), x.M.GradElements, Round(mean), Round(std), Round(low), Round(high),
                Probes.Density(a, low, high, bins).Select(Round).ToArray());
        }).ToList();
    }

    /// <summary>Two nearest-rank quantiles of <paramref name="values"/> from one sorted copy.</summary>
    static (double Low, double High) Percentiles(float[] values, double low, double high)
    {
        if (values.Length == 0) return (0, 0);
        var sorted = (float[])values.Clone();
        Array.Sort(sorted);
        double At(double q) => sorted[(int)Math.Clamp(Math.Round(q * (sorted.Length - 1)), 0, sorted.Length - 1)];
        return (At(low), At(high));
    }

    static string PlanText(int[] plan) => string.Join(",", plan.Select(w => (w + 1).ToString(CultureInfo.InvariantCulture)));

    /// <summary>The model a probe row measures, the plan it runs, and the thread count of its run.</summary>
    static (LanguageModel Model, int[] Plan, int Threads) ProbeModel(Experiment e, ArtifactPlan plan, ProbeRowDefinition row, long seed, RunSettings settings)
    {
        if (row.Kind == "random")
        {
            var config = ModelShapes.Resolve(e.Scale, ModelShapes.Parse(e.Definition.Model!), row.Layers!.Value);
            return (LanguageModel.Create(config, seed), LanguageModel.IdentityPlan(config.Layers), settings.Threads ?? e.Scale.TrainFor(config.Arch).Threads);
        }
        var run = plan.Get(row.Run!, seed);
        var spec = run.Spec;
        var model = LanguageModel.Create(spec.Model, seed);
        switch (row.Kind)
        {
            case "run":
                RunFiles.LoadModel(run.Folder, model);
                return (model, LanguageModel.IdentityPlan(spec.Model.Layers), spec.Train.Threads);
            case "grow":
            {
                RunFiles.LoadModel(run.Folder, model);
                using (model)
                {
                    var grown = Probes.Grow(model, row.Layers!.Value, LayerMapping.Parse(row.Mapping!));
                    return (grown, LanguageModel.IdentityPlan(grown.Config.Layers), spec.Train.Threads);
                }
            }
            case "stage-end":
                model.load(StageSnapshots.EndOf(spec, run.Folder, row.Layers!.Value));
                return (model, StageSnapshots.Method(spec)!.StagePlan(row.Layers.Value, spec.Model.Layers), spec.Train.Threads);
            case "stage-start":
            {
                int to = row.Layers!.Value;
                var method = StageSnapshots.Method(spec)!;
                if (SnapshotWeights(spec, row) is int from)   // else: the first stage starts from the run's initial weights
                {
                    model.load(StageSnapshots.EndOf(spec, run.Folder, from));
                    Apollo.GrowLayers(model, from, to, method.StageGrowth);
                }
                return (model, method.StagePlan(to, spec.Model.Layers), spec.Train.Threads);
            }
            default:
                throw new InvalidOperationException($"unknown probe kind '{row.Kind}' passed validation");
        }
    }

    // ---- downstream -------------------------------------------------------------------------

    static IEnumerable<DownstreamResult> DownstreamOf(ArtifactPlan plan, RunSettings settings)
    {
        var e = plan.Experiment;
        var d = e.Definition.Downstream!;
        foreach (var name in JobRunner.DownstreamRuns(e))
        foreach (var run in plan.Of(name))
        foreach (var (key, task) in d.Tasks!)
        {
            var job = FinetuneJob.For(d, task, run.Seed);
            var path = job.PathIn(run.Folder);
            if (!File.Exists(path))
            {
                yield return new DownstreamResult(name, run.Seed, key, task.Dataset!, task.Metric!, task.Group, job.StandIn, null,
                    "not run: it needs --data-dir (GLUE and SQuAD cannot be downloaded here)", null);
                continue;
            }
            var record = FinetuneRecord.Read(path);
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"{record.TrainExamples} training examples, {record.Epochs} epoch{(record.Epochs == 1 ? "" : "s")}, lr {record.LearningRate:G3}, batch {record.BatchSize}, {record.DataSource}")
                + (record.Metrics.TryGetValue("majority_accuracy", out var majority) ? string.Create(CultureInfo.InvariantCulture, $"; always answering the majority class scores {majority:F2}") : "");
            yield return record.Metrics.TryGetValue(task.Metric!, out var value)
                ? new DownstreamResult(name, run.Seed, key, task.Dataset!, task.Metric!, task.Group, job.StandIn, Round(value), null, detail)
                : new DownstreamResult(name, run.Seed, key, task.Dataset!, task.Metric!, task.Group, job.StandIn, null,
                    $"no {task.Metric} (the task reports {string.Join(", ", record.Metrics.Keys)})", detail);
        }
    }
}
