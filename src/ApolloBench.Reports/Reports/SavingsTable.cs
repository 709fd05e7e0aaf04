using System.Globalization;

namespace ApolloBench.Reports;

/// <summary>A method's savings at one target fraction, over seeds.</summary>
public sealed record TargetSummary(double Fraction, SeedSummary Flops, SeedSummary Wall);

/// <summary>One row of a savings table: the paper's numbers (percent) beside the reproduced summaries.</summary>
public sealed record SavingsRow(string Label, double? PaperFlops, double? PaperWall, string? PaperNote, IReadOnlyList<TargetSummary> Targets);

/// <summary>
/// From curves to a "paper vs reproduced" savings table: per seed, <see cref="Savings.Compute"/> against the
/// Scratch run of the same seed; over seeds, <see cref="Savings.Summarize"/>.
/// </summary>
public static class SavingsTable
{
    /// <summary>Pairs seed i of the method with seed i of Scratch and summarises each target over the seeds.</summary>
    public static IReadOnlyList<TargetSummary> Summarize(IReadOnlyList<IReadOnlyList<CurvePoint>> scratchBySeed,
        IReadOnlyList<IReadOnlyList<CurvePoint>> methodBySeed, IReadOnlyList<double> fractions, int window = 1)
    {
        if (scratchBySeed.Count != methodBySeed.Count || scratchBySeed.Count == 0)
            throw new ArgumentException("needs one Scratch curve per method curve (same seeds), and at least one");
        return Summarize(scratchBySeed.Zip(methodBySeed, (s, m) => Savings.Compute(s, m, fractions, window)).ToList(), fractions);
    }

    /// <summary>Summarises each target over seeds from per-seed savings already computed (one list per seed, in <paramref name="fractions"/>' order).</summary>
    public static IReadOnlyList<TargetSummary> Summarize(IReadOnlyList<IReadOnlyList<TargetSaving>> perSeed, IReadOnlyList<double> fractions)
    {
        if (perSeed.Count == 0) throw new ArgumentException("needs at least one seed");
        return fractions.Select((f, i) => new TargetSummary(f,
            Savings.Summarize(perSeed.Select(seed => seed[i].FlopsSaving).ToList()),
            Savings.Summarize(perSeed.Select(seed => seed[i].WallSaving).ToList()))).ToList();
    }

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
