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
                    : m.ApolloRecoveredAtStep is { } back ? $"at step {s.ToString(Inv)}; recovered by step {back.ToString(Inv)}{(m.ApolloCollapsedWhereItCounts ? ", **after it grew**" : ", before it grew")}"
                    : $"**yes**, from step {s.ToString(Inv)} to the end",
                double.IsNaN(m.ApolloSpreadAtFirstGrowth) ? "no evaluation before it" : m.ApolloSpreadAtFirstGrowth.ToString("0.##E+0", Inv),
                $"{P(m.ApolloSavingToHalf)} / {P(m.ApolloSavingToFinal)}",
                m.Passes ? "yes" : "no",
            };
        });
        return string.Join("\n",
        [
            Begin,
            $"Measured with `scales` ({context.Created}, commit {context.Commit}, {context.Machine}); one seed each; runs trained at",
            $"{string.Join(", ", measured.Select(m => m.Candidate.Train.Threads).Distinct().Select(n => n.ToString(Inv)))} thread(s), steps timed at {string.Join(", ", measured.Select(m => m.TimedThreads).Distinct().Select(n => n.ToString(Inv)))} threads",
            "(seconds per step, with the calibration workload's GFLOP/s at that moment in brackets: a busy machine shows a lower rate).",
            "Every loss is held-out (full mapping, no dropout). Plateau: the unigram cross-entropy of the held-out targets.",
            $"A candidate passes when Scratch is at least {CandidateMeasurement.PlateauMargin.ToString(Inv)} below the plateau at 5% of its budget, Apollo (paper schedule) is not",
            $"collapsed (hidden-state spread below {Training.CollapseDetector.Threshold.ToString(Inv)} of the fresh model's) when it first grows nor at its end, and a Scratch run takes at most",
            $"{CandidateMeasurement.MaxScratchMinutes.ToString(Inv)} minutes. A collapse that recovers inside the one-weight stage is shown but does not fail a candidate: growth then copies a healthy block.",
            "",
            ReportBuilder.Table(
                ["candidate", "model", "batch x steps", "peak lr, warmup", "dropout", "precision", "s/step (GFLOP/s)", "Scratch min", "plateau",
                 "Scratch at 5%", "at 25%", "at 100%", "Apollo at end of stage 1", "Apollo final", "Apollo collapsed", "Apollo's spread at its first growth", "Apollo saving to Scratch's 50% / 100% loss", "passes"],
                rows),
            End,
        ]);
    }

    public const string PassesBegin = "<!-- scales: passes over the corpus begin (written by `scales --passes`) -->";
    public const string PassesEnd = "<!-- scales: passes over the corpus end -->";

    /// <summary>The table of <see cref="ScalePassesTable"/>: every scale and architecture, the tokens it trains on, its corpus's and the passes.</summary>
    public static string PassesSection(IReadOnlyList<ScalePasses> rows, ReportContext context)
    {
        var table = rows.Select(r => new[]
        {
            r.Scale, r.Arch.ToString().ToUpperInvariant(), r.Corpus,
            $"{r.Steps.ToString("N0", Inv)} x {r.BatchSize.ToString("N0", Inv)}{(r.Accumulation > 1 ? $" x {r.Accumulation.ToString(Inv)}" : "")} x {r.SeqLen.ToString("N0", Inv)} = {r.Passes.TrainedTokens.ToString("N0", Inv)}",
            r.Passes.CorpusTokens.ToString("N0", Inv),
            r.Passes.TooMany ? $"**{r.Passes.PassesText}**" : r.Passes.PassesText,
        });
        return string.Join("\n",
        [
            PassesBegin,
            $"Computed with `scales --passes` ({context.Created}, commit {context.Commit}): each scale's default corpus tokenised as a run reads it",
            "(cl100k, the training split: 95% of the documents). Tokens trained: steps x sequences per step x sequence length. Passes:",
            $"tokens trained over the corpus's training tokens; over {Data.CorpusPasses.Limit.ToString(Inv)} (bold) every run at that scale warns on its first line.",
            "",
            ReportBuilder.Table(["scale", "model", "default corpus", "tokens trained (steps x batch x seq)", "corpus training tokens", "passes"], table),
            PassesEnd,
        ]);
    }

    /// <summary>Puts <paramref name="section"/> in place of the marked section of <paramref name="file"/> (appended when it has none).</summary>
    public static void Write(string file, string section) => Write(file, section, Begin, End);

    /// <summary>Puts <paramref name="section"/> in place of the section between <paramref name="begin"/> and <paramref name="end"/> (appended when there is none).</summary>
    public static void Write(string file, string section, string begin, string end)
    {
        var text = File.Exists(file) ? File.ReadAllText(file) : "# Scales\n";
        int from = text.IndexOf(begin, StringComparison.Ordinal), to = text.IndexOf(end, StringComparison.Ordinal);
        text = from >= 0 && to > from
            ? text[..from] + section + text[(to + end.Length)..]
            : text.TrimEnd() + "\n\n" + section + "\n";
        Training.RunFiles.Atomic(file, tmp => File.WriteAllText(tmp, text));
    }
}
