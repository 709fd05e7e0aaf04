using System.Globalization;
using System.Text;
using ApolloBench.Experiments;
using ApolloBench.Training;

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

    /// <summary>
    /// The header comparison: savings at the full-budget target beside the paper's, held-out loss first and the paper's
    /// training-loss measure after it; probe numbers; the runs.
    /// </summary>
    public static void Comparison(StringBuilder md, ArtifactResults r, Experiment e)
    {
        bool normalised = NormalisedLeads(r);
        var heldOut = FullBudget(r.HeldOutSavings);
        if (heldOut.Count > 0)
        {
            md.AppendLine("Savings to Scratch's final **held-out** loss, the measure this suite leads with: the full network of every run (no dropout) " +
                          "on the same fixed held-out batches at every evaluation, a run's cost interpolated between the two evaluations around its first reach " +
                          $"(target = Scratch's held-out loss at 100% of its budget; {Intervals(heldOut)}). {WallLead(r)} " +
                          "The paper's numbers are savings to its training loss, the measure that follows:").AppendLine();
            md.Append(FullTable(heldOut, normalised)).AppendLine();
            if (PlateauWarning(r.HeldOutSavings, "held-out loss") is { } warning) md.AppendLine(warning).AppendLine();
            if (e.Definition.Target?.Reference is { } reference && FinalLossSummaries(r, reference) is { Count: > 0 } rows)
            {
                md.AppendLine($"Final held-out loss of every run, and its difference from {ReferenceLabel(r, reference)}'s of the same seed " +
                              "(negative: the run ends below it). A method that did not reach the target shows here by how much, and an interval " +
                              "that contains 0 means these seeds cannot tell its final loss from the reference's " +
                              $"({SavingsTable.IntervalNote(rows.SelectMany(x => new[] { x.Final, x.Difference }).OfType<SeedSummary>())}):").AppendLine();
                md.Append(FinalLossTable(rows, ReferenceLabel(r, reference))).AppendLine();
                if (StageSummaries(r, reference) is { Count: > 0 } stages)
                {
                    var name = ReferenceLabel(r, reference);
                    md.AppendLine($"Stage by stage: where each method that grows during training gains or loses ground on {name}. At each growth (the " +
                                  $"evaluation just before it) and at the end, its held-out loss minus {name}'s at the same step of the same seed, and the " +
                                  $"training FLOPs it has spent by then as a share of {name}'s by then " +
                                  $"({SavingsTable.IntervalNote(stages.SelectMany(x => new[] { x.Difference, x.FlopsShare }))}):").AppendLine();
                    md.Append(ReportBuilder.Table(["run", "at", "step", $"held-out minus {name}'s (same step, same seed)", $"FLOPs so far / {name}'s"],
                        stages.Select(x => new[]
                        {
                            x.Label, x.At, I(x.Step), LossSummary(x.Difference, true) + $" (n={I(x.Difference.Seeds)})", N(x.FlopsShare.Value!.Value, "0.00"),
                        }))).AppendLine();
                }
            }
        }
        var paper = FullBudget(r.Savings);
        if (paper.Count > 0)
        {
            var window = r.Curves.FirstOrDefault()?.SmoothingWindow ?? 1;
            md.AppendLine($"**The paper's measure:** savings to Scratch's final **training** loss, smoothed (trailing mean over {I(window)} step{(window == 1 ? "" : "s")}), as the paper's figures read it " +
                          $"({Intervals(paper)}). Apollo logs its training loss at the depth it sampled, so until its last stage it is the loss of a shallower network " +
                          "than the one Scratch's target was read from; the held-out savings above compare the same network:").AppendLine();
            md.Append(FullTable(paper, normalised)).AppendLine();
            if (PlateauWarning(r.Savings, "training loss") is { } warning) md.AppendLine(warning).AppendLine();
        }
        if (r.Probes.Count > 0)
        {
            md.AppendLine($"Probes ({r.Probes[0].Samples} held-out sequences; gradient = mean +- std of |gradient| over parameters, x1e-3):").AppendLine();
            md.Append(ProbeTable(r, e, e.Definition.Probe!.Rows!.Keys.ToList())).AppendLine();
        }
        md.AppendLine("Runs (one folder each under the runs root; a run shared with other artifacts is trained once; normalised seconds and the calibration speed " +
                      "are \"not measured\" for runs made before the calibration was recorded, or with its older matmul workload; \"waited for a CPU\" is the share of the run's time its threads were " +
                      "ready but not running, from Linux's schedstat, \"not measured\" for runs made before it was recorded):").AppendLine();
        // A device column only where the runs differ in it (a thread count, say), so a report of one device reads as before.
        var devices = r.Runs.Select(x => x.Device).Distinct().ToList();
        bool mixed = devices.Count > 1;
        string[] header = ["run", "method", "seed", "steps", "training FLOPs", "training s", "normalised s", "calibration GFLOP/s", "waited for a CPU", "final train loss", "final valid loss", "folder"];
        md.Append(ReportBuilder.Table(mixed ? [.. header[..3], "device", .. header[3..]] : header,
            r.Runs.Select(x =>
            {
                string[] row =
                [
                    x.Label, x.Method, I(x.Seed), I(x.Steps), Sci(x.Flops), N(x.WallSeconds, "0"),
                    x.NormalisedWallSeconds is { } ns ? N(ns, "0") : NotMeasured, x.MachineSpeed is { } gf ? N(gf, "0.0") : NotMeasured,
                    x.CpuWait is { } w ? N(w, "P1") : NotMeasured, N(x.FinalTrainLoss, "0.000"), N(x.FinalValidLoss, "0.000"), $"`{x.Folder}`",
                ];
                return mixed ? [.. row[..3], x.Device, .. row[3..]] : row;
            }))).AppendLine();
        if (MixedDeviceNote(r) is { } mixedNote) md.AppendLine(mixedNote).AppendLine();
        if (RateWarning(r) is { } rates) md.AppendLine(rates).AppendLine();
        if (CpuWaitWarning(r) is { } waits) md.AppendLine(waits).AppendLine();
        foreach (var d in r.Dependencies)
        {
            md.AppendLine($"{d.Label} (`{d.Run}`) is not a run folder of its own: it is the small model that {string.Join(" and ", d.Consumers)} grow{(d.Consumers.Count == 1 ? "s" : "")} from, " +
                          "trained once per seed by their dependency mechanism (same shape, steps, seed and data), cached, and charged in their ledgers as a cost not counted in the run:").AppendLine();
            md.Append(ReportBuilder.Table(["charged to", "seed", "ledger entry", "FLOPs", "s"],
                d.Ledger.Select(l => new[] { l.Consumer, I(l.Seed), l.What, Sci(l.Flops), N(l.Seconds, "0") }))).AppendLine();
        }
    }

    const string NotMeasured = "not measured";

    static string ReferenceLabel(ArtifactResults r, string reference) => r.Runs.FirstOrDefault(x => x.Run == reference)?.Label ?? reference;

    /// <summary>
    /// Per run name (in the runs' order): its final held-out loss over seeds, and the paired difference from the reference
    /// run's of the same seed (null for the reference itself), each as <see cref="Savings.Summarize"/> summarises a value
    /// over seeds (mean with a 95% interval from two seeds); with how many seeds ended below the reference.
    /// </summary>
    public static List<(string Label, SeedSummary Final, SeedSummary? Difference, int Below)> FinalLossSummaries(ArtifactResults r, string reference)
    {
        var scratch = r.Runs.Where(x => x.Run == reference).ToDictionary(x => x.Seed, x => x.FinalValidLoss);
        if (scratch.Count == 0) return [];
        return [.. r.Runs.GroupBy(x => x.Run).Select(g =>
        {
            var runs = g.OrderBy(x => x.Seed).ToList();
            var final = Savings.Summarize([.. runs.Select(x => (double?)x.FinalValidLoss)]);
            if (g.Key == reference) return (runs[0].Label, final, (SeedSummary?)null, 0);
            var paired = runs.Where(x => scratch.ContainsKey(x.Seed)).Select(x => x.FinalValidLoss - scratch[x.Seed]).ToList();
            return (runs[0].Label, final, paired.Count == 0 ? null : Savings.Summarize([.. paired.Select(d => (double?)d)]), paired.Count(d => d < 0));
        })];
    }

    /// <summary>
    /// Where a growth method gains or loses ground on the reference: at each of its growth steps after the first step (the
    /// evaluation just before it grows) and at its end, its held-out loss minus the reference's at the same step of the
    /// same seed, and the FLOPs it has spent by then over the reference's; each summarised over the seeds. A method that
    /// grows only before training (bert2BERT, LiGO) has no rows, nor do results without growth records or evaluation steps.
    /// Between two evaluations a curve is read linearly.
    /// </summary>
    public static List<(string Label, string At, long Step, SeedSummary Difference, SeedSummary FlopsShare)> StageSummaries(ArtifactResults r, string reference)
    {
        var rows = new List<(string, string, long, SeedSummary, SeedSummary)>();
        var scratch = ReferenceCurves(r, reference);
        if (scratch.Count == 0) return rows;
        foreach (var g in r.Runs.Where(x => x.Run != reference).GroupBy(x => x.Run))
        {
            var runs = g.OrderBy(x => x.Seed).ToList();
            var first = runs[0];
            if (first.Growths?.Where(x => x.Step > 0 && x.Step < first.Steps).ToList() is not { Count: > 0 } growths) continue;
            foreach (var (at, step) in growths.Select(x => ($"before growing to {x.To}", x.Step)).Append(("end", first.Steps)))
            {
                var differences = new List<double?>();
                var shares = new List<double?>();
                foreach (var run in runs)
                {
                    var curve = r.Curves.FirstOrDefault(c => c.Run == run.Run && c.Seed == run.Seed && c.ValidSteps is not null);
                    if (curve is null || !scratch.TryGetValue(run.Seed, out var reach) || HeldOutAt(curve, step) is not { } m || HeldOutAt(reach, step) is not { } s) continue;
                    differences.Add(m.Loss - s.Loss);
                    shares.Add(m.Flops / s.Flops);
                }
                if (differences.Count > 0) rows.Add((first.Label, at, step, Savings.Summarize([.. differences]), Savings.Summarize([.. shares])));
            }
        }
        return rows;
    }

    /// <summary>The reference run's curves that record their evaluation steps, by seed (what the stage table and the gap figure pair runs with).</summary>
    static Dictionary<long, CurveResult> ReferenceCurves(ArtifactResults r, string reference)
        => r.Curves.Where(c => c.Run == reference && c.ValidSteps is not null).GroupBy(c => c.Seed).ToDictionary(g => g.Key, g => g.First());

    /// <summary>A curve's held-out loss and FLOPs once <paramref name="step"/> steps are done, linear between the evaluations around it; null outside them.</summary>
    static (double Loss, double Flops)? HeldOutAt(CurveResult c, long step)
    {
        var steps = c.ValidSteps!;
        for (int i = 0; i < steps.Length; i++)
        {
            if (steps[i] < step) continue;
            if (steps[i] == step) return (c.ValidLoss[i], c.ValidFlops[i]);
            if (i == 0) return null;
            double w = (double)(step - steps[i - 1]) / (steps[i] - steps[i - 1]);
            return (c.ValidLoss[i - 1] + w * (c.ValidLoss[i] - c.ValidLoss[i - 1]), c.ValidFlops[i - 1] + w * (c.ValidFlops[i] - c.ValidFlops[i - 1]));
        }
        return null;
    }

    /// <summary>A loss (or, <paramref name="signed"/>, a loss difference) over seeds: "5.130", "+0.020 [-0.005, +0.045]".</summary>
    public static string LossSummary(SeedSummary s, bool signed)
    {
        string F(double v) => (signed && v > 0 ? "+" : "") + N(v, "0.000");
        var text = F(s.Value!.Value);
        return s.Low is { } low && s.High is { } high ? text + $" [{F(low)}, {F(high)}]" : text;
    }

    /// <summary>The final held-out loss table of <see cref="FinalLossSummaries"/>'s rows, against the reference run <paramref name="name"/>.</summary>
    static string FinalLossTable(List<(string Label, SeedSummary Final, SeedSummary? Difference, int Below)> rows, string name)
    {
        return ReportBuilder.Table(["run", "final held-out loss", $"minus {name}'s (same seed)", $"seeds ending below {name}'s"],
            rows.Select(x => new[]
            {
                x.Label, LossSummary(x.Final, false) + $" (n={I(x.Final.Seeds)})", x.Difference is { } d ? LossSummary(d, true) + $" (n={I(d.Seeds)})" : "-", x.Difference is { } dd ? $"{I(x.Below)} of {I(dd.Seeds)}" : "-",
            }));
    }


    static List<SavingsResult> FullBudget(IReadOnlyList<SavingsResult> savings) => savings.Where(s => s.Targets.Any(t => t.Fraction == 1)).ToList();

    static string Intervals(IEnumerable<SavingsResult> savings)
        => SavingsTable.IntervalNote(savings.SelectMany(s => s.Targets.SelectMany(t => new[] { t.Flops, t.Wall })));

    /// <summary>Savings at the full-budget target beside the paper's numbers.</summary>
    static string FullTable(IReadOnlyList<SavingsResult> savings, bool normalised)
        => ReportBuilder.Table(["method", "paper FLOPs saving", "reproduced FLOPs saving", "paper wall saving", $"reproduced wall saving ({WallColumn(savings, normalised)})"],
            savings.Select(s =>
            {
                var t = s.Targets.First(x => x.Fraction == 1);
                // The note goes with the first paper number, or in the FLOPs column when there is none (never twice).
                var paperFlops = s.PaperFlops is null && s.PaperWall is not null ? "-" : PaperPercent(s.PaperFlops, s.PaperNote);
                var paperWall = s.PaperWall is null ? "-" : PaperPercent(s.PaperWall, s.PaperFlops is null ? s.PaperNote : null);
                return new[] { s.Label, paperFlops, SavingsTable.Format(t.Flops), paperWall, SavingsTable.Wall(t, normalised) };
            }));

    /// <summary>What a wall-time column shows: which seconds lead, and whether the other ones are there.</summary>
    static string WallColumn(IEnumerable<SavingsResult> savings, bool normalised)
        => normalised ? "normalised; raw"
            : savings.Any(s => s.Targets.Any(t => t.NormalisedWall is not null)) ? "raw; normalised where measured" : "raw; normalised not measured";

    /// <summary>
    /// Whether wall-time savings lead with the seconds normalised to the calibration speed: only when every run of the
    /// artifact recorded it (a run made before the calibration existed has none, and then the raw seconds lead).
    /// </summary>
    public static bool NormalisedLeads(ArtifactResults r) => r.Runs.Count > 0 && r.Runs.All(x => x.NormalisedWallSeconds is not null);

    /// <summary>Which wall time leads, and why, in one sentence.</summary>
    static string WallLead(ArtifactResults r)
    {
        if (NormalisedLeads(r))
            return "Wall time leads with the seconds normalised to the machine's calibration speed (each stretch of training charged at the speed a fixed workload, one full-depth training step of a copy of the model, " +
                   "ran at in its evaluation interval, so a busy hour is not charged to the method), the raw seconds in parentheses; \"+ small model's cost\" rows " +
                   "are raw only, as the small model's calibration is not stored with the run. " +
                   $"How well it holds beside other load depends on the thread count (OpenMP's barriers make a multi-threaded step slow down more than its share of the CPU): " +
                   $"these runs ran on {string.Join(" and ", r.Runs.Select(x => x.Device).Distinct().Order(StringComparer.Ordinal))}, and the bench's loaded-vs-quiet proof for each thread count " +
                   "(`walltime --threads N`) is in reports/performance.md; the \"waited for a CPU\" column says which runs had load beside them.";
        var without = r.Runs.Where(x => x.NormalisedWallSeconds is null).Select(x => $"{x.Label} (seed {I(x.Seed)})").ToList();
        return without.Count == r.Runs.Count
            ? "Wall time leads with the raw seconds: normalised wall time is not measured for these runs (they predate the calibration or timed its older matmul workload)."
            : $"Wall time leads with the raw seconds: normalised wall time is not measured for {string.Join(", ", without)}.";
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
    /// shared, or its speed changed, while some ran, and raw wall-time savings mix the method with the machine.
    /// </summary>
    public static string? RateWarning(ArtifactResults r)
    {
        var rates = r.Runs.Where(x => x.WallSeconds > 0).Select(x => (x.Label, x.Seed, Rate: x.Flops / x.WallSeconds)).ToList();
        if (rates.Count < 2) return null;
        var (slow, fast) = (rates.MinBy(x => x.Rate), rates.MaxBy(x => x.Rate));
        if (fast.Rate <= RateSpreadLimit * slow.Rate) return null;
        return $"**Caution:** training speed ranges from {N(slow.Rate / 1e9, "0.0")} GFLOP/s ({slow.Label}, seed {I(slow.Seed)}) to {N(fast.Rate / 1e9, "0.0")} GFLOP/s " +
               $"({fast.Label}, seed {I(fast.Seed)}); methods differ by about 10% in speed, not this much, so the machine was shared or ran at another speed while some trained, and the raw wall-time savings mix the method with the machine (FLOPs savings are unaffected)" +
               (NormalisedLeads(r) ? "; the normalised wall-time savings, which lead, charge each stretch at the speed the calibration measured then." : "; normalised wall time is not measured for these runs, so their wall-time savings should not be read.");
    }

    /// <summary>
    /// Where the runs were made on more than one device or thread count: how many on each, and what that does and does not
    /// change (a thread count reorders floating-point sums, so each run is bit-identical only at its own count; FLOPs do not
    /// depend on it). Null when every run shares one.
    /// </summary>
    public static string? MixedDeviceNote(ArtifactResults r)
    {
        var groups = r.Runs.GroupBy(x => x.Device).Select(g => $"{g.Key}: {string.Join(", ", g.Select(x => $"{x.Label} (seed {I(x.Seed)})"))}").ToList();
        if (groups.Count < 2) return null;
        return $"**Runs on more than one device or thread count** (the device column): {string.Join("; ", groups)}. " +
               "A thread count changes the order in which floating-point sums are taken, so a run repeats bit for bit only at its own count " +
               "(`reproduce` reuses a finished run whatever `--threads` it is given, and retrains one only at the count it names); " +
               "FLOPs and FLOPs savings do not depend on it, and wall times compare only between runs of one device and count.";
    }

    /// <summary>
    /// A caution naming every run whose threads waited for a CPU for more than <see cref="WallTime.CpuWaitLimit"/> of their
    /// time (<see cref="EvalRecord.CpuWait"/>): the machine was oversubscribed while it trained, and its wall time is the
    /// machine's as much as the method's, raw or normalised. Null when none did or none measured it.
    /// </summary>
    public static string? CpuWaitWarning(ArtifactResults r)
    {
        var waited = r.Runs.Where(x => x.CpuWait is > WallTime.CpuWaitLimit).ToList();
        if (waited.Count == 0) return null;
        return $"**Caution: wall time not trustworthy for {string.Join(", ", waited.Select(x => $"{x.Label} (seed {I(x.Seed)}, waited {N(x.CpuWait!.Value, "P0")})"))}**: " +
               $"their threads spent more than {N(WallTime.CpuWaitLimit, "P0")} of the time ready to run but waiting for a CPU (Linux schedstat), so other work shared their cores. " +
               "Under such oversubscription a step slows by a factor that depends on how the scheduler interleaves it (reports/performance.md), which no calibration corrects; " +
               "compare their FLOPs savings, or train them again on a machine of their own.";
    }

    /// <summary>
    /// A caution when Scratch's loss at a later budget-fraction target is not below an earlier one (first seed): its curve
    /// has flattened, and a saving to a flat level measures where noisy curves first touch it, not how much faster a method learns.
    /// </summary>
    public static string? PlateauWarning(IReadOnlyList<SavingsResult> savings, string loss)
    {
        if (savings.Count == 0 || savings[0].PerSeed.Count == 0) return null;
        var seed = savings[0].PerSeed.Select(p => p.Seed).First();
        var targets = savings[0].PerSeed.Where(p => p.Seed == seed && p.Fraction is not null).OrderBy(p => p.Fraction).ToList();
        for (int i = 1; i < targets.Count; i++)
        {
            if (targets[i].TargetLoss < targets[i - 1].TargetLoss) continue;
            return $"**Caution:** Scratch's {loss} is not lower at {N(100 * targets[i].Fraction!.Value, "0")}% of its budget than at {N(100 * targets[i - 1].Fraction!.Value, "0")}% " +
                   $"({N(targets[i].TargetLoss, "0.000")} vs {N(targets[i - 1].TargetLoss, "0.000")}, seed {I(seed)}, targets {string.Join(" / ", targets.Select(t => N(t.TargetLoss, "0.000")))}): " +
                   "its curve has flattened, so the savings to the later targets measure where flat, noisy curves first touch a level, not how much faster a method learns.";
        }
        return null;
    }

    static string PaperPercent(double? value, string? note) => value is { } v
        ? N(v, "0.0") + "%" + (note is null ? "" : $" ({note})")
        : note ?? "-";

    // ---- speedup curves and the collapse detector ---------------------------------------------------

    /// <summary>The sections every training artifact with a target has, whatever its outputs: the iso-loss speedup curves and the collapse detector.</summary>
    public static void Sections(StringBuilder md, List<Figure> figures, ArtifactResults r)
    {
        if (r.Speedup is { Methods.Count: > 0 } speedup)
        {
            bool normalised = NormalisedLeads(r);
            md.AppendLine("## Iso-loss speedup (held-out loss)").AppendLine();
            var flops = SpeedupFigure(SpeedupFile, "Iso-loss speedup: FLOPs saving against Scratch", speedup, t => t.Flops, "FLOPs saving (%)");
            var wall = SpeedupFigure(SpeedupWallFile, $"Iso-loss speedup: wall-time saving ({(normalised ? "normalised" : "raw")}) against Scratch", speedup,
                t => normalised ? t.NormalisedWall : t.Wall, normalised ? "wall-time saving, normalised seconds (%)" : "wall-time saving, raw seconds (%)");
            figures.Add(flops);
            figures.Add(wall);
            md.AppendLine($"![{flops.Title}]({flops.File})").AppendLine();
            md.AppendLine($"![{wall.Title}]({wall.File})").AppendLine();
            int n = speedup.Seeds.Length;
            md.AppendLine($"Each method's saving against Scratch at every target from Scratch's held-out loss at {N(100 * speedup.Fractions[0], "0")}% of its budget to its final one " +
                          $"({speedup.Fractions.Length} targets, one per 1% of Scratch's budget; the x axis is that percentage, the tick labels give Scratch's held-out loss there, seed {I(speedup.Seeds[0])}); " +
                          "the savings tables' targets are points of these curves. Each saving is measured as in the tables: Scratch's cost is that fraction of its budget, the method's its first reach. " +
                          (n == 1 ? "One seed (n=1): no band. " : $"The band is the 95% interval over n={n} seeds ({(n < SeedSummary.BootstrapFrom ? "Student's t" : "percentile bootstrap")}); where some seed never reached a target the line is the median with those ranked last, without a band. ") +
                          "A line stops where the method has not reached the target" + NotDrawn(speedup) + $"; the y axis stops at {N(SpeedupFloor, "0")}% (twice Scratch's cost). " +
                          (normalised ? "Wall time: normalised to the calibration speed (raw in speedup.csv)." : "Wall time: raw seconds (normalised not measured for these runs).") +
                          " Every value, per seed and summarised: `speedup.csv` (its `AtFirstEvaluation` column counts the seeds already at or below a target at the method's first evaluation, whose saving there is only a lower bound).").AppendLine();
            var early = r.HeldOutSavings.Where(x => !x.WithDependency && x.Targets.Any(t => t.Flops.AtLeast)).Select(x => x.Label).Distinct().ToList();
            if (early.Count > 0)
                md.AppendLine($"{string.Join(" and ", early)} {(early.Count == 1 ? "was" : "were")} already below some of these targets at {(early.Count == 1 ? "its" : "their")} first evaluation " +
                              "(the savings tables mark those \"at least\", `speedup.csv` counts them in `AtFirstEvaluation`): there the method's cost is that evaluation's, and the curve a lower bound on its saving.").AppendLine();
        }
        if (r.Definition["target"]?["reference"]?.GetValue<string>() is { } reference && GapFigure(GapFile, r, reference) is { } gap)
        {
            figures.Add(gap);
            md.AppendLine("## Gap to Scratch, step by step").AppendLine();
            md.AppendLine($"![{gap.Title}]({gap.File})").AppendLine();
            int n = r.Runs.Where(x => x.Run == reference).Select(x => x.Seed).Distinct().Count();
            md.AppendLine("Each run's held-out loss minus Scratch's at the same step of the same seed, at every evaluation (below 0: ahead of Scratch), " +
                          (n == 1 ? "one seed (n=1), no band; " : $"the mean over n={n} seeds with its 95% Student-t interval as a band; ") +
                          $"a marker where a method grows. The y axis is set by the points from {N(100 * GapFrom, "0")}% of the budget on for a method that grows " +
                          $"during training and from {N(100 * GapOthersFrom, "0")}% on for any other run, so the first evaluations of a run that starts far from Scratch " +
                          "(bert2BERT and LiGO start from a trained small model) may lie outside it. " +
                          "The stage-by-stage table above reads this figure at each growth.").AppendLine();
        }
        if (r.Runs.Count > 0 && (r.Speedup is not null || r.Curves.Any(c => c.ValidHiddenSpread is not null))) Collapse(md, figures, r);
        if (r.Curves.Any(c => c.ValidCpuWait is not null && c.ValidSteps is not null)) Machine(md, figures, r);
    }

    /// <summary>
    /// The gap figure's y axis is set by a growing method's points from <see cref="GapFrom"/> of the budget on, and by every
    /// other run's from <see cref="GapOthersFrom"/>.
    /// </summary>
    public const double GapFrom = 0.05, GapOthersFrom = 0.25;

    public const string GapFile = "gap.png";

    /// <summary>
    /// Every non-reference run's held-out loss minus the reference's at the same step and seed, at the run's evaluations:
    /// the mean over seeds as a line, its t interval as a band (two seeds or more), and its growths as points on the
    /// line. Null without a reference curve with evaluation steps, or without another run.
    /// </summary>
    public static Figure? GapFigure(string file, ArtifactResults r, string reference)
    {
        var scratch = ReferenceCurves(r, reference);
        var runs = r.Runs.Where(x => x.Run != reference).GroupBy(x => x.Run).ToList();
        if (scratch.Count == 0 || runs.Count == 0) return null;
        long budget = r.Runs.Where(x => x.Run == reference).Max(x => x.Steps);
        var figure = new Figure(file, "Held-out loss minus Scratch's at the same step", "training steps", "held-out loss minus Scratch's (same step, same seed)");
        double low = 0, high = 0;
        figure.Series.Add(new Series("Scratch", SeriesKind.Line, [0, budget], [0, 0], Colour: -1));
        foreach (var (g, colour) in runs.Select((g, i) => (g, i + 1)))
        {
            var seeds = g.OrderBy(x => x.Seed).ToList();
            var curves = seeds.Select(x => r.Curves.FirstOrDefault(c => c.Run == x.Run && c.Seed == x.Seed && c.ValidSteps is not null)).ToList();
            if (curves.Any(c => c is null) || seeds.Any(x => !scratch.ContainsKey(x.Seed))) continue;
            var steps = curves[0]!.ValidSteps!;
            var points = new List<(long Step, SeedSummary Gap)>();
            foreach (var step in steps)
            {
                var gaps = seeds.Select((x, i) => HeldOutAt(curves[i]!, step) is { } m && HeldOutAt(scratch[x.Seed], step) is { } s ? (double?)(m.Loss - s.Loss) : null).ToList();
                if (gaps.All(v => v is not null)) points.Add((step, Savings.Summarize(gaps)));
            }
            if (points.Count == 0) continue;
            var label = seeds[0].Label;
            var x = points.Select(p => (double)p.Step).ToArray();
            if (points.Any(p => p.Gap.Low is not null))
                figure.Series.Add(new Series($"{label} (95% interval)", SeriesKind.Band, x, points.Select(p => Math.Round(p.Gap.Low ?? p.Gap.Value!.Value, 6)).ToArray(),
                    Upper: points.Select(p => Math.Round(p.Gap.High ?? p.Gap.Value!.Value, 6)).ToArray(), Colour: colour));
            figure.Series.Add(new Series(label, SeriesKind.Line, x, points.Select(p => Math.Round(p.Gap.Value!.Value, 6)).ToArray(), Colour: colour));
            var grown = (seeds[0].Growths ?? []).Where(x => x.Step > 0 && x.Step < seeds[0].Steps).Select(x => points.FirstOrDefault(p => p.Step >= x.Step)).Where(p => p.Gap is not null).ToList();
            if (grown.Count > 0)
                figure.Series.Add(new Series($"{label} grows", SeriesKind.Points, [.. grown.Select(p => (double)p.Step)], [.. grown.Select(p => Math.Round(p.Gap.Value!.Value, 6))], Colour: colour));
            // The axis follows a growing method from its first stages on, and any other run (which may start far from Scratch:
            // bert2BERT and LiGO begin from a trained small model) from a quarter of the budget.
            double from = grown.Count > 0 ? GapFrom : GapOthersFrom;
            foreach (var p in points.Where(p => p.Step >= from * budget))
            {
                low = Math.Min(low, p.Gap.Low ?? p.Gap.Value!.Value);
                high = Math.Max(high, p.Gap.High ?? p.Gap.Value!.Value);
            }
        }
        if (figure.Series.Count == 1) return null;
        double pad = 0.1 * Math.Max(high - low, 1e-3);
        return figure with { YMin = Math.Round(low - pad, 6), YMax = Math.Round(high + pad, 6) };
    }

    /// <summary>The speedup figures' y axis stops here (percent): below it a method costs more than twice what Scratch does.</summary>
    public const double SpeedupFloor = -100;

    public const string SpeedupFile = "speedup.png", SpeedupWallFile = "speedup-wall.png", SpeedupCsv = "speedup.csv", CollapseFile = "collapse.png", CpuWaitFile = "cpu-wait.png";

    /// <summary>The rows that reached none of the targets (in any seed's median), which the figures cannot draw.</summary>
    static string NotDrawn(SpeedupCurves speedup)
    {
        var none = speedup.Methods.Where(m => m.Flops.Value.All(v => v is null)).Select(m => m.Label).ToList();
        return none.Count == 0 ? "" : $"; {string.Join(", ", none)} reached none of them";
    }

    /// <summary>One line per method row (its summary over seeds, in percent) with its interval as a band, against the target's budget percentage.</summary>
    public static Figure SpeedupFigure(string file, string title, SpeedupCurves speedup, Func<TargetSummary, SeedSummary?> measure, string yLabel)
    {
        var figure = new Figure(file, title, "target: Scratch's held-out loss at x% of its budget (that loss below)", yLabel) { Height = 600, YMin = SpeedupFloor, YMax = 100 };
        var x = speedup.Fractions.Select(f => Math.Round(100 * f, 6)).ToArray();
        static double Pct(double? v) => v is { } f ? Math.Round(100 * f, 6) : double.NaN;
        figure.Series.Add(new Series("Scratch (no saving)", SeriesKind.Line, [x[0], x[^1]], [0, 0], Colour: -1));
        // A row keeps its colour in both speedup figures, drawn or not (1 on: 0 is the loss figures' Scratch).
        foreach (var (m, colour) in speedup.Methods.Select((m, i) => (m, i + 1)))
        {
            var summaries = speedup.PointsOf(m).Select(p => measure(p.Summary)).ToList();
            if (summaries.All(s => s?.Value is null)) continue;   // never reached, or not measured: nothing to draw
            var y = summaries.Select(s => Pct(s?.Value)).ToArray();
            if (summaries.Any(s => s?.Low is not null))
                figure.Series.Add(new Series($"{m.Label} (95% interval)", SeriesKind.Band, x, summaries.Select(s => Pct(s?.Low)).ToArray(),
                    Upper: summaries.Select(s => Pct(s?.High)).ToArray(), Colour: colour));
            figure.Series.Add(new Series(m.Label, SeriesKind.Line, x, y, Colour: colour));
        }
        foreach (var f in new[] { 0.1, 0.25, 0.5, 0.75, 1.0 })
        {
            int j = Array.FindIndex(speedup.Fractions, v => Math.Abs(v - f) < 1e-9);
            if (j < 0) continue;
            figure.XTicks.Add(new Tick(Math.Round(100 * f, 6), $"{N(100 * f, "0")}%\n{N(speedup.TargetLoss[j][0], "0.000")}"));
        }
        return figure;
    }

    /// <summary>
    /// The collapse detector (issue 15): every run's hidden-state spread at each evaluation, the threshold, and a warning
    /// naming each run that fell below it, with the step; "not measured" for runs made before it was recorded.
    /// </summary>
    static void Collapse(StringBuilder md, List<Figure> figures, ArtifactResults r)
    {
        md.AppendLine("## Collapse detector").AppendLine();
        var measured = r.Curves.Where(c => c.ValidHiddenSpread is not null && c.ValidSteps is not null).ToList();
        if (measured.Count == 0)
        {
            md.AppendLine("Not measured: these runs predate the collapse detector (the spread of the final hidden states across held-out tokens, recorded at every evaluation by newer runs).").AppendLine();
            return;
        }
        var figure = CollapseFigure(CollapseFile, "Collapse detector: hidden-state spread", r, measured);
        figures.Add(figure);
        md.AppendLine($"![{figure.Title}]({figure.File})").AppendLine();
        md.AppendLine($"The spread of the final hidden states across held-out tokens relative to the freshly initialised model's, at every evaluation (log10), for every run and seed; " +
                      $"below {N(CollapseDetector.Threshold, "0.##")} (`CollapseDetector.Threshold`, the black line) an encoder maps every token to nearly the same vector.").AppendLine();
        var collapsed = r.Runs.Where(x => x.CollapsedAtStep is not null).ToList();
        foreach (var x in collapsed)
            md.AppendLine(x.RecoveredAtStep is { } back
                ? $"**Transient collapse:** {x.Label} (seed {I(x.Seed)}) fell below {N(CollapseDetector.Threshold, "0.##")} of its fresh model's spread at step {I(x.CollapsedAtStep!.Value)} " +
                  $"(lowest {N(x.LowestHiddenSpread ?? double.NaN, "0.0E+0")}) and was back above it from step {I(back)} to its end; its final network is not collapsed, " +
                  "but the steps before the recovery trained one that was."
                : $"**Collapse:** {x.Label} (seed {I(x.Seed)}) fell below {N(CollapseDetector.Threshold, "0.##")} of its fresh model's spread at step {I(x.CollapsedAtStep!.Value)} " +
                  $"(lowest {N(x.LowestHiddenSpread ?? double.NaN, "0.0E+0")}) and ended below it; its losses and savings are those of a collapsed network.").AppendLine();
        if (collapsed.Count == 0) md.AppendLine($"No run's spread fell below {N(CollapseDetector.Threshold, "0.##")}.").AppendLine();
        if (EarlyLossCheck(r) is { } early) md.AppendLine(early).AppendLine();
        var unmeasured = r.Runs.Where(x => !measured.Any(c => c.Run == x.Run && c.Seed == x.Seed)).Select(x => $"{x.Label} (seed {I(x.Seed)})").ToList();
        if (unmeasured.Count > 0) md.AppendLine($"Not measured for {string.Join(", ", unmeasured)} (made before the detector).").AppendLine();
    }

    /// <summary>The fraction of Scratch's budget whose held-out loss every run must end below (issue 15: "nothing stuck on the plateau").</summary>
    public const double EarlyFraction = 0.05;

    /// <summary>
    /// The other half of issue 15's check on a run: whether it ends below the held-out loss Scratch (the target reference, same
    /// seed) had at <see cref="EarlyFraction"/> of its budget, so that no run is reported that never got past where Scratch
    /// stood near its start. Null when the artifact has no target reference or no held-out curve for it.
    /// </summary>
    public static string? EarlyLossCheck(ArtifactResults r)
    {
        if (r.Definition["target"]?["reference"]?.GetValue<string>() is not { } reference) return null;
        var stuck = new List<string>();
        var levels = new List<string>();
        int count = 0;
        foreach (var scratch in r.Curves.Where(c => c.Run == reference && c.ValidLoss.Length > 0).OrderBy(c => c.Seed))
        {
            var points = scratch.ValidFlops.Select((f, i) => new CurvePoint(f, scratch.ValidWallSeconds[i], scratch.ValidLoss[i])).ToList();
            double early = Savings.AtBudget(points, EarlyFraction).Loss;
            levels.Add($"{N(early, "0.000")} for seed {I(scratch.Seed)}");
            foreach (var x in r.Runs.Where(x => x.Seed == scratch.Seed && x.Run != reference))
            {
                count++;
                if (!(x.FinalValidLoss < early)) stuck.Add($"{x.Label} (seed {I(x.Seed)}) ends at {N(x.FinalValidLoss, "0.000")}");
            }
        }
        if (levels.Count == 0 || count == 0) return null;
        var level = $"Scratch's held-out loss at {N(100 * EarlyFraction, "0")}% of its budget ({string.Join("; ", levels)})";
        return stuck.Count == 0
            ? $"**Past the start:** every run ends below {level}."
            : $"**Stuck near the start:** {string.Join(", ", stuck)}: not below {level}; a saving of such a run measures one that never got past where Scratch stood near its start.";
    }

    /// <summary>
    /// How shared the machine was while each run trained: the share of every evaluation interval its threads waited for a
    /// CPU, against the run's own steps, with <see cref="WallTime.CpuWaitLimit"/>; a run above it is named in the caution
    /// near the top (<see cref="CpuWaitWarning"/>).
    /// </summary>
    static void Machine(StringBuilder md, List<Figure> figures, ArtifactResults r)
    {
        md.AppendLine("## Machine").AppendLine();
        var measured = r.Curves.Where(c => c.ValidCpuWait is not null && c.ValidSteps is not null).ToList();
        double last = measured.Max(c => c.ValidSteps!.Length == 0 ? 0 : c.ValidSteps[^1]);
        var figure = new Figure(CpuWaitFile, "Waiting for a CPU while training", "training steps", "share of the interval waiting for a CPU, %") { YMin = 0 };
        bool seeds = measured.Select(c => c.Seed).Distinct().Count() > 1;
        foreach (var c in measured)
            figure.Series.Add(new Series(seeds ? $"{c.Label} (seed {I(c.Seed)})" : c.Label, SeriesKind.Line,
                c.ValidSteps!.Select(s => (double)s).ToArray(), c.ValidCpuWait!.Select(v => double.IsFinite(v) ? Math.Round(100 * v, 4) : double.NaN).ToArray()));
        figure.Series.Add(new Series($"limit ({N(WallTime.CpuWaitLimit, "P0")})", SeriesKind.Line, [0, last],
            [100 * WallTime.CpuWaitLimit, 100 * WallTime.CpuWaitLimit], Colour: -1));
        figures.Add(figure);
        md.AppendLine($"![{figure.Title}]({figure.File})").AppendLine();
        md.AppendLine("The share of each evaluation interval (steps, evaluation and calibration) that the run's threads were ready to run but waited for a CPU " +
                      $"(Linux schedstat, per working thread). Above {N(WallTime.CpuWaitLimit, "P0")} (`WallTime.CpuWaitLimit`, the black line) other work shared the run's cores, " +
                      "and its wall time there is the machine's as much as the method's; FLOPs are unaffected.").AppendLine();
        var unmeasured = r.Runs.Where(x => !measured.Any(c => c.Run == x.Run && c.Seed == x.Seed)).Select(x => $"{x.Label} (seed {I(x.Seed)})").ToList();
        if (unmeasured.Count > 0) md.AppendLine($"Not measured for {string.Join(", ", unmeasured)} (made before it was recorded).").AppendLine();
    }

    /// <summary>log10 of each run's hidden-state spread against training FLOPs, with the collapse threshold.</summary>
    public static Figure CollapseFigure(string file, string title, ArtifactResults r, IReadOnlyList<CurveResult> curves)
    {
        double max = curves.Max(c => c.ValidFlops.Length == 0 ? 0 : c.ValidFlops[^1]);
        var (scale, unit) = Unit(max);
        var figure = new Figure(file, title, $"training FLOPs{unit}", "log10 hidden-state spread (1 = the fresh model's)");
        bool seeds = curves.Select(c => c.Seed).Distinct().Count() > 1;
        foreach (var c in curves)
            figure.Series.Add(new Series(seeds ? $"{c.Label} (seed {I(c.Seed)})" : c.Label, SeriesKind.Line,
                c.ValidFlops.Select(v => Math.Round(v / scale, 6)).ToArray(),
                c.ValidHiddenSpread!.Select(v => double.IsFinite(v) ? Math.Round(Math.Log10(Math.Max(v, 1e-12)), 6) : double.NaN).ToArray()));
        figure.Series.Add(new Series($"collapse threshold ({N(CollapseDetector.Threshold, "0.##")})", SeriesKind.Line, [0, Math.Round(max / scale, 6)],
            [Math.Log10(CollapseDetector.Threshold), Math.Log10(CollapseDetector.Threshold)], Colour: -1));
        return figure;
    }

    /// <summary>Savings against budget: per model and method, the summary over seeds at each budget (log2 steps on x), and the paper's line.</summary>
    static Figure BudgetFigure(string file, string title, ArtifactResults r)
    {
        var figure = new Figure(file, title, "training steps (log scale)", "held-out FLOPs saving, %") { YMin = -100 };
        var steps = BudgetAxis(figure, r);
        if (steps.Count == 0) return figure;
        double left = Math.Log2(steps[0]), right = Math.Log2(steps[^1]);
        int colour = 0;
        foreach (var group in r.BudgetSavings.GroupBy(b => (b.Model, b.Label)))
        {
            var byBudget = group.GroupBy(b => b.Steps).OrderBy(g => g.Key).ToList();
            double[] x = [.. byBudget.Select(g => Math.Round(Math.Log2(g.Key), 6))];
            double Value(IEnumerable<double?> v) => Savings.Summarize([.. v]).Value is { } s ? Math.Round(100 * s, 6) : double.NaN;
            var name = $"{group.Key.Model.ToUpperInvariant()} {group.Key.Label}";
            figure.Series.Add(new Series($"{name}: to Scratch's final loss", SeriesKind.Line, x, [.. byBudget.Select(g => Value(g.Select(b => b.Final)))], Colour: colour));
            figure.Series.Add(new Series($"{name}: to Scratch's 50% loss", SeriesKind.Points, x, [.. byBudget.Select(g => Value(g.Select(b => b.Half)))], Colour: colour));
            if (group.First().PaperFlops is { } paper)
                figure.Series.Add(new Series($"{name}: the paper ({N(paper, "0.0")}%)", SeriesKind.Line, [Math.Round(left, 6), Math.Round(right, 6)], [paper, paper], Colour: colour));
            colour++;
        }
        figure.Series.Add(new Series("no saving", SeriesKind.Line, [Math.Round(left, 6), Math.Round(right, 6)], [0, 0], Colour: -1));
        return figure;
    }

    /// <summary>The budgets' steps, in order, ticked on the figure's log2 x axis (both budget figures share it).</summary>
    static List<long> BudgetAxis(Figure figure, ArtifactResults r)
    {
        var steps = r.BudgetSavings.Select(b => b.Steps).Distinct().Order().ToList();
        figure.XTicks.AddRange(steps.Select(s => new Tick(Math.Round(Math.Log2(s), 6), I(s))));
        return steps;
    }

    /// <summary>
    /// The method's final held-out loss minus Scratch's of the same model, budget and seed, against the budget (mean over
    /// seeds, log2 steps on x): where a saving to Scratch's final loss does not exist (never reached), whether the gap closes.
    /// </summary>
    static Figure BudgetGapFigure(string file, string title, ArtifactResults r)
    {
        var figure = new Figure(file, title, "training steps (log scale)", "final held-out loss minus Scratch's");
        var steps = BudgetAxis(figure, r);
        if (steps.Count == 0) return figure;
        int colour = 0;
        foreach (var group in r.BudgetSavings.GroupBy(b => (b.Model, b.Label)))
        {
            var byBudget = group.GroupBy(b => b.Steps).OrderBy(g => g.Key).ToList();
            figure.Series.Add(new Series($"{group.Key.Model.ToUpperInvariant()} {group.Key.Label}", SeriesKind.Line, [.. byBudget.Select(g => Math.Round(Math.Log2(g.Key), 6))],
                [.. byBudget.Select(g => Math.Round(g.Average(b => b.MethodFinalLoss - b.ScratchFinalLoss), 6))], Colour: colour++));
        }
        figure.Series.Add(new Series("Scratch", SeriesKind.Line, [Math.Round(Math.Log2(steps[0]), 6), Math.Round(Math.Log2(steps[^1]), 6)], [0, 0], Colour: -1));
        return figure;
    }

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
                bool train = e.TargetsTrainingLoss && r.Savings.Count > 0;
                bool normalised = wall && NormalisedLeads(r);
                var seed = r.Curves.Select(c => c.Seed).FirstOrDefault();
                var time = wall ? normalised ? "normalised training seconds" : "training wall-clock seconds" : "training FLOPs";
                // Held-out loss first; with a training-loss target, the paper's figure after it.
                var heldOut = LossFigure(train ? $"{key}-heldout.png" : $"{key}.png", train ? $"{title} (held-out loss)" : title, r, runs, wall, train: false, r.HeldOutSavings, normalised);
                figures.Add(heldOut);
                md.AppendLine($"![{heldOut.Title}]({heldOut.File})").AppendLine();
                md.AppendLine($"Held-out loss against {time} at each evaluation, seed {I(seed)}; the flat line is Scratch's final held-out loss (the 100% target), circles mark where each run first reaches it.");
                if (train)
                {
                    var paper = LossFigure($"{key}.png", $"{title} (training loss, the paper's measure)", r, runs, wall, train: true, r.Savings, normalised);
                    figures.Add(paper);
                    md.AppendLine().AppendLine($"![{paper.Title}]({paper.File})").AppendLine();
                    md.AppendLine($"The paper's measure: training loss (smoothed) against {time}, with Scratch's final training loss and each run's first reach of it. " +
                                  "Apollo's training loss is that of the depth it sampled.");
                }
                var skipped = e.Included(output, e.Runs.Keys).Except(runs).ToList();
                if (skipped.Count > 0) md.AppendLine().AppendLine($"Not plotted: {string.Join(", ", skipped)} (a dependency run, see above).");
                break;
            }
            case "savings-table":
            {
                var names = e.Included(output, e.Runs.Keys);
                bool normalised = NormalisedLeads(r);
                List<SavingsRow> Rows(IEnumerable<SavingsResult> savings) => savings.Where(s => names.Contains(s.Run))
                    .Select(s => new SavingsRow(s.Label, s.PaperFlops, s.PaperWall, s.PaperNote, s.Targets)).ToList();
                var heldOut = r.HeldOutSavings.Where(s => names.Contains(s.Run)).ToList();
                if (heldOut.Count > 0)
                {
                    md.AppendLine($"**Held-out loss** (leads; {Intervals(heldOut)}). FLOPs:").AppendLine();
                    md.Append(SavingsTable.Render(Rows(heldOut), SavingsMeasure.Flops, paperWhat: " (its training loss)")).AppendLine();
                    md.AppendLine($"Wall-clock time ({WallColumn(heldOut, normalised)}):").AppendLine();
                    md.Append(SavingsTable.Render(Rows(heldOut), SavingsMeasure.Wall, normalised, paperWhat: " (its training loss)")).AppendLine();
                    md.AppendLine(TargetLevels(heldOut[0])).AppendLine();
                    if (heldOut[0].PerSeed.Select(p => p.Seed).Distinct().Count() > 1)
                        md.AppendLine("Per seed (FLOPs / wall time):").AppendLine().Append(PerSeedTable(heldOut, normalised)).AppendLine();
                }
                var paper = r.Savings.Where(s => names.Contains(s.Run)).ToList();
                if (paper.Count > 0)
                {
                    md.AppendLine($"**Training loss, smoothed: the paper's measure** ({Intervals(paper)}). FLOPs:").AppendLine();
                    md.Append(SavingsTable.Render(Rows(paper), SavingsMeasure.Flops)).AppendLine();
                    md.AppendLine($"Wall-clock time ({WallColumn(paper, normalised)}):").AppendLine();
                    md.Append(SavingsTable.Render(Rows(paper), SavingsMeasure.Wall, normalised));
                }
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
            case "saving-vs-budget":
            {
                var figure = BudgetFigure($"{key}.png", title, r);
                figures.Add(figure);
                md.AppendLine($"![{title}]({figure.File})").AppendLine();
                md.AppendLine("Each method against the Scratch run of its own model and budget (held-out loss, full mapping, no dropout): " +
                              "the FLOPs saving to Scratch's final loss (solid) and to its loss at 50% of its budget (dotted points), " +
                              "summarised over seeds; the paper's saving at its own budget is the flat line.").AppendLine();
                var gap = BudgetGapFigure($"{key}-gap.png", "Final held-out loss minus Scratch's, against the budget", r);
                figures.Add(gap);
                md.AppendLine($"![Final held-out loss minus Scratch's, against the budget]({gap.File})").AppendLine();
                md.AppendLine("The method's final held-out loss minus that of Scratch of the same model and budget (mean over seeds; below the black " +
                              "line the method ends lower): where Scratch's final loss is never reached there is no saving to plot, and this " +
                              "shows whether the gap closes with training length.").AppendLine();
                RunRecord? Record(string run, long seed) => r.Runs.FirstOrDefault(x => x.Run == run && x.Seed == seed);
                string Loss(BudgetSaving v, string run, double final) => Record(run, v.Seed)?.LowestValidLoss is { } low && low < final - 5e-4
                    ? $"{N(final, "0.000")} (lowest {N(low, "0.000")})" : N(final, "0.000");
                md.Append(ReportBuilder.Table(["model", "method", "budget", "steps", "passes over the corpus", "Scratch final loss", "method final loss", "saving to Scratch's 50% loss", "saving to Scratch's final loss", "paper (its budget)"],
                    r.BudgetSavings.GroupBy(b => (b.Model, b.Run)).SelectMany(g => g.GroupBy(b => b.Budget).Select(b =>
                    {
                        var x = b.ToList();
                        return new[]
                        {
                            x[0].Model.ToUpperInvariant(), x[0].Label, N(x[0].Budget, "0.##") + "x", I(x[0].Steps),
                            Record(x[0].Run, x[0].Seed)?.Passes is { } passes ? N(passes, "0.0") : "not recorded",
                            string.Join(" / ", x.Select(v => Loss(v, v.Reference, v.ScratchFinalLoss))), string.Join(" / ", x.Select(v => Loss(v, v.Run, v.MethodFinalLoss))),
                            SavingsTable.Format(Savings.Summarize([.. x.Select(v => v.Half)])), SavingsTable.Format(Savings.Summarize([.. x.Select(v => v.Final)])),
                            x[0].PaperFlops is { } paper ? N(paper, "0.0") + "%" : "-",
                        };
                    }))));
                var repeated = r.BudgetSavings.Select(b => (b, Record(b.Run, b.Seed)?.Passes)).Where(x => x.Passes > Data.CorpusPasses.Limit)
                    .Select(x => $"{x.b.Model.ToUpperInvariant()} {N(x.b.Budget, "0.##")}x ({N(x.Passes!.Value, "0.0")})").Distinct().ToList();
                if (repeated.Count > 0)
                    md.AppendLine().AppendLine($"**Repeated data:** the runs at {string.Join(", ", repeated)} go over their corpus more than " +
                                               $"{N(Data.CorpusPasses.Limit, "0")} times, so their held-out losses include whatever over-fitting that brings, to Scratch and the method alike; " +
                                               "a loss shown with \"(lowest ...)\" ended above the lowest held-out loss the run reached, and what the saving measures at that budget " +
                                               "is training length and repetition together.");
                break;
            }
        }
    }

    /// <summary>Scratch's held-out loss at the fraction targets (first seed), and for absolute targets how many seeds of Scratch reached them.</summary>
    static string TargetLevels(SavingsResult s)
    {
        var seed = s.PerSeed.Select(p => p.Seed).First();
        var levels = s.PerSeed.Where(p => p.Seed == seed && p.Fraction is not null).OrderBy(p => p.Fraction).ToList();
        var text = $"Scratch's held-out loss at {string.Join(", ", levels.Select(p => N(100 * p.Fraction!.Value, "0") + "%"))} of its budget (seed {I(seed)}): " +
                   string.Join(" / ", levels.Select(p => N(p.TargetLoss, "0.000"))) + ".";
        var seeds = s.PerSeed.Select(p => p.Seed).Distinct().Count();
        foreach (var absolute in s.PerSeed.Where(p => p.Fraction is null).GroupBy(p => p.TargetLoss))
        {
            int reached = absolute.Count(p => p.ScratchFlops is not null);
            text += $" Absolute target {N(absolute.Key, "0.000")}: Scratch reached it in {reached} of {seeds} seed{(seeds == 1 ? "" : "s")}" +
                    (reached < seeds ? " (a seed where Scratch never reached it gives no method a saving)." : ".");
        }
        return text;
    }

    /// <summary>Every seed's held-out savings: FLOPs / wall time (the leading one) at each target.</summary>
    static string PerSeedTable(IReadOnlyList<SavingsResult> savings, bool normalised)
    {
        var targets = savings[0].PerSeed.Select(p => (p.Fraction, Loss: p.Fraction is null ? p.TargetLoss : (double?)null)).Distinct()
            .OrderBy(k => k.Fraction is null).ThenByDescending(k => k.Fraction == 1).ThenBy(k => k.Fraction).ThenByDescending(k => k.Loss).ToList();
        static string P(double? v) => v is { } x ? N(100 * x, "0.0") + "%" : "not reached";
        string Cell(SeedSaving p)
        {
            if (p.ScratchFlops is null) return "Scratch never reached it";
            var wall = normalised ? p.NormalisedWallSaving is { } n ? P(n) : p.MethodFlops is null ? "not reached" : NotMeasured : P(p.WallSaving);
            return $"{P(p.FlopsSaving)} / {wall}";
        }
        return ReportBuilder.Table(["method", "seed", .. targets.Select(t => $"target = {SavingsTable.TargetName(t)}")],
            savings.SelectMany(s => s.PerSeed.GroupBy(p => p.Seed).Select(g => (string[])[s.Label, I(g.Key),
                .. targets.Select(t => g.FirstOrDefault(p => p.Fraction == t.Fraction && (t.Fraction is not null || p.TargetLoss == t.Loss)) is { } p ? Cell(p) : "-")])));
    }

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
        return ReportBuilder.Table(["model", "paper loss", seeds > 1 ? $"loss (mean of n={seeds} seeds)" : "loss (n=1)", "paper gradient x1e-3", "gradient x1e-3", "weights run by layers 1..L"], body);
    }

    static string DownstreamTable(ArtifactResults r, Experiment e, IReadOnlyList<string> runs)
    {
        var tasks = e.Definition.Downstream!.Tasks!;
        var groups = tasks.Values.Select(t => t.Group).OfType<string>().Distinct().ToList();
        string[] header =
        [
            "method", "numbers", "FLOPs saving", $"wall saving ({WallColumn(r.HeldOutSavings, NormalisedLeads(r))})",
            .. tasks.Select(t => t.Value.Label ?? t.Key),
            .. groups.Select(g => $"{GroupName(g)} avg."),
        ];
        var rows = new List<string[]>();
        foreach (var name in runs)
        {
            var def = e.Runs[name];
            var label = def.Label ?? name;
            var paper = def.Paper;
            var saving = r.HeldOutSavings.FirstOrDefault(s => s.Run == name && !s.WithDependency)?.Targets.FirstOrDefault(t => t.Fraction == 1);
            rows.Add([
                label, "paper", paper?.FlopsSaving is { } pf ? N(pf, "0.0") + "%" : "-", paper?.WallSaving is { } pw ? N(pw, "0.0") + "%" : "-",
                .. tasks.Select(t => paper?.Tasks is { } pt && pt.TryGetValue(t.Key, out var v) ? N(v, "0.00") : "-"),
                .. groups.Select(g => paper?.Groups is { } pg && pg.TryGetValue(g, out var v) ? N(v, "0.00") : "-"),
            ]);
            var scores = tasks.ToDictionary(t => t.Key, t => r.Downstream.Where(d => d.Run == name && d.Task == t.Key).ToList());
            double? Mean(string task) => scores[task] is { Count: > 0 } s && s.All(d => d.Value is not null) ? s.Average(d => d.Value!.Value) : null;
            rows.Add([
                label, $"reproduced ({r.Context.Scale}, n={I(r.Runs.Where(x => x.Run == name).Select(x => x.Seed).Distinct().Count())})",
                saving is null ? (name == e.Definition.Target?.Reference ? "reference" : "-") : SavingsTable.Format(saving.Flops),
                saving is null ? (name == e.Definition.Target?.Reference ? "reference" : "-") : SavingsTable.Wall(saving, NormalisedLeads(r)),
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
        md.AppendLine("Savings: reproduced ones are to Scratch's held-out loss at 100% of its budget (the measure this suite leads with), the paper's to its training loss. " +
                      "Scores are means over the n seeds of the row. Group averages are over the tasks of the group, only when every one of them was run; stand-in tasks (not in the paper) belong to no group and are never averaged into GLUE or SQuAD.");
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
    /// <param name="normalised">with <paramref name="wall"/>: seconds normalised to the calibration speed instead of raw ones.</param>
    public static Figure LossFigure(string file, string title, ArtifactResults r, IReadOnlyList<string> runs, bool wall, bool train, IReadOnlyList<SavingsResult> savings,
        bool normalised = false)
    {
        var seed = r.Curves.Select(c => c.Seed).FirstOrDefault();
        var curves = runs.Select(n => r.Curves.First(c => c.Run == n && c.Seed == seed)).ToList();
        double[] X(CurveResult c) => (wall, train, normalised) switch
        {
            (false, true, _) => c.Flops,
            (false, false, _) => c.ValidFlops,
            (true, true, false) => c.WallSeconds,
            (true, false, false) => c.ValidWallSeconds,
            (true, true, true) => c.NormalisedSeconds!,
            (true, false, true) => c.ValidNormalisedSeconds!,
        };
        double max = curves.Max(c => X(c) is { Length: > 0 } x ? x[^1] : 0);
        var (scale, unit) = wall ? (1.0, "") : Unit(max);
        var xLabel = wall ? normalised ? "normalised training seconds (calibration at 100 GFLOP/s)" : "training wall-clock seconds" : $"training FLOPs{unit}";
        var figure = new Figure(file, title, xLabel, train ? "training loss (smoothed)" : "held-out loss");
        foreach (var c in curves)
            figure.Series.Add(new Series(c.Label, SeriesKind.Line, X(c).Select(v => Math.Round(v / scale, 6)).ToArray(), train ? c.Loss : c.ValidLoss));
        var reached = savings.Where(s => !s.WithDependency && runs.Contains(s.Run))
            .SelectMany(s => s.PerSeed.Where(p => p.Seed == seed && p.Fraction == 1)).ToList();
        if (reached.Count > 0)
        {
            var level = reached[0].TargetLoss;
            figure.Series.Add(new Series("Scratch's final loss", SeriesKind.Line, [0, Math.Round(max / scale, 6)], [Math.Round(level, 6), Math.Round(level, 6)]));
            double? Cost(SeedSaving p) => wall ? normalised ? p.MethodNormalisedSeconds : p.MethodWallSeconds : p.MethodFlops;
            var points = reached.Where(p => Cost(p) is not null).ToList();
            if (points.Count > 0)
                figure.Series.Add(new Series("first reach", SeriesKind.Points,
                    points.Select(p => Math.Round(Cost(p)!.Value / scale, 6)).ToArray(),
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
        if (r.HeldOutSavings.Count > 0 && e.Definition.Target is { } t)
        {
            var window = r.Curves.FirstOrDefault()?.SmoothingWindow ?? 1;
            var fractions = string.Join(", ", r.HeldOutSavings[0].Targets.Where(x => x.Fraction is not null).Select(x => N(100 * x.Fraction!.Value, "0") + "%"));
            var absolute = r.HeldOutSavings[0].Targets.Where(x => x.Fraction is null).Select(x => N(x.Loss ?? double.NaN, "0.000")).ToList();
            yield return $"Savings (SPEC section 6, `Savings.cs`): held-out targets are Scratch's held-out loss at {fractions} of its budget" +
                         (absolute.Count > 0 ? $" and the absolute held-out losses {string.Join(", ", absolute)} fixed in the definition (Scratch's cost: its own first reach)" : "") +
                         (r.Savings.Count > 0 ? $"; the paper's targets are its training loss (trailing mean over {I(window)} step{(window == 1 ? "" : "s")}, the same for every run) at the same fractions" : "") +
                         ". A target is read off Scratch's curve by linear interpolation in FLOPs; a run's cost is interpolated to its first point at or below it; saving = 1 - cost / Scratch's cost at that fraction. " +
                         $"Over seeds every seed counts: when all reached the target, the mean with a 95% interval, Student's t below {SeedSummary.BootstrapFrom} seeds and a percentile bootstrap " +
                         $"({Savings.DefaultResamples} seeded resamples) from {SeedSummary.BootstrapFrom}, none for one seed; when some did not, the median with those ranked last, marked \"median\". \"not reached\" is no saving, not 0.";
            yield return "Wall time: raw seconds as the trainer measured them, and normalised (`WallTime.Normalised`): each step's seconds times the calibration speed " +
                         $"(GFLOP/s of a fixed workload, one full-depth training step of a fixed copy of the model on a fixed batch in the run's precision, at least 50 ms of whole steps timed after every evaluation; runs recorded before it, which timed a matmul, show no normalised time) of its evaluation interval, over {N(WallTime.ReferenceGflops, "0")} GFLOP/s, " +
                         "so a stretch run while the machine was busy is charged what it would have cost at full speed. A saving is a ratio of two runs' times in one precision, so the reference cancels.";
            if (r.Savings.Concat(r.HeldOutSavings).Any(s => s.WithDependency))
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
