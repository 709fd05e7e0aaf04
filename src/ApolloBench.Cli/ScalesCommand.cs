using System.CommandLine;
using System.Globalization;
using ApolloBench.Experiments;
using ApolloBench.Reports;

namespace ApolloBench.Cli;

/// <summary>
/// `scales`: trains (or reuses) a Scratch and an Apollo run of every candidate in experiments/scale-candidates.json and
/// writes the measured comparison into reports/scales.md, so a reduced scale is chosen by measurement (issue 15).
/// </summary>
static class ScalesCommand
{
    public static Command Build()
    {
        var experiments = new Option<string?>("--experiments") { Description = "folder of definitions holding scales.json and scale-candidates.json (default: experiments/ of the checkout around the current folder)" };
        var candidates = new Option<string?>("--candidates") { Description = $"candidate scales, the schema of scales.json (default: <experiments>/{ScaleCandidates.FileName})" };
        var scale = new Option<string>("--scale") { Description = "the scale the candidates are for (a candidate equal to it shares its runs with the artifacts)", DefaultValueFactory = _ => "cpu" };
        var runs = new Option<string?>("--runs") { Description = "runs root (default: runs/ of the checkout, the artifacts' runs folder)" };
        var cache = new Option<string?>("--cache") { Description = "cache folder (default: $APOLLOBENCH_CACHE or ~/.cache/apollobench)" };
        var corpus = new Option<string?>("--corpus") { Description = "pre-training corpus: a path, or a corpus the suite fetches: sotu, brown, sotu+brown (default: the scale's)" };
        var threads = new Option<int?>("--threads") { Description = "torch threads of the runs (default: all cores)" };
        var timeThreads = new Option<int>("--time-threads") { Description = "threads the step time is measured at", DefaultValueFactory = _ => 2 };
        var shard = new Option<string?>("--shard") { Description = "k/n: train only jobs k, k+n, ... (the table is written once every run exists)" };
        var resume = new Option<bool>("--resume") { Description = "continue unfinished runs from their checkpoints" };
        var checkpointEvery = new Option<double?>("--checkpoint-every") { Description = "seconds between checkpoints (default 180)" };
        var output = new Option<string?>("--out") { Description = "the page whose marked section receives the table (default: reports/scales.md of the checkout)" };
        var passes = new Option<bool>("--passes") { Description = "train nothing: tokenise every scale's default corpus and write the passes each scale makes over it (its own marked section)" };
        var cmd = new Command("scales", "Measure candidate settings of a reduced scale: Scratch and Apollo (paper schedule) runs of each, the plateau, step time, collapse; writes the table into reports/scales.md.");
        foreach (var o in new Option[] { experiments, candidates, scale, runs, cache, corpus, threads, timeThreads, shard, resume, checkpointEvery, output, passes }) cmd.Options.Add(o);
        cmd.SetAction(p =>
        {
            var dir = Repository.Experiments(p.GetValue(experiments));
            if (p.GetValue(passes))
            {
                var rows = ScalePassesTable.Compute(Scales.Load(dir), p.GetValue(cache) ?? ReproduceOptions.DefaultCache(), Console.WriteLine);
                var page = p.GetValue(output) ?? Path.Combine(Repository.Reports(dir), "scales.md");
                ScaleReport.Write(page, ScaleReport.PassesSection(rows, Context("", "")), ScaleReport.PassesBegin, ScaleReport.PassesEnd);
                foreach (var r in rows)
                    Console.WriteLine($"{r.Scale} {r.Arch}: {r.Passes.PassesText} passes over {r.Corpus} ({r.Passes.TrainedTokens:N0} / {r.Passes.CorpusTokens:N0} tokens)");
                Console.WriteLine($"wrote {page}");
                return 0;
            }
            var current = Scales.Load(dir).Get(p.GetValue(scale)!);
            var candidateFile = p.GetValue(candidates) ?? Path.Combine(dir, ScaleCandidates.FileName);
            var settings = new RunSettings
            {
                Runs = p.GetValue(runs) ?? Repository.Runs(dir), Cache = p.GetValue(cache) ?? ReproduceOptions.DefaultCache(), Threads = p.GetValue(threads), Corpus = p.GetValue(corpus),
                CheckpointEvery = p.GetValue(checkpointEvery) is { } s ? Core.Durations.Seconds("--checkpoint-every", s, zeroAllowed: true) : null,
            };
            if (p.GetValue(timeThreads) < 1) throw new Core.UsageException($"--time-threads: must be >= 1 (got {p.GetValue(timeThreads)})");
            var planned = ScaleCandidates.Plan(ScaleCandidates.Load(candidateFile), current, settings);
            var jobs = ScaleCandidates.Jobs(planned);
            JobRunner.Validate(jobs, settings);
            foreach (var warning in JobRunner.PassWarnings(jobs, settings, Console.WriteLine)) Console.WriteLine(warning);
            JobRunner.Run(jobs, settings, p.GetValue(shard) is { } k ? Shard.Parse(k) : Shard.All, p.GetValue(resume), Console.Out);
            var measured = ScaleCandidates.Measure(planned, settings, p.GetValue(timeThreads), Console.WriteLine);
            if (measured.Count < planned.Count)
            {
                Console.WriteLine($"{planned.Count - measured.Count} of {planned.Count} candidates still lack a finished run; the table is written once every shard has finished");
                return 0;
            }
            var context = Context(current.Name, "cpu");
            var file = p.GetValue(output) ?? Path.Combine(Repository.Reports(dir), "scales.md");
            ScaleReport.Write(file, ScaleReport.Section(current.Name, measured, context));
            foreach (var m in measured)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{m.Candidate.Name} {m.Candidate.Arch}: plateau {m.Plateau:F3}, Scratch {m.ScratchAt5:F3} / {m.ScratchAt25:F3} / {m.ScratchFinal:F3}, Apollo {m.ApolloFinal:F3}{(m.ApolloCollapsedAtStep is { } c ? $" collapsed at step {c}" + (m.ApolloRecoveredAtStep is { } r ? $", recovered by step {r}" : ", never recovered") : "")}, {m.SecondsPerStep:F3} s/step: {(m.Passes ? "passes" : "fails")}"));
            Console.WriteLine($"wrote {file}");
            return 0;
        });
        return cmd;
    }

    static ReportContext Context(string scale, string device) => new()
    {
        Scale = scale, Device = device, Seeds = "1", Commit = ReportEnvironment.Commit(), Machine = ReportEnvironment.Machine(),
        Created = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
    };
}
