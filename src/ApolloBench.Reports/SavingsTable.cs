using System.Globalization;
using ApolloBench.Experiments;

namespace ApolloBench.Reports;

/// <summary>One row of a savings table: the paper's numbers (percent) beside the reproduced summaries.</summary>
public sealed record SavingsRow(string Label, double? PaperFlops, double? PaperWall, string? PaperNote, IReadOnlyList<TargetSummary> Targets);

/// <summary>The "paper vs reproduced" savings table in markdown, from the savings <see cref="Savings.SummarizeTargets"/> summarised over seeds.</summary>
public static class SavingsTable
{
    /// <summary>
    /// A markdown table: method, the paper's saving, then the reproduced saving at the full-budget target
    /// first and at the other targets after it, each "mean [95% interval]", "not reached", or with the
    /// number of seeds that reached it when some did not.
    /// </summary>
    public static string Render(IReadOnlyList<SavingsRow> rows, bool wall)
    {
        var fractions = rows.SelectMany(r => r.Targets.Select(t => t.Fraction)).Distinct().OrderByDescending(f => f == 1).ThenBy(f => f).ToList();
        var what = wall ? "wall-time" : "FLOPs";
        string[] header =
        [
            "method", $"paper {what} saving",
            .. fractions.Select(f => $"reproduced, target = Scratch at {Percent(f, "0")} of its budget"),
        ];
        var body = rows.Select(r =>
        {
            // A note qualifies the paper's number in this column, or stands in when the paper gives no number at all.
            var number = wall ? r.PaperWall : r.PaperFlops;
            var paper = number is { } p ? p.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
            if (r.PaperNote is { } note && (number is not null || (r.PaperFlops is null && r.PaperWall is null)))
                paper = number is null ? note : $"{paper} ({note})";
            return new[] { r.Label, paper }.Concat(fractions.Select(f =>
                r.Targets.FirstOrDefault(t => t.Fraction == f) is { } t ? Format(wall ? t.Wall : t.Flops) : "-")).ToArray();
        });
        return ReportBuilder.Table(header, body);
    }

    /// <summary>"41.6% [38.2%, 44.9%]"; "not reached"; "(reached in 2 of 3 seeds)" when some seeds did not reach it.</summary>
    public static string Format(SeedSummary s)
    {
        if (s.Mean is not { } mean) return s.Seeds == 1 ? "not reached" : $"not reached in any of {s.Seeds} seeds";
        var text = Percent(mean, "0.0");
        if (s.Low is { } low && s.High is { } high) text += $" [{Percent(low, "0.0")}, {Percent(high, "0.0")}]";
        if (s.Reached < s.Seeds) text += $" (reached in {s.Reached} of {s.Seeds} seeds)";
        return text;
    }

    static string Percent(double fraction, string format) => (100 * fraction).ToString(format, CultureInfo.InvariantCulture) + "%";
}
