using System.Globalization;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// A rough estimate of an artifact's training time at a scale, for <c>list</c>: training FLOPs of
/// every run and seed over an assumed sustained rate, plus a fixed start-up per run. FLOPs per token:
/// 3 x (mean executed depth x (24h² + 4Th) + head), head = 2hV (BERT: on 15% of positions); Apollo's
/// mean depth comes from its stage schedule and its sampler's exact mean depth, StackBERT's from its
/// stages, every other method counts the full depth; the calibration adds one full-depth micro-batch step per evaluation. Fine-tuning is counted when a definition caps its examples;
/// probes (seconds) are not.
/// </summary>
public static class TimeEstimate
{
    /// <summary>
    /// Sustained rate on the CPU: the ten 12-layer BERT runs of table4 and fig7 at cpu scale (2,000 steps each, plus
    /// bert2BERT/LiGO's small model) trained 6.25e14 FLOPs in 3,681 s on 2 threads of an AMD EPYC with the MKL dispatch
    /// fix, 170 GFLOP/s (commit fdce051). GPT runs are slower (its full-width head; reports/performance.md).
    /// </summary>
    public const double CpuFlopsPerSecond = 170e9;

    /// <summary>The threads <see cref="CpuFlopsPerSecond"/> was measured at; a run given fewer is estimated at that share of it.</summary>
    public const int CpuRateThreads = 2;

    /// <summary>
    /// The CPU rate a run of <paramref name="threads"/> torch threads is estimated at: <see cref="CpuFlopsPerSecond"/>, in
    /// proportion for fewer threads than it was measured at (one thread: half), and unchanged for more or unset (all cores).
    /// </summary>
    public static double CpuRate(int? threads) => threads is { } t and > 0 and < CpuRateThreads ? CpuFlopsPerSecond * t / CpuRateThreads : CpuFlopsPerSecond;

    /// <summary>Assumed sustained rate on one H100-class GPU (not yet measured).</summary>
    public const double GpuFlopsPerSecond = 2e13;

    /// <summary>Start-up, data loading and evaluation per run.</summary>
    public const double RunOverheadSeconds = 5;

    /// <summary>Estimated training time; null for a pure-math artifact (seconds of computation, no training).</summary>
    public static TimeSpan? Training(Experiment e)
    {
        if (!e.NeedsTraining) return null;
        double seconds = e.Runs.Values.Sum(run => e.Seeds * RunSeconds(e, run));
        return TimeSpan.FromSeconds(seconds + FinetuneSeconds(e));
    }

    /// <summary>
    /// Fine-tuning of a downstream table's runs on the tasks that run by default (the stand-ins), when the definition caps
    /// the examples: epochs x examples training passes (3x a forward) plus one forward over as many evaluation examples,
    /// full sequences through every layer. Uncapped tasks are not counted (their size depends on the data).
    /// </summary>
    static double FinetuneSeconds(Experiment e)
    {
        if (e.Definition.Downstream is not { MaxExamples: { } examples } d) return 0;
        int tasks = d.Tasks!.Values.Count(t => ExperimentValidator.StandInDatasets.Contains(t.Dataset!));
        double total = 0;
        foreach (var name in JobRunner.DownstreamRuns(e))
        {
            var run = e.Runs[name];
            var m = ModelShapes.Resolve(e.Scale, ModelShapes.Parse(run.Model ?? e.Definition.Model!), run.Layers ?? 12, run.HeadsRatio ?? 1);
            double forward = (double)m.SeqLen * m.Layers * (24.0 * m.Hidden * m.Hidden + 4.0 * m.SeqLen * m.Hidden);
            double passes = 3.0 * (d.Epochs ?? 3) * examples + examples;
            double rate = e.Scale.TrainFor(m.Arch).Device.StartsWith("cuda", StringComparison.Ordinal) ? GpuFlopsPerSecond : CpuFlopsPerSecond;
            total += e.Seeds * tasks * (passes * forward / rate + 2);   // + loading the task's data
        }
        return total;
    }

    static double RunSeconds(Experiment e, RunDefinition run)
    {
        var arch = ModelShapes.Parse(run.Model ?? e.Definition.Model!);
        var train = e.Scale.TrainFor(arch);
        var m = ModelShapes.Resolve(e.Scale, arch, run.Layers ?? 12, run.HeadsRatio ?? 1);
        double tokens = train.Steps * (run.Budget ?? 1) * train.BatchSize * train.Accumulation * m.SeqLen;
        var o = run.Options ?? new MethodOptionsDefinition();
        var sampler = run.Method == "apollo" ? DepthSampler.Create(o.Sampler ?? "lvps", o.SamplerK) : null;
        return Seconds(m, train, tokens, MeanDepthFraction(RunPlanner.Schedule(run.Method!, o, m.Layers), sampler, m.Layers));
    }

