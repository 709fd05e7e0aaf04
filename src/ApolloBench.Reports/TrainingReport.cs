using System.Globalization;
using System.Text;
using ApolloBench.Experiments;

namespace ApolloBench.Reports;

/// <summary>
/// The sections of a report that come from training runs: the runs, savings, loss curves, probes and fine-tuning
/// scores, each beside the paper's numbers. Pure functions of <see cref="ArtifactResults"/>, like the rest of
/// <see cref="ReportBuilder"/>.
/// </summary>
public static class TrainingReport
{
    static readonly CultureInfo C = CultureInfo.InvariantCulture;

    // ---- paper vs reproduced ------------------------------------------------------------------

    /// <summary>The header comparison: savings at the full-budget target, probe numbers, beside the paper's.</summary>
    public static void Comparison(StringBuilder md, ArtifactResults r, Experiment e)
    {
        var full = r.Savings.Where(s => s.Targets.Any(t => t.Fraction == 1)).ToList();
        if (full.Count > 0)
        {
            md.AppendLine($"Savings to Scratch's final {LossName(e)} (target = Scratch at 100% of its budget; mean [95% bootstrap interval] over seeds {r.Context.Seeds}):").AppendLine();
            md.Append(ReportBuilder.Table(["method", "paper FLOPs saving", "reproduced FLOPs saving", "paper wall saving", "reproduced wall saving"],
                full.Select(s =>
                {
                    var t = s.Targets.First(x => x.Fraction == 1);
                    // The note goes with the first paper number, or in the FLOPs column when there is none (never twice).
                    var paperFlops = s.PaperFlops is null && s.PaperWall is not null ? "-" : PaperPercent(s.PaperFlops, s.PaperNote);
                    var paperWall = s.PaperWall is null ? "-" : PaperPercent(s.PaperWall, s.PaperFlops is null ? s.PaperNote : null);
                    return new[] { s.Label, paperFlops, SavingsTable.Format(t.Flops), paperWall, SavingsTable.Format(t.Wall) };
                }))).AppendLine();
            if (PlateauWarning(r) is { } warning) md.AppendLine(warning).AppendLine();
            HeldOutComparison(md, r);
        }
        if (r.Probes.Count > 0)
        {
            md.AppendLine($"Probes ({r.Probes[0].Samples} held-out sequences; gradient = mean +- std of |gradient| over parameters, x1e-3):").AppendLine();
            md.Append(ProbeTable(r, e, e.Definition.Probe!.Rows!.Keys.ToList())).AppendLine();
        }
        md.AppendLine("Runs (one folder each under the runs root; a run shared with other artifacts is trained once):").AppendLine();
        md.Append(ReportBuilder.Table(["run", "method", "seed", "steps", "training FLOPs", "training s", "final train loss", "final valid loss", "folder"],
            r.Runs.Select(x => new[]
            {
                x.Label, x.Method, I(x.Seed), I(x.Steps), Sci(x.Flops), N(x.WallSeconds, "0"), N(x.FinalTrainLoss, "0.000"), N(x.FinalValidLoss, "0.000"), $"`{x.Folder}`",
            }))).AppendLine();
        if (RateWarning(r) is { } rates) md.AppendLine(rates).AppendLine();
        foreach (var d in r.Dependencies)
        {
            md.AppendLine($"{d.Label} (`{d.Run}`) is not a run folder of its own: it is the small model that {string.Join(" and ", d.Consumers)} grow{(d.Consumers.Count == 1 ? "s" : "")} from, " +
                          "trained once per seed by their dependency mechanism (same shape, steps, seed and data), cached, and charged in their ledgers as a cost not counted in the run:").AppendLine();
            md.Append(ReportBuilder.Table(["charged to", "seed", "ledger entry", "FLOPs", "s"],
                d.Ledger.Select(l => new[] { l.Consumer, I(l.Seed), l.What, Sci(l.Flops), N(l.Seconds, "0") }))).AppendLine();
        }
    }

