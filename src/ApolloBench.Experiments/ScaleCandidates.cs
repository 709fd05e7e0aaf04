using System.Text.Json.Nodes;
using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Runs;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>One candidate of a scale for one architecture: its Scratch and Apollo (paper schedule) runs.</summary>
/// <param name="IsCurrent">true when the candidate is the scale as scales.json has it: its runs then carry the scale's
/// name and are the very runs the artifacts use.</param>
public sealed record ScaleCandidate(string Name, Architecture Arch, bool IsCurrent, PlannedRun Scratch, PlannedRun Apollo)
{
    public TrainConfig Train => Scratch.Spec.Train;
}

/// <summary>What the measurement of one candidate found (every loss held-out, full mapping, no dropout).</summary>
/// <param name="Plateau">the unigram cross-entropy of the held-out targets: the loss of the best predictor that ignores
/// context, where a masked or causal LM first sits.</param>
/// <param name="SecondsPerStep">a 12-layer Scratch step at <paramref name="TimedThreads"/> threads, measured by the
/// command itself (the median of 20 steps); <paramref name="MachineSpeed"/> is the calibration workload's GFLOP/s then.</param>
public sealed record CandidateMeasurement(
    ScaleCandidate Candidate, double Plateau, double SecondsPerStep, int TimedThreads, double MachineSpeed,
    double ScratchAt5, double ScratchAt25, double ScratchFinal, double ApolloAtStageOneEnd, double ApolloFinal,
    long? ApolloCollapsedAtStep, long? ApolloRecoveredAtStep, double ApolloSpreadAtFirstGrowth, double? ApolloSavingToFinal, double? ApolloSavingToHalf)
{
    public const double PlateauMargin = 0.1;
    public const double MaxScratchMinutes = 30;

    public double ScratchMinutes => Candidate.Train.Steps * SecondsPerStep / 60;
    public bool LeftPlateau => Plateau - ScratchAt5 >= PlateauMargin;
    public bool FitsTime => ScratchMinutes <= MaxScratchMinutes;
    /// <summary>
    /// Apollo grew from a collapsed encoder (its spread at the last evaluation before the first growth is below the
    /// threshold), or ended collapsed: the failure the earlier cpu scale showed. A collapse that recovers inside the first
    /// stage is shown, and does not fail a candidate.
    /// </summary>
    public bool ApolloCollapsedWhereItCounts => CollapseDetector.IsCollapsed(ApolloSpreadAtFirstGrowth) || (ApolloCollapsedAtStep is not null && ApolloRecoveredAtStep is null);

    public bool Passes => LeftPlateau && FitsTime && !ApolloCollapsedWhereItCounts;
}

/// <summary>
/// Candidate settings of a scale, chosen by measurement (issue 15): <c>experiments/scale-candidates.json</c> has the
/// schema of scales.json, one object per candidate. For each candidate and architecture a Scratch and an Apollo
/// (paper schedule) run are planned like any artifact's runs (one seed), trained through the same jobs and cached in the
/// same runs folder; a candidate identical to the scale in scales.json is that scale, so its runs are shared with the
/// artifacts. The measurement reads the finished runs and times a step.
/// </summary>
public static class ScaleCandidates
{
    public const string FileName = "scale-candidates.json";

    public static Scales Load(string file) => ScalesFile.Read(file);

