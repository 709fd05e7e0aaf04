using System.CommandLine;
using System.Globalization;
using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Training;
using Spectre.Console;

namespace ApolloBench.Cli;

/// <summary>`list`, `reproduce` and `report`: the experiment harness over the definitions in experiments/.</summary>
static class ExperimentCommands
{
    static Option<string?> ExperimentsDir() => new("--experiments")
    {
        Description = "folder of experiment definitions (default: experiments/ of the checkout around the current folder)",
    };

    public static IEnumerable<Command> Build() => [List(), Reproduce(), Report(), Records()];

    static Command List()
    {
        var experiments = ExperimentsDir();
        var cmd = new Command("list", "Every experiment definition: what it reproduces, what it needs, its estimated time at each scale (every definition is validated at every scale).");
        cmd.Options.Add(experiments);
        cmd.SetAction(p =>
        {
            var dir = Repository.Experiments(p.GetValue(experiments));
            var entries = Harness.List(dir);
            var scales = Scales.Load(dir).Names;
            string[] header = ["id", "reproduces", "needs", .. scales];
            var rows = entries.Select(e => (string[])[e.Id, e.Reproduces, e.Needs, .. scales.Select(s => e.Estimates[s])]).ToList();
            var widths = header.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
            string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i]))).TrimEnd();
            Console.WriteLine(Line(header));
            foreach (var row in rows) Console.WriteLine(Line(row));
            Console.WriteLine("Times are estimates of training alone (TimeEstimate.cs); pure-math artifacts take seconds at every scale.");
            return 0;
        });
        return cmd;
    }

    /// <summary>The options <c>reproduce</c> and <c>report</c> share: where runs live and how they are resolved.</summary>
    sealed class RunOptions
    {
        public readonly Option<string> Scale = new("--scale") { Description = "smoke, cpu, gpu or paper", DefaultValueFactory = _ => "cpu" };
        public readonly Option<int?> Seeds = new("--seeds") { Description = "seeds per run (default: the definition's at this scale)" };
        public readonly Option<string?> Output = new("--out") { Description = "reports root: writes <out>/<id>/<scale>/ and <out>/README.md (default: out/reports/ of the checkout, git-ignored; --out reports updates the committed reports)" };
        public readonly Option<string[]> Set = new("--set") { Description = "override a definition key, e.g. --set draws=1000 (repeatable)" };
        public readonly Option<string?> Runs = new("--runs") { Description = "runs root: one folder per resolved run, shared by every artifact (default: runs/ of the checkout)" };
        public readonly Option<string?> Cache = new("--cache") { Description = "cache folder: corpora, tokens, small-model dependency runs (default: $APOLLOBENCH_CACHE or ~/.cache/apollobench)" };
        public readonly Option<string?> Corpus = new("--corpus") { Description = "pre-training corpus: text file, folder of .txt, .jsonl or .parquet, or a corpus the suite fetches: sotu, brown, sotu+brown (default: the scale's, scales.json)" };
        public readonly Option<int?> Threads = new("--threads") { Description = "torch threads of every run (default: all cores); recorded in each manifest, not part of a run's key (--resume refuses another count: only the same count is bit-identical)" };
        public readonly Option<string?> DataDir = new("--data-dir") { Description = "GLUE task folders and SQuAD files for downstream tables (default: the stand-in tasks only)" };
        public readonly Option<string?> Experiments = ExperimentsDir();

        public IEnumerable<Option> All => [Scale, Seeds, Output, Set, Runs, Cache, Corpus, Threads, DataDir, Experiments];

        /// <summary>The options as given; the definitions folder and the reports root default to the checkout's (<see cref="Repository"/>).</summary>
        public ReproduceOptions Read(ParseResult p) => Read(p, Repository.Experiments(p.GetValue(Experiments)));

        ReproduceOptions Read(ParseResult p, string experiments) => new()
        {
            Experiments = experiments,
            Scale = p.GetValue(Scale)!,
            Seeds = p.GetValue(Seeds),
            Out = p.GetValue(Output) ?? Repository.DefaultOut(experiments),
            Overrides = p.GetValue(Set) ?? [],
            Runs = p.GetValue(Runs),
            Cache = p.GetValue(Cache),
            Corpus = p.GetValue(Corpus),
            Threads = p.GetValue(Threads),
            DataDir = p.GetValue(DataDir),
        };
    }

    static Command Reproduce()
    {
        var ids = new Argument<string>("ids") { Description = "an experiment id (table1, fig7, ...), a comma-separated list of ids, or all" };
        var shard = new Option<string?>("--shard") { Description = "k/n: train only the k-th of n shares of the jobs (distinct runs), split by estimated training time so the shards finish together; a report is rendered once all its runs exist. Without it, processes started alike on one --runs folder share the runs as they go: a run another one trains is put off, then waited for and reused" };
        var resume = new Option<bool>("--resume") { Description = "continue unfinished runs from their checkpoints (finished runs are always reused); keep unchanged pure-math reports" };
        var checkpointEvery = new Option<double?>("--checkpoint-every") { Description = "seconds between checkpoints of a training run (default 180)" };
        var status = new Option<bool>("--status") { Description = "train nothing: say where each run stands (finished, training now, stopped at step N, not started), the estimated training left, and which artifacts are ready to report" };
        var timeLimit = new Option<double?>("--time-limit")
        {
            Description = "minutes: start no run that would not finish within them (its estimate at the finished runs' pace, with a tenth to spare); " +
                          "the next run that fits is taken, the rest are left for a later call (a session or CI job with a time limit)",
        };
        var fromRecords = new Option<bool>("--from-records")
        {
            Description = "read a run that a committed report (reports/<id>/<scale>/runs/, any artifact's) or records/<scale>/ holds from its record instead of training it " +
                          "(a whole record of the same run key; not for artifacts that probe weights or fine-tune): continues a long reproduction on a fresh machine",
        };
        var options = new RunOptions();
        var cmd = new Command("reproduce", "Reproduce paper artifacts from their definitions: train the runs they need (cached, shared between artifacts) and render their reports.");
        cmd.Arguments.Add(ids);
        foreach (var o in options.All.Concat([shard, resume, checkpointEvery, status, fromRecords, timeLimit, StopSignals.StopAfterOption()])) cmd.Options.Add(o);
        cmd.SetAction((p, stop) => Task.FromResult(p.GetValue(status) ? Harness.Status(p.GetValue(ids)!, options.Read(p) with { FromRecords = p.GetValue(fromRecords) }, Console.Out) : Harness.Reproduce(p.GetValue(ids)!, options.Read(p) with
        {
            FromRecords = p.GetValue(fromRecords),
            TimeLimit = p.GetValue(timeLimit) is { } minutes ? Durations.Minutes("--time-limit", minutes) : null,
            Shard = p.GetValue(shard) is { } s ? Shard.Parse(s) : Shard.All,
            Resume = p.GetValue(resume),
            CheckpointEvery = p.GetValue(checkpointEvery),
        }, Console.Out, ProgressDriver, stop)));
        return cmd;
    }

    static Command Report()
    {
        var targets = new Argument<string[]>("targets") { Description = "report folders holding results.json (re-rendered), or experiment ids, comma-separated lists of them, or all (rendered from their stored runs)", Arity = ArgumentArity.OneOrMore };
        var index = new Option<string?>("--index") { Description = "also rebuild README.md of this reports root (for experiment ids: --out's)" };
        var strict = new Option<bool>("--strict") { Description = "exit 1 when an artifact could not be rendered because runs or results are missing (default: render what can be, list the rest, exit 0)" };
        var interim = new Option<bool>("--interim") { Description = "render an artifact whose runs have not all finished from those that have, as an interim report naming the rest (artifacts that pair runs explicitly, such as budget; not those with a savings target, probes or fine-tuning); a full render replaces it" };
        var options = new RunOptions();
        var cmd = new Command("report", "Render reports from stored results only: re-render a report folder from its results.json, or render experiments from their finished runs (what every shard trained); never trains. Renders every artifact whose runs exist and names what the others miss.");
        cmd.Arguments.Add(targets);
        cmd.Options.Add(index);
        cmd.Options.Add(strict);
        cmd.Options.Add(interim);
        foreach (var o in options.All) cmd.Options.Add(o);
        cmd.SetAction(p => Harness.Report(p.GetValue(targets)!, options.Read(p), p.GetValue(index), Console.Out, p.GetValue(strict), p.GetValue(interim)));
        return cmd;
    }

    static Command Records()
    {
        var ids = new Argument<string>("ids") { Description = "an experiment id, a comma-separated list of ids, or all: whose finished runs to keep" };
        var to = new Option<string?>("--to") { Description = "records root: writes <to>/<scale>/<run folder>/ (default: records/ of the checkout, committed)" };
        var options = new RunOptions();
        var cmd = new Command("records", "Keep the records (manifest, curve, growth, ledger; never weights) of the finished runs of artifacts in records/<scale>/, except those a " +
                                         "committed report holds, so that a fresh clone continues a long reproduction with `reproduce --from-records`; trains nothing.");
        cmd.Arguments.Add(ids);
        cmd.Options.Add(to);
        foreach (var o in options.All) cmd.Options.Add(o);
        cmd.SetAction(p => Harness.Records(p.GetValue(ids)!, options.Read(p), p.GetValue(to), Console.Out));
        return cmd;
    }

    /// <summary>A progress bar per run (Spectre.Console; plain periodic lines when the output is redirected).</summary>
    static RunResult ProgressDriver(Trainer trainer, Checkpointing checkpoints, string description, long steps, Action<StepRecord, EvalRecord?> onStep)
    {
        // Output to a file or pipe (a queue's log): plain lines with the rate and time left, which a redrawn bar cannot leave there.
        if (!AnsiConsole.Profile.Capabilities.Interactive) return JobRunner.PlainDriver(Console.Out)(trainer, checkpoints, description, steps, onStep);
        RunResult? result = null;
        double valid = double.NaN;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(description, maxValue: steps);
                result = trainer.Run(checkpointing: checkpoints, onStep: (s, e) =>
                {
                    onStep(s, e);
                    if (e is not null) valid = e.ValidLoss;
                    task.Description = JobRunner.StepText(description, s, steps, valid);
                    task.Value = s.Step + 1;
                });
            });
        return result!;
    }
}