    /// <summary>
    /// The same savings to Scratch's held-out loss, at every target: the held-out loss is measured on the same fixed
    /// batches at each evaluation, so it needs no smoothing and is far less noisy than a short run's training loss.
    /// </summary>
    static void HeldOutComparison(StringBuilder md, ArtifactResults r)
    {
        if (r.HeldOutSavings.Count == 0) return;
        var fractions = r.HeldOutSavings[0].Targets.Select(t => t.Fraction).OrderByDescending(f => f).ToList();
        string Percent(double f) => N(100 * f, "0") + "%";
        md.AppendLine("The same savings to Scratch's **held-out** loss (not the paper's measure; evaluated on the same fixed held-out batches " +
                      "for every run, a run's cost interpolated linearly between the two evaluations around its first reach), " +
                      $"FLOPs / wall time, at Scratch's loss at {string.Join(", ", fractions.Select(Percent))} of its budget:").AppendLine();
        string Cell(SavingsResult s, double f)
        {
            var t = s.Targets.First(x => x.Fraction == f);
            return $"{SavingsTable.Format(t.Flops)} / {SavingsTable.Format(t.Wall)}";
        }
        md.Append(ReportBuilder.Table(["method", .. fractions.Select(f => $"target = Scratch at {Percent(f)}")],
            r.HeldOutSavings.Select(s => (string[])[s.Label, .. fractions.Select(f => Cell(s, f))]))).AppendLine();
        var seed = r.HeldOutSavings[0].PerSeed.Select(p => p.Seed).First();
        var levels = r.HeldOutSavings[0].PerSeed.Where(p => p.Seed == seed).OrderBy(p => p.Fraction).Select(p => N(p.TargetLoss, "0.000"));
        md.AppendLine($"Scratch's held-out loss at those fractions (seed {I(seed)}, in budget order): {string.Join(" / ", levels)}.").AppendLine();
    }

    /// <summary>
    /// Runs may differ in speed (FLOPs per second) by at most this factor before the report cautions. On an idle machine
    /// the methods differ by about 10% (table4 at cpu scale: 166-181 GFLOP/s over five methods); this project's 2-core
    /// machine has also run the same shapes at the same depth 1.46x faster in one run than in another an hour or two
    /// apart (each run steady within itself), which a wall-time saving would credit to the method.
    /// </summary>
    public const double RateSpreadLimit = 1.3;

    /// <summary>
    /// A caution when the runs' training speeds differ by more than <see cref="RateSpreadLimit"/>: the machine was
    /// shared, or its speed changed, while some ran, and wall-time savings mix the method with the machine.
    /// </summary>
    public static string? RateWarning(ArtifactResults r)
    {
        var rates = r.Runs.Where(x => x.WallSeconds > 0).Select(x => (x.Label, x.Seed, Rate: x.Flops / x.WallSeconds)).ToList();
        if (rates.Count < 2) return null;
        var (slow, fast) = (rates.MinBy(x => x.Rate), rates.MaxBy(x => x.Rate));
        if (fast.Rate <= RateSpreadLimit * slow.Rate) return null;
        return $"**Caution:** training speed ranges from {N(slow.Rate / 1e9, "0.0")} GFLOP/s ({slow.Label}, seed {I(slow.Seed)}) to {N(fast.Rate / 1e9, "0.0")} GFLOP/s " +
               $"({fast.Label}, seed {I(fast.Seed)}); methods differ by about 10% in speed, not this much, so the machine was shared or ran at another speed while some trained, and the wall-time savings mix the method with the machine (FLOPs savings are unaffected).";
    }