    /// <summary>
    /// Estimated seconds of one job (what <c>--shard</c> balances): its run's training at the method's mean depth, the
    /// small model a bert2BERT or LiGO run grows from (every shard trains its own: caches are per machine), and its
    /// fine-tunings.
    /// </summary>
    public static double JobSeconds(Job job) => JobSeconds(job, 0);

    /// <summary>
    /// Estimated seconds of what is left of a job once its run has done <paramref name="from"/> of its steps (0 to 1):
    /// the rest of its training at the depths its stages run from there on (a staged run's early steps are shallow, so
    /// it has more than the steps' share left), and its fine-tunings; the small model of bert2BERT or LiGO only when
    /// nothing was trained yet (a checkpoint comes after it).
    /// </summary>
    public static double JobSeconds(Job job, double from)
    {
        from = Math.Clamp(from, 0, 1);
        var spec = job.Spec;
        var m = spec.Model;
        var train = spec.Train;
        var sampler = spec.Method == "apollo" ? DepthSampler.Create(spec.Options.Sampler, spec.Options.SamplerK) : null;
        double seconds = from >= 1 ? 0 : Seconds(m, train, TokensOf(train, m) * (1 - from), MeanDepthFraction(StageSnapshots.Schedule(spec), sampler, m.Layers, from));
        if (from == 0) seconds += SmallModelSeconds(job);
        foreach (var f in job.Finetunes)
        {
            double forward = (double)m.SeqLen * m.Layers * (24.0 * m.Hidden * m.Hidden + 4.0 * m.SeqLen * m.Hidden);
            double examples = f.MaxExamples ?? 0;   // uncapped: the size depends on the data, only the loading is counted
            seconds += (3.0 * (f.Epochs ?? 3) * examples + examples) * forward / Rate(train) + 2;
        }
        return seconds;
    }

    /// <summary>Estimated seconds of the small model a bert2BERT or LiGO job grows from (0 for every other method).</summary>
    public static double SmallModelSeconds(Job job)
    {
        var spec = job.Spec;
        if (spec.Method is not ("bert2bert" or "ligo")) return 0;
        var small = Baselines.SmallModel.ConfigFor(spec.Model, spec.Options.SmallLayersValue ?? spec.Model.Layers);
        return Seconds(small, spec.Train, TokensOf(spec.Train with { Steps = spec.Options.SmallStepsValue(spec.Train.Steps) }, small), 1);
    }

    static double TokensOf(TrainConfig train, ModelConfig m) => (double)train.Steps * train.BatchSize * train.Accumulation * m.SeqLen;

    static double Rate(TrainConfig train) => train.Device.StartsWith("cuda", StringComparison.Ordinal) ? GpuFlopsPerSecond : CpuRate(train.Threads);

    /// <summary>Training time of <paramref name="tokens"/> through a model running <paramref name="depthFraction"/> of its layers on average.</summary>
    static double Seconds(ModelConfig m, TrainConfig train, double tokens, double depthFraction)
    {
        double layer = 24.0 * m.Hidden * m.Hidden + 4.0 * m.SeqLen * m.Hidden;
        double head = 2.0 * m.Hidden * m.Vocab * (m.Arch == Architecture.Bert ? 0.15 : 1);
        double perToken = 3 * (depthFraction * m.Layers * layer + head);
        // The calibration: one full-depth micro-batch step at every evaluation, plus a warm-up and a first measurement.
        double steps = tokens / ((double)train.BatchSize * train.Accumulation * m.SeqLen);
        double calibrationTokens = (Math.Ceiling(steps / Math.Max(1, train.EvalEvery)) + 2) * train.BatchSize * m.SeqLen;
        double fullPerToken = 3 * (m.Layers * layer + head);
        return (tokens * perToken + calibrationTokens * fullPerToken) / Rate(train) + RunOverheadSeconds;
    }

    /// <summary>
    /// Expected executed depth over the run from <paramref name="from"/> (a fraction of its steps) to its end, as a
    /// fraction of the full depth (1 without a stage schedule).
    /// </summary>
    static double MeanDepthFraction(StageSchedule? schedule, DepthSampler? sampler, int layers, double from = 0)
    {
        if (schedule is null || from >= 1) return 1;
        double fraction = 0, start = 0;
        for (int s = 0; s < schedule.Count; s++)
        {
            int n = schedule.Layers[s];
            double depth = sampler?.MeanDepth(n, layers) ?? n;
            fraction += Math.Max(0, schedule.Ends[s] - Math.Max(start, from)) * depth / layers;
            start = schedule.Ends[s];
        }
        return fraction / (1 - from);
    }

    /// <summary>"seconds" for pure math; otherwise "~40 s", "~12 min", "~3.5 h", "~26 d".</summary>
    public static string Format(TimeSpan? t) => Runs.ProgressText.Duration(t);
}
