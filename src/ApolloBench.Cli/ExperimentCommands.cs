using System.CommandLine;
using ApolloBench.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Cli;

/// <summary>`list`, `reproduce` and `report`: the experiment harness over the definitions in experiments/.</summary>
static class ExperimentCommands
{
    static Option<string> ExperimentsDir() => new("--experiments")
    {
        Description = "folder of experiment definitions",
        DefaultValueFactory = _ => ExperimentLoader.DefaultDirectory,
    };

    public static IEnumerable<Command> Build() => [List(), Reproduce(), Report()];

    static Command List()
    {
        var experiments = ExperimentsDir();
        var cmd = new Command("list", "Every experiment definition: what it reproduces, what it needs, its estimated time at each scale (every definition is validated at every scale).");
        cmd.Options.Add(experiments);
        cmd.SetAction(p =>
        {
            var entries = Harness.List(p.GetValue(experiments)!);
            var scales = Scale.All.Select(s => s.Name).ToList();
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

    static Command Reproduce()
    {
        var ids = new Argument<string>("ids") { Description = "an experiment id (table1, fig7, ...), a comma-separated list of ids, or all" };
        var scale = new Option<string>("--scale") { Description = "smoke, cpu, gpu or paper", DefaultValueFactory = _ => "cpu" };
        var seeds = new Option<int?>("--seeds") { Description = "seeds per run (default: the definition's)" };
        var shard = new Option<string?>("--shard") { Description = "k/n: do only jobs k, k+n, k+2n, ... of this invocation" };
        var resume = new Option<bool>("--resume") { Description = "keep reports whose stored definition and scale are unchanged" };
        var output = new Option<string>("--out") { Description = "reports root: writes <out>/<id>/<scale>/ and <out>/README.md", DefaultValueFactory = _ => "reports" };
        var set = new Option<string[]>("--set") { Description = "override a definition key, e.g. --set draws=1000 (repeatable)" };
        var experiments = ExperimentsDir();
        var cmd = new Command("reproduce", "Reproduce paper artifacts from their definitions and render their reports (training-driven artifacts: not implemented yet).");
        cmd.Arguments.Add(ids);
        foreach (var o in new Option[] { scale, seeds, shard, resume, output, set, experiments }) cmd.Options.Add(o);
        cmd.SetAction(p => Harness.Reproduce(p.GetValue(ids)!, new ReproduceOptions
        {
            Experiments = p.GetValue(experiments)!,
            Scale = p.GetValue(scale)!,
            Seeds = p.GetValue(seeds),
            Shard = p.GetValue(shard) is { } s ? Shard.Parse(s) : Shard.All,
            Resume = p.GetValue(resume),
            Out = p.GetValue(output)!,
            Overrides = p.GetValue(set) ?? [],
        }, Console.Out));
        return cmd;
    }

    static Command Report()
    {
        var dirs = new Argument<string[]>("results") { Description = "report folders holding results.json", Arity = ArgumentArity.OneOrMore };
        var index = new Option<string?>("--index") { Description = "also rebuild README.md of this reports root" };
        var experiments = ExperimentsDir();
        var cmd = new Command("report", "Re-render reports from stored results (results.json); never computes or trains.");
        cmd.Arguments.Add(dirs);
        cmd.Options.Add(index);
        cmd.Options.Add(experiments);
        cmd.SetAction(p => Harness.Report(p.GetValue(dirs)!, p.GetValue(index), p.GetValue(experiments)!, Console.Out));
        return cmd;
    }
}