    /// <summary>
    /// A caution when Scratch's loss at a later target is not below an earlier one (first seed): its curve has flattened,
    /// and a saving to a flat level measures where noisy curves first touch it, not how much faster a method learns.
    /// </summary>
    public static string? PlateauWarning(ArtifactResults r)
    {
        if (r.Savings.Count == 0) return null;
        var seed = r.Savings[0].PerSeed.Select(p => p.Seed).First();
        var targets = r.Savings[0].PerSeed.Where(p => p.Seed == seed).OrderBy(p => p.Fraction).ToList();
        for (int i = 1; i < targets.Count; i++)
        {
            if (targets[i].TargetLoss < targets[i - 1].TargetLoss) continue;
            return $"**Caution:** Scratch's loss is not lower at {N(100 * targets[i].Fraction, "0")}% of its budget than at {N(100 * targets[i - 1].Fraction, "0")}% " +
                   $"({N(targets[i].TargetLoss, "0.000")} vs {N(targets[i - 1].TargetLoss, "0.000")}, seed {I(seed)}, targets {string.Join(" / ", targets.Select(t => N(t.TargetLoss, "0.000")))}): " +
                   "its curve has flattened, so the savings to the later targets measure where flat, noisy curves first touch a level, not how much faster a method learns.";
        }
        return null;
    }

    static string LossName(Experiment e) => e.TargetsTrainingLoss ? "training loss (smoothed)" : "held-out loss";

    static string PaperPercent(double? value, string? note) => value is { } v
        ? N(v, "0.0") + "%" + (note is null ? "" : $" ({note})")
        : note ?? "-";

    // ---- outputs ------------------------------------------------------------------------------

    public static void Output(StringBuilder md, List<Figure> figures, string key, OutputDefinition output, ArtifactResults r, Experiment e)
    {
        var title = output.Title ?? key;
        switch (output.Type)
        {
            case "loss-vs-flops" or "loss-vs-wall":
            {
                bool wall = output.Type == "loss-vs-wall";
                var runs = e.Included(output, e.Runs.Keys).Where(n => r.Curves.Any(c => c.Run == n)).ToList();
                bool train = e.TargetsTrainingLoss;
                var figure = LossFigure($"{key}.png", title, r, runs, wall, train, r.Savings);
                figures.Add(figure);
                md.AppendLine($"![{title}]({figure.File})").AppendLine();
                var seed = r.Curves.Select(c => c.Seed).FirstOrDefault();
                md.AppendLine($"{Capital(LossName(e))} against {(wall ? "training wall-clock seconds" : "training FLOPs")}, seed {I(seed)}; " +
                              "the flat line is Scratch's final loss (the 100% target), circles mark where each run first reaches it.");
                if (train && r.HeldOutSavings.Count > 0)
                {
                    var heldOut = LossFigure($"{key}-heldout.png", $"{title} (held-out loss)", r, runs, wall, train: false, r.HeldOutSavings);
                    figures.Add(heldOut);
                    md.AppendLine().AppendLine($"![{title} (held-out loss)]({heldOut.File})").AppendLine();
                    md.AppendLine("The same runs' held-out loss at each evaluation, with Scratch's final held-out loss and each run's first reach of it.");
                }
                var skipped = e.Included(output, e.Runs.Keys).Except(runs).ToList();
                if (skipped.Count > 0) md.AppendLine().AppendLine($"Not plotted: {string.Join(", ", skipped)} (a dependency run, see above).");
                break;
            }
            case "savings-table":
            {
                var names = e.Included(output, e.Runs.Keys);
                var rows = r.Savings.Where(s => names.Contains(s.Run)).Select(s => new SavingsRow(s.Label, s.PaperFlops, s.PaperWall, s.PaperNote, s.Targets)).ToList();
                md.AppendLine("FLOPs:").AppendLine().Append(SavingsTable.Render(rows, wall: false)).AppendLine();
                md.AppendLine("Wall-clock time:").AppendLine().Append(SavingsTable.Render(rows, wall: true));
                break;
            }
            case "probe-table":
                md.Append(ProbeTable(r, e, e.Included(output, e.Definition.Probe!.Rows!.Keys)));
                break;
            case "activation-histogram":
            {
                var rows = e.Included(output, e.Definition.Probe!.Rows!.Keys);
                var figure = HistogramFigure($"{key}.png", title, r, rows);
                figures.Add(figure);
                md.AppendLine($"![{title}]({figure.File})").AppendLine();
                md.Append(ReportBuilder.Table(["model", "paper", "mean activation", "std of activations", "sequences"],
                    rows.SelectMany(row => r.Probes.Where(p => p.Row == row)).Select(p => new[]
                    {
                        p.Label + SeedSuffix(r, p.Seed), e.Definition.Probe!.Rows![p.Row].Paper?.Note ?? "-", N(p.ActivationMean, "0.0000"), N(p.ActivationStd, "0.0000"), I(p.Samples),
                    })));
                break;
            }
            case "downstream-table":
                md.Append(DownstreamTable(r, e, e.Included(output, e.Runs.Keys)));
                break;
        }
    }