    public static IReadOnlyList<ScaleCandidate> Plan(Scales candidates, Scale current, RunSettings settings)
    {
        var result = new List<ScaleCandidate>();
        foreach (var candidate in candidates.All)
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            bool same = candidate.Corpus == current.Corpus && candidate.ModelFor(arch) == current.ModelFor(arch)
                        && JsonNode.DeepEquals(RunSpec.KeyedTrain(candidate.TrainFor(arch)), RunSpec.KeyedTrain(current.TrainFor(arch)));
            var scale = same ? current : candidate;
            var definition = new ExperimentDefinition
            {
                Title = $"scale candidate {candidate.Name}",
                Reproduces = "not in the paper: the training shape of a reduced scale",
                Model = arch.ToString().ToLowerInvariant(),
                Seeds = 1,
                Runs = new() { ["scratch"] = new RunDefinition { Method = "scratch" }, ["apollo"] = new RunDefinition { Method = "apollo" } },
            };
            var plan = RunPlanner.Plan(new Experiment($"scale-{candidate.Name}", new Provenance(FileName), scale, definition), settings);
            result.Add(new ScaleCandidate(candidate.Name, arch, same, plan.Of("scratch").Single(), plan.Of("apollo").Single()));
        }
        return result;
    }

    /// <summary>The candidates' runs as jobs (one per distinct run folder).</summary>
    public static IReadOnlyList<Job> Jobs(IReadOnlyList<ScaleCandidate> candidates)
    {
        var jobs = new List<Job>();
        foreach (var c in candidates)
        foreach (var run in new[] { c.Scratch, c.Apollo })
        {
            if (jobs.Any(j => j.Folder == run.Folder)) continue;
            var job = new Job(jobs.Count, run.Spec, run.Folder);
            job.Users.Add($"scale-{c.Name}:{c.Arch.ToString().ToLowerInvariant()}-{run.Name}");
            jobs.Add(job);
        }
        return jobs;
    }

    /// <summary>Measures every candidate whose two runs are finished and whole; the others are skipped.</summary>
    public static IReadOnlyList<CandidateMeasurement> Measure(IReadOnlyList<ScaleCandidate> candidates, RunSettings settings, int timedThreads, Action<string>? log = null)
    {
        var timed = new Dictionary<string, (double Seconds, double Speed)>();
        var result = new List<CandidateMeasurement>();
        foreach (var c in candidates)
        {
            if (!RunExecutor.IsComplete(c.Scratch.Folder) || !RunExecutor.IsComplete(c.Apollo.Folder)) continue;
            var spec = c.Scratch.Spec;
            var tokens = RunExecutor.Tokens(spec.Corpus, spec.Model.Vocab, settings.Cache);
            var heldOut = RunExecutor.HeldOut(tokens, spec.Arch, spec.Train.BatchSize, spec.Model.SeqLen, spec.Train.EvalBatches);
            var shape = $"{spec.Arch} {spec.Model} {spec.Train.BatchSize}x{spec.Train.Accumulation} {spec.Train.Precision} dropout {spec.Train.Dropout}";
            if (!timed.TryGetValue(shape, out var time))
            {
                log?.Invoke($"timing a {spec.Arch} step of candidate {c.Name} at {timedThreads} threads");
                timed[shape] = time = TimeStep(spec, tokens, heldOut, timedThreads);
            }
            var scratch = Evals(c.Scratch.Folder);
            var apollo = Evals(c.Apollo.Folder);
            long steps = spec.Train.Steps;
            double At(IReadOnlyList<EvalRecord> evals, double fraction) => Interpolate(evals, fraction * steps);
            var firstEnd = Apollo(c).Schedule.Ends[0];
            result.Add(new CandidateMeasurement(c, Plateau(tokens, heldOut), time.Seconds, timedThreads, time.Speed,
                At(scratch, 0.05), At(scratch, 0.25), scratch[^1].ValidLoss, At(apollo, firstEnd), apollo[^1].ValidLoss,
                CollapseDetector.FirstCollapse(apollo)?.Step, RecoveredAt(apollo), apollo.LastOrDefault(x => x.Step <= firstEnd * steps)?.HiddenSpread ?? double.NaN,
                Saving(apollo, scratch[^1].Flops, scratch[^1].ValidLoss), Saving(apollo, 0.5 * scratch[^1].Flops, At(scratch, 0.5))));
        }
        return result;
    }

    static long? RecoveredAt(IReadOnlyList<EvalRecord> evals) => CollapseDetector.RecoveredAt([.. evals.Select(e => (e.Step, e.HiddenSpread))]);

    static Training.Apollo Apollo(ScaleCandidate c)
        => (Training.Apollo)MethodRegistry.Create("apollo", c.Apollo.Spec.Options, c.Apollo.Spec.Model.Layers);

    /// <summary>A finished run's evaluations (held-out loss, spread, cumulative FLOPs), from its curve.csv.</summary>
    static List<EvalRecord> Evals(string folder) => RunFiles.ReadCurve(folder).Where(r => r.ValidLoss is not null)
        .Select(r => new EvalRecord(r.Step + 1, r.ValidLoss!.Value, r.Flops, r.WallSeconds, r.HiddenSpread ?? double.NaN)).ToList();

    /// <summary>Held-out loss at a step, linear between the evaluations around it.</summary>
    static double Interpolate(IReadOnlyList<EvalRecord> evals, double step)
    {
        if (step <= evals[0].Step) return evals[0].ValidLoss;
        for (int i = 1; i < evals.Count; i++)
            if (evals[i].Step >= step)
            {
                var (a, b) = (evals[i - 1], evals[i]);
                return a.ValidLoss + (b.ValidLoss - a.ValidLoss) * (step - a.Step) / (b.Step - a.Step);
            }
        return evals[^1].ValidLoss;
    }

    /// <summary>
    /// 1 - (FLOPs at which the method's held-out loss first reaches <paramref name="target"/>) / <paramref name="scratchFlops"/>,
    /// Scratch's cost to that target (for its loss at a fraction of its budget: that fraction of its total, as a Scratch
    /// step always costs the same), or null. Until 2026-12-05 this divided by Scratch's total for every target, which
    /// overstated the saving to the mid-budget target (53.8% where it is 7.7%).
    /// </summary>
    internal static double? Saving(IReadOnlyList<EvalRecord> method, double scratchFlops, double target)
    {
        for (int i = 0; i < method.Count; i++)
        {
            if (method[i].ValidLoss > target) continue;
            double flops = method[i].Flops;
            if (i > 0)
            {
                var a = method[i - 1];
                flops = a.Flops + (method[i].Flops - a.Flops) * (a.ValidLoss - target) / (a.ValidLoss - method[i].ValidLoss);
            }
            return 1 - flops / scratchFlops;
        }
        return null;
    }

    /// <summary>
    /// The unigram cross-entropy of the held-out targets under the training split's token frequencies (add-one smoothed):
    /// the loss a model reaches by predicting token frequencies alone.
    /// </summary>
    public static double Plateau(TokenizedCorpus tokens, IReadOnlyList<Batch> heldOut)
    {
        var counts = new double[tokens.VocabSize];
        foreach (var t in tokens.Train) counts[t]++;
        double total = tokens.Train.Length + tokens.VocabSize, sum = 0;
        long n = 0;
        foreach (var batch in heldOut)
            foreach (var label in batch.Labels.data<long>())
            {
                if (label == Batch.IgnoreIndex) continue;
                sum -= Math.Log((counts[label] + 1) / total);
                n++;
            }
        return sum / n;
    }

    /// <summary>Median seconds of a 12-layer Scratch training step (steps 10-30 of a short run) and the calibration speed.</summary>
    static (double Seconds, double Speed) TimeStep(RunSpec spec, TokenizedCorpus tokens, IReadOnlyList<Batch> heldOut, int threads)
    {
        var train = spec.Train with { Steps = 30, EvalEvery = 1000, Threads = threads };
        var stream = new BatchStream(tokens.Train, RunExecutor.ObjectiveOf(spec.Arch), train.BatchSize, spec.Model.SeqLen, tokens.VocabSize, train.Seed);
        using var model = LanguageModel.Create(spec.Model, train.Seed);
        var result = new Trainer(model, new Scratch(), train, stream, heldOut.Take(1).ToList()).Run();
        var seconds = Enumerable.Range(10, 20).Select(i => result.Steps[i].WallSeconds - result.Steps[i - 1].WallSeconds).Order().ToList();
        return (seconds[seconds.Count / 2], result.InitialMachineSpeed);
    }
}
