using System.Globalization;
using ApolloBench.Experiments;

namespace ApolloBench.Reports;

/// <summary>
/// The measured table of a scale's candidates (<see cref="ScaleCandidates"/>), written into reports/scales.md between
/// two marker lines so the prose around it stays hand-written and the numbers always come from the command.
/// </summary>
public static class ScaleReport
{
    public const string Begin = "<!-- scales: measured candidates begin (written by the `scales` command) -->";
    public const string End = "<!-- scales: measured candidates end -->";

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Section(string scale, IReadOnlyList<CandidateMeasurement> measured, ReportContext context)
    {
        static string L(double v) => v.ToString("0.000", Inv);
        static string P(double? v) => v is { } x ? (100 * x).ToString("0.0", Inv) + "%" : "not reached";
        var rows = measured.Select(m =>
        {
            var t = m.Candidate.Train;
            return new[]
            {
                m.Candidate.IsCurrent ? $"**{m.Candidate.Name}** (= {scale})" : m.Candidate.Name,
                m.Candidate.Arch.ToString().ToUpperInvariant(),
                $"{t.BatchSize} x {t.Steps.ToString("N0", Inv)}",
                $"{t.LearningRate.ToString("G3", Inv)}, {(100 * t.WarmupFraction).ToString("0.##", Inv)}%",
                t.Dropout.ToString("0.##", Inv), t.Precision,
                $"{m.SecondsPerStep.ToString("0.000", Inv)} ({m.MachineSpeed.ToString("0", Inv)})",
                m.ScratchMinutes.ToString("0.0", Inv) + (m.FitsTime ? "" : " (over 30)"),
                L(m.Plateau),
                $"{L(m.ScratchAt5)} ({(m.LeftPlateau ? "left" : "on")})", L(m.ScratchAt25), L(m.ScratchFinal),
                L(m.ApolloAtStageOneEnd), L(m.ApolloFinal),
                m.ApolloCollapsedAtStep is not { } s ? "no"
                    : m.ApolloRecoveredAtStep is { } back ? $"**yes**, at step {s.ToString(Inv)}; recovered by step {back.ToString(Inv)}"
                    : $"**yes**, from step {s.ToString(Inv)} to the end",
                $"{P(m.ApolloSavingToHalf)} / {P(m.ApolloSavingToFinal)}",
                m.Passes ? "yes" : "no",
            };
        });
        return string.Join("\n",
        [
            Begin,
            $"Measured with `scales` ({context.Created}, commit {context.Commit}, {context.Machine}); one seed each; runs trained at",
            $"{string.Join(", ", measured.Select(m => m.Candidate.Train.Threads).Distinct().Select(n => n.ToString(Inv)))} thread(s), steps timed at {string.Join(", ", measured.Select(m => m.TimedThreads).Distinct().Select(n => n.ToString(Inv)))} threads",
            "(seconds per step, with the calibration matmul's GFLOP/s at that moment in brackets: a busy machine shows a lower rate).",
            "Every loss is held-out (full mapping, no dropout). Plateau: the unigram cross-entropy of the held-out targets.",
            $"A candidate passes when Scratch is at least {CandidateMeasurement.PlateauMargin.ToString(Inv)} below the plateau at 5% of its budget, Apollo (paper",
            $"schedule) never collapses (hidden-state spread below {Training.CollapseDetector.Threshold.ToString(Inv)} of the fresh model's), and a Scratch run takes at most {CandidateMeasurement.MaxScratchMinutes.ToString(Inv)} minutes.",
            "",
            ReportBuilder.Table(
                ["candidate", "model", "batch x steps", "peak lr, warmup", "dropout", "precision", "s/step (GFLOP/s)", "Scratch min", "plateau",
                 "Scratch at 5%", "at 25%", "at 100%", "Apollo at end of stage 1", "Apollo final", "Apollo collapsed", "Apollo saving to Scratch's 50% / 100% loss", "passes"],
                rows),
            End,
        ]);
    }

    /// <summary>Puts <paramref name="section"/> in place of the marked section of <paramref name="file"/> (appended when it has none).</summary>
    public static void Write(string file, string section)
    {
        var text = File.Exists(file) ? File.ReadAllText(file) : "# Scales\n";
        int begin = text.IndexOf(Begin, StringComparison.Ordinal), end = text.IndexOf(End, StringComparison.Ordinal);
        text = begin >= 0 && end > begin
            ? text[..begin] + section + text[(end + End.Length)..]
            : text.TrimEnd() + "\n\n" + section + "\n";
        Training.RunFiles.Atomic(file, tmp => File.WriteAllText(tmp, text));
    }
}