    static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    static string SeedSuffix(ArtifactResults r, long seed) => r.Probes.Select(p => p.Seed).Distinct().Count() > 1 ? $" (seed {I(seed)})" : "";

    static string ProbeTable(ArtifactResults r, Experiment e, IReadOnlyList<string> rows)
    {
        var rowDefs = e.Definition.Probe!.Rows!;
        var body = rows.Select(row =>
        {
            var ps = r.Probes.Where(p => p.Row == row).ToList();
            var paper = rowDefs[row].Paper;
            string Mean(Func<ProbeResult, double> f, string format) => ps.Count == 0 ? "-" : N(ps.Average(f), format);
            var grad = ps.Count == 0 ? "-" : $"{Mean(p => p.GradMean, "0.00")} +- {Mean(p => p.GradStd, "0.00")}";
            var paperGrad = paper?.GradMean is { } gm ? $"{N(gm, "0.00")} +- {N(paper.GradStd ?? 0, "0.00")}" : "-";
            return new[]
            {
                rowDefs[row].Label ?? row, paper?.Loss is { } l ? N(l, "0.00") : paper?.Note ?? "-", Mean(p => p.Loss, "0.00"), paperGrad, grad,
                ps.Count == 0 ? "-" : ps[0].Plan,
            };
        });
        var seeds = r.Probes.Select(p => p.Seed).Distinct().Count();
        return ReportBuilder.Table(["model", "paper loss", seeds > 1 ? $"loss (mean of {seeds} seeds)" : "loss", "paper gradient x1e-3", "gradient x1e-3", "weights run by layers 1..L"], body);
    }

    static string DownstreamTable(ArtifactResults r, Experiment e, IReadOnlyList<string> runs)
    {
        var tasks = e.Definition.Downstream!.Tasks!;
        var groups = tasks.Values.Select(t => t.Group).OfType<string>().Distinct().ToList();
        string[] header =
        [
            "method", "numbers", "FLOPs saving", "wall saving",
            .. tasks.Select(t => t.Value.Label ?? t.Key),
            .. groups.Select(g => $"{GroupName(g)} avg."),
        ];
        var rows = new List<string[]>();
        foreach (var name in runs)
        {
            var def = e.Runs[name];
            var label = def.Label ?? name;
            var paper = def.Paper;
            var saving = r.Savings.FirstOrDefault(s => s.Run == name && !s.WithDependency)?.Targets.FirstOrDefault(t => t.Fraction == 1);
            rows.Add([
                label, "paper", paper?.FlopsSaving is { } pf ? N(pf, "0.0") + "%" : "-", paper?.WallSaving is { } pw ? N(pw, "0.0") + "%" : "-",
                .. tasks.Select(t => paper?.Tasks is { } pt && pt.TryGetValue(t.Key, out var v) ? N(v, "0.00") : "-"),
                .. groups.Select(g => paper?.Groups is { } pg && pg.TryGetValue(g, out var v) ? N(v, "0.00") : "-"),
            ]);
            var scores = tasks.ToDictionary(t => t.Key, t => r.Downstream.Where(d => d.Run == name && d.Task == t.Key).ToList());
            double? Mean(string task) => scores[task] is { Count: > 0 } s && s.All(d => d.Value is not null) ? s.Average(d => d.Value!.Value) : null;
            rows.Add([
                label, $"reproduced ({r.Context.Scale})",
                saving is null ? (name == e.Definition.Target?.Reference ? "reference" : "-") : SavingsTable.Format(saving.Flops),
                saving is null ? (name == e.Definition.Target?.Reference ? "reference" : "-") : SavingsTable.Format(saving.Wall),
                .. tasks.Select(t => Mean(t.Key) is { } m ? N(m, "0.00") : scores[t.Key].FirstOrDefault()?.Status is { } status ? Short(status) : "-"),
                .. groups.Select(g =>
                {
                    var members = tasks.Where(t => t.Value.Group == g).Select(t => Mean(t.Key)).ToList();
                    return members.All(m => m is not null) ? N(members.Average(m => m!.Value), "0.00") : "needs every task";
                }),
            ]);
        }
        var md = new StringBuilder(ReportBuilder.Table(header, rows));
        md.AppendLine();
        md.AppendLine("Group averages are over the tasks of the group, only when every one of them was run; stand-in tasks (not in the paper) belong to no group and are never averaged into GLUE or SQuAD.");
        var notRun = r.Downstream.Where(d => d.Value is null && d.Status is not null).Select(d => d.Status!).Distinct().ToList();
        foreach (var status in notRun.Where(s => s.Contains(':'))) md.AppendLine().Append($"\"{Short(status)}\": {status[(status.IndexOf(':') + 1)..].Trim()}.").AppendLine();
        var details = r.Downstream.Where(d => d.Detail is not null).GroupBy(d => d.Task).Select(g => $"{tasks[g.Key].Label ?? g.Key}: {g.First().Detail}").ToList();
        if (details.Count > 0)
        {
            md.AppendLine().AppendLine("Fine-tuning settings:").AppendLine();
            foreach (var d in details) md.AppendLine($"- {d}");
        }
        return md.ToString();
    }

