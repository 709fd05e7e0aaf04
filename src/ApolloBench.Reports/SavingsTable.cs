using System.Globalization;
using ApolloBench.Experiments;

namespace ApolloBench.Reports;

/// <summary>One row of a savings table: the paper's numbers (percent) beside the reproduced summaries.</summary>
public sealed record SavingsRow(string Label, double? PaperFlops, double? PaperWall, string? PaperNote, IReadOnlyList<TargetSummary> Targets);

/// <summary>What a savings table shows: FLOPs, or wall time with the normalised or the raw seconds leading.</summary>
public enum SavingsMeasure { Flops, Wall }

/// <summary>The "paper vs reproduced" savings table in markdown, from the savings <see cref="Savings.SummarizeTargets"/> summarised over seeds.</summary>
public static class SavingsTable
{
    /// <summary>
    /// A markdown table: method, the paper's saving, then the reproduced saving at the full-budget target first, the
    /// other fractions after it and the absolute losses last, each cell as <see cref="Format"/> writes it. Wall time leads
    /// with the normalised saving when <paramref name="normalisedLeads"/>, with the raw one otherwise, and shows the other
    /// in parentheses.
    /// </summary>
    public static string Render(IReadOnlyList<SavingsRow> rows, SavingsMeasure measure, bool normalisedLeads = false, string paperWhat = "")
    {
        var targets = Targets(rows);
        bool wall = measure == SavingsMeasure.Wall;
        var what = wall ? "wall-time" : "FLOPs";
        string[] header =
        [
            "method", $"paper {what} saving{paperWhat}",
            .. targets.Select(t => $"reproduced, target = {TargetName(t)}"),
        ];
        var body = rows.Select(r =>
        {
            // A note qualifies the paper's number in this column, or stands in when the paper gives no number at all.
            var number = wall ? r.PaperWall : r.PaperFlops;
            var paper = number is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
            if (r.PaperNote is { } note && (number is not null || (r.PaperFlops is null && r.PaperWall is null)))
                paper = number is null ? note : $"{paper} ({note})";
            return new[] { r.Label, paper }.Concat(targets.Select(k =>
                r.Targets.FirstOrDefault(t => Key(t) == k) is { } t ? (wall ? Wall(t, normalisedLeads) : Format(t.Flops)) : "-")).ToArray();
        });
        return ReportBuilder.Table(header, body);
    }

    /// <summary>The targets of the rows in table order: 100% of Scratch's budget first, the other fractions rising, absolute losses falling.</summary>
    static List<(double? Fraction, double? Loss)> Targets(IReadOnlyList<SavingsRow> rows)
        => rows.SelectMany(r => r.Targets.Select(Key)).Distinct()
            .OrderBy(k => k.Fraction is null).ThenByDescending(k => k.Fraction == 1).ThenBy(k => k.Fraction).ThenByDescending(k => k.Loss).ToList();

    static (double? Fraction, double? Loss) Key(TargetSummary t) => (t.Fraction, t.Fraction is null ? t.Loss : null);

    /// <summary>"Scratch at 25% of its budget", or "held-out loss 5.800" for an absolute target.</summary>
    public static string TargetName((double? Fraction, double? Loss) target)
        => target.Fraction is { } f ? $"Scratch at {Percent(f, "0")} of its budget" : $"held-out loss {(target.Loss ?? double.NaN).ToString("0.000", CultureInfo.InvariantCulture)}";

    /// <summary>
    /// A wall-time cell: the leading saving as <see cref="Format"/> writes it, the other's value in parentheses; raw seconds
    /// lead when normalised ones are not measured for every run, and then a row without them shows the raw saving alone.
    /// </summary>
    public static string Wall(TargetSummary t, bool normalisedLeads)
    {
        if (t.Wall.Reached == 0) return Format(t.Wall);   // no seed reached it: there is no time to normalise
        if (!normalisedLeads) return t.NormalisedWall is { } n ? $"{Format(t.Wall)} (normalised {Value(n)})" : Format(t.Wall);
        return t.NormalisedWall is { } m ? $"{Format(m)} (raw {Value(t.Wall)})" : $"not measured (raw {Format(t.Wall)})";
    }

    /// <summary>
    /// A summary over seeds with its n: "41.6% (n=1)"; "41.6% [38.2%, 44.9%] (n=3)" (mean and 95% interval, every seed
    /// reached); "median 33.3% (reached in 2 of 3 seeds)" when some did not (those ranked last); "median not reached
    /// (reached in 1 of 3 seeds)"; "not reached (n=1)"; "not reached in any of 3 seeds".
    /// </summary>
    public static string Format(SeedSummary s)
    {
        if (s.Reached == 0) return s.Seeds == 1 ? "not reached (n=1)" : $"not reached in any of {s.Seeds} seeds";
        if (s.Reached < s.Seeds) return $"median {Value(s)} (reached in {s.Reached} of {s.Seeds} seeds)";
        var text = (s.AtLeast ? "at least " : "") + Value(s);
        if (s.Low is { } low && s.High is { } high) text += $" [{Percent(low, "0.0")}, {Percent(high, "0.0")}]";
        return text + $" (n={s.Seeds})";
    }

    /// <summary>The summary's value alone: "41.6%", or "not reached".</summary>
    public static string Value(SeedSummary s) => s.Value is { } v ? Percent(v, "0.0") : "not reached";

    /// <summary>What the intervals of these summaries are, for a table's caption.</summary>
    public static string IntervalNote(IEnumerable<SeedSummary> summaries)
    {
        var all = summaries.ToList();
        if (all.Count == 0) return "";
        var parts = new List<string>();
        if (all.Any(s => s.Seeds == 1)) parts.Add("one seed (n=1) has no interval");
        if (all.Any(s => s.Interval == SeedSummary.TInterval)) parts.Add("mean [95% Student-t interval] over the seeds");
        if (all.Any(s => s.Interval == SeedSummary.BootstrapInterval)) parts.Add($"mean [95% percentile-bootstrap interval, {Savings.DefaultResamples} seeded resamples] over the seeds");
        if (all.Any(s => s.Reached > 0 && s.Reached < s.Seeds)) parts.Add("where some seed never reached the target, the median over all seeds with those ranked last");
        if (all.Any(s => s.Capped)) parts.Add("an interval that reached past 100% is cut there, the most a saving can be");
        if (all.Any(s => s.AtLeast)) parts.Add("\"at least\": every seed was already below the target at the method's first evaluation, so it reached it no later than that and the saving is at least this");
        return string.Join("; ", parts);
    }

    static string Percent(double fraction, string format) => (100 * fraction).ToString(format, CultureInfo.InvariantCulture) + "%";
}