    static string Short(string status) => status.Split(':')[0];

    static string GroupName(string group) => group switch { "glue" => "GLUE", "squad" => "SQuAD", _ => group };

    // ---- figures ------------------------------------------------------------------------------

    /// <summary>Loss against FLOPs (or seconds) of the first seed of each run, with the 100% target level and each run's first reach of it.</summary>
    /// <param name="train">plot the smoothed training loss (else the held-out loss), with the target level and first reaches of <paramref name="savings"/>.</param>
    public static Figure LossFigure(string file, string title, ArtifactResults r, IReadOnlyList<string> runs, bool wall, bool train, IReadOnlyList<SavingsResult> savings)
    {
        var seed = r.Curves.Select(c => c.Seed).FirstOrDefault();
        var curves = runs.Select(n => r.Curves.First(c => c.Run == n && c.Seed == seed)).ToList();
        double max = curves.Max(c => wall ? c.WallSeconds[^1] : c.Flops[^1]);
        var (scale, unit) = wall ? (1.0, "") : Unit(max);
        var figure = new Figure(file, title, wall ? "training wall-clock seconds" : $"training FLOPs{unit}", train ? "training loss (smoothed)" : "held-out loss");
        foreach (var c in curves)
        {
            var x = train ? (wall ? c.WallSeconds : c.Flops) : (wall ? c.ValidWallSeconds : c.ValidFlops);
            var y = train ? c.Loss : c.ValidLoss;
            figure.Series.Add(new Series(c.Label, SeriesKind.Line, x.Select(v => Math.Round(v / scale, 6)).ToArray(), y));
        }
        var reached = savings.Where(s => !s.WithDependency && runs.Contains(s.Run))
            .SelectMany(s => s.PerSeed.Where(p => p.Seed == seed && p.Fraction == 1)).ToList();
        if (reached.Count > 0)
        {
            var level = reached[0].TargetLoss;
            figure.Series.Add(new Series("Scratch's final loss", SeriesKind.Line, [0, Math.Round(max / scale, 6)], [Math.Round(level, 6), Math.Round(level, 6)]));
            var points = reached.Where(p => (wall ? p.MethodWallSeconds : p.MethodFlops) is not null).ToList();
            if (points.Count > 0)
                figure.Series.Add(new Series("first reach", SeriesKind.Points,
                    points.Select(p => Math.Round((wall ? p.MethodWallSeconds!.Value : p.MethodFlops!.Value) / scale, 6)).ToArray(),
                    points.Select(p => Math.Round(p.TargetLoss, 6)).ToArray()));
        }
        return figure;
    }

    /// <summary>A power of ten that brings <paramref name="max"/> into 1..1000, and its axis suffix.</summary>
    static (double Scale, string Unit) Unit(double max)
    {
        if (!(max > 0)) return (1, "");
        int exponent = (int)Math.Floor(Math.Log10(max) / 3) * 3;
        return exponent == 0 ? (1, "") : (Math.Pow(10, exponent), $" (x1e{exponent})");
    }

    /// <summary>Density of the output activations of each probed model (first seed), on one shared range.</summary>
    public static Figure HistogramFigure(string file, string title, ArtifactResults r, IReadOnlyList<string> rows)
    {
        var figure = new Figure(file, title, "output activation", "density");
        var seed = r.Probes.Select(p => p.Seed).FirstOrDefault();
        foreach (var row in rows)
        {
            if (r.Probes.FirstOrDefault(p => p.Row == row && p.Seed == seed) is not { } p) continue;
            int bins = p.Density.Length;
            double width = (p.HistogramHigh - p.HistogramLow) / bins;
            var x = Enumerable.Range(0, bins).Select(i => Math.Round(p.HistogramLow + (i + 0.5) * width, 6)).ToArray();
            figure.Series.Add(new Series(p.Label, SeriesKind.Line, x, p.Density));
        }
        return figure;
    }

    // ---- notes --------------------------------------------------------------------------------

    public static IEnumerable<string> Notes(ArtifactResults r, Experiment e)
    {
        if (r.Runs.Count > 0)
            yield return $"Runs at scale {r.Context.Scale}, seeds {r.Context.Seeds}, trained by `RunExecutor` (the same code as `train`), one folder per resolved configuration " +
                         "(`<runs>/<model>-<method>-<scale>-seed<seed>-<key>/`: curve.csv, ledger.csv, manifest.json, model.bin); device, commit and machine above come from their manifests.";
        if (r.Savings.Count > 0 && e.Definition.Target is { } t)
        {
            var window = r.Curves.FirstOrDefault()?.SmoothingWindow ?? 1;
            yield return $"Savings (SPEC section 6, `Savings.cs`): targets are Scratch's {LossName(e)} at {string.Join(", ", r.Savings[0].Targets.Select(x => N(100 * x.Fraction, "0") + "%"))} of its budget " +
                         (window > 1 ? $"(trailing mean over {I(window)} steps, the same for every run), " : "") +
                         "read off its curve by linear interpolation; a run's cost is interpolated to its first point at or below the target; saving = 1 - cost / Scratch's cost at that fraction. " +
                         "Over seeds: mean of the seeds that reached the target, percentile bootstrap 95% interval (2000 resamples); \"not reached\" is no saving, not 0.";
            if (r.Savings.Any(s => s.WithDependency))
                yield return "bert2BERT and LiGO start from a trained small model; the paper does not charge its training to them. The rows \"+ small model's cost\" add it (the ledger entry not counted in the run) to every point of their curves.";
        }
        if (r.Probes.Count > 0)
            yield return "Probes (`Probes.cs`) run on the stored weights: model.bin of a finished run, or the snapshot a staged run saved at the end of a stage (stages/end-N-weights.bin); " +
                         "'stage-start' grows that snapshot by the run's own mapping, as the run did. Loss and gradient are of the mean loss over the held-out sequences " +
                         "(the first windows of the validation split, BERT masking from a fixed seed); |gradient| statistics cover every parameter element that received a gradient.";
        if (r.Downstream.Count > 0)
            yield return "Fine-tuning (`DownstreamEvaluation`) starts from each run's model.bin; scores are x100 on the task's evaluation set, averaged over seeds.";
    }

    static string I(long v) => v.ToString(C);

    static string N(double v, string format) => v.ToString(format, C);

    static string Sci(double v) => v.ToString("0.000E+00", C);
}
