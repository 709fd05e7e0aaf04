using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace ApolloBench.Reports;

/// <summary>
/// The headline numbers of a report, read generically from its results.json (every list of savings at Scratch's final
/// loss, with intervals and reach counts), for the published site and the reports index.
/// </summary>
public static class Headline
{
    /// <summary>A run's row: its label, the paper's FLOPs saving (or note), the summaries by column, and the paper's wall-time saving when it gives one.</summary>
    public sealed record Row(string Label, string Paper, Dictionary<string, string> Values, string? PaperWall = null);

    public sealed record Table(string Title, string Key, List<string> Columns, List<Row> Rows);

    /// <summary>
    /// Every list of savings in the results (an array whose rows have <c>targets</c>: <c>heldOutSavings</c>, the measure
    /// reports lead with, then <c>savings</c>, the paper's training-loss measure, and any other), each row at its last
    /// budget target (Scratch's loss at the end of its budget): every summary the target holds (<c>flops</c>,
    /// <c>wall</c>, ...: an object with a value or mean) with its interval. Nothing here names a field it does not need.
    /// </summary>
    public static List<Table> Lists(JsonObject results)
    {
        var lists = new List<Table>();
        foreach (var (key, node) in results.OrderBy(kv => kv.Key.StartsWith("heldOut", StringComparison.Ordinal) ? 0 : 1))
        {
            if (node is not JsonArray { Count: > 0 } rows || !rows.All(x => x is JsonObject o && o["targets"] is JsonArray)) continue;
            var columns = new List<string>();
            var list = new List<Row>();
            string? at = null;
            foreach (var row in rows.Cast<JsonObject>())
            {
                var targets = row["targets"]!.AsArray().OfType<JsonObject>().ToList();
                var target = targets.Where(t => Number(t["fraction"]) is not null).MaxBy(t => Number(t["fraction"])) ?? targets.LastOrDefault();
                if (target is null) continue;
                at ??= Number(target["fraction"]) is { } f ? $"at {(100 * f).ToString("0.#", CultureInfo.InvariantCulture)}% of its budget"
                    : Number(target["loss"]) is { } loss ? $"at loss {loss.ToString("0.###", CultureInfo.InvariantCulture)}" : "";
                var values = new Dictionary<string, string>();
                foreach (var (name, summary) in target)
                {
                    if (summary is not JsonObject o || !(o.ContainsKey("value") || o.ContainsKey("mean"))) continue;
                    var column = name switch
                    {
                        "flops" => FlopsColumn,
                        "wall" => WallColumn,
                        "normalisedWall" => "normalised wall-time saving",
                        _ => Words(name).ToLowerInvariant(),
                    };
                    if (!columns.Contains(column)) columns.Add(column);
                    values[column] = Summary(o);
                }
                // The paper's number is of its own measure (the training-loss list), never of the held-out one.
                var paper = key != "savings" ? "-" : Number(row["paperFlops"]) is { } p ? Percent(p / 100) : row["paperNote"]?.GetValue<string>() ?? "-";
                var paperWall = key == "savings" && Number(row["paperWall"]) is { } w ? Percent(w / 100) : null;
                list.Add(new Row(row["label"]?.GetValue<string>() ?? row["run"]?.GetValue<string>() ?? "?", paper, values, paperWall));
            }
            if (list.Count == 0) continue;
            var title = key switch
            {
                "heldOutSavings" => "Savings to Scratch's held-out loss",
                "savings" => "Savings to Scratch's training loss (the paper's measure)",
                _ => Words(key),
            };
            lists.Add(new Table($"{title}, {at}".TrimEnd(',', ' '), key, columns, list));
        }
        return lists;
    }

    /// <summary>
    /// What a report leads with: its first list (held-out savings where it has them), the column read from it, whether that
    /// column is wall time, and the paper's number for each label. A report whose paper numbers are wall-time savings only
    /// (Figure 6b) leads with its own wall-time saving, set beside the paper's; every other with its FLOPs saving.
    /// </summary>
    public sealed record Lead(Table List, string Column, bool Wall, IReadOnlyDictionary<string, string> Paper);

    public const string FlopsColumn = "FLOPs saving", WallColumn = "wall-time saving";

    /// <summary>The report's <see cref="Lead"/>, or null when it has no list of savings.</summary>
    public static Lead? Leading(JsonObject results)
    {
        var lists = Lists(results);
        var first = lists.FirstOrDefault();
        if (first is null || first.Columns.FirstOrDefault() is not { } column) return null;
        var paperRows = lists.FirstOrDefault(l => l.Key == "savings")?.Rows ?? [];
        bool wall = paperRows.Any(r => r.PaperWall is not null) && !paperRows.Any(r => r.Paper.EndsWith('%')) && first.Columns.Contains(WallColumn);
        var paper = paperRows.GroupBy(r => r.Label).ToDictionary(g => g.Key, g => wall ? g.First().PaperWall ?? g.First().Paper : g.First().Paper);
        return new Lead(first, wall ? WallColumn : column, wall, paper);
    }

    /// <summary>A row's value in the lead column, "wall time: " before it when the lead is wall time; "-" when it has none.</summary>
    public static string LeadValue(Lead lead, Row row)
        => row.Values.TryGetValue(lead.Column, out var value) ? (lead.Wall ? $"wall time: {value}" : value) : "-";

    /// <summary>
    /// A summary over seeds: its value with the interval when there is one, and how it was taken when not the mean of
    /// every seed: "41.6% [35.0%, 48.2%] (t interval)", "12.0% (median; 2 of 3 seeds)", "not reached".
    /// </summary>
    public static string Summary(JsonObject s)
    {
        if ((Number(s["value"]) ?? Number(s["mean"])) is not { } value) return "not reached";
        var text = (s["atLeast"] is JsonValue atLeast && atLeast.TryGetValue<bool>(out var lower) && lower ? "at least " : "") + Percent(value);
        if (Number(s["low"]) is { } low && Number(s["high"]) is { } high) text += $" [{Percent(low)}, {Percent(high)}]";
        var how = new List<string>();
        if (s["interval"] is JsonValue interval && interval.TryGetValue<string>(out var kind)) how.Add($"{kind} interval");
        if (s["statistic"] is JsonValue statistic && statistic.TryGetValue<string>(out var stat) && stat != "mean") how.Add(stat);
        if (Number(s["reached"]) is { } reached && Number(s["seeds"]) is { } seeds && reached < seeds)
            how.Add(string.Create(CultureInfo.InvariantCulture, $"{reached:0} of {seeds:0} seeds"));
        return how.Count == 0 ? text : $"{text} ({string.Join("; ", how)})";
    }

    /// <summary>
    /// A saving-vs-budget report's headline, one row per method run (model and budget): "Apollo, BERT 0.5x", its FLOPs saving
    /// to Scratch's final held-out loss of that budget over seeds ("not reached"), its final held-out loss minus that
    /// Scratch's ("+0.019"), and the paper's saving at its own budget.
    /// </summary>
    public static IEnumerable<(string Run, string Saving, string Gap, string Paper)> BudgetRows(Experiments.ArtifactResults results)
        => results.BudgetSavings.GroupBy(b => b.Run).Select(g =>
        {
            var x = g.ToList();
            var saving = Experiments.Savings.Summarize([.. x.Select(v => v.Final)]);
            var gap = Experiments.Savings.Summarize([.. x.Select(v => (double?)(v.MethodFinalLoss - v.ScratchFinalLoss))]);
            return ($"{x[0].Label}, {x[0].Model.ToUpperInvariant()} {x[0].Budget.ToString("0.##", CultureInfo.InvariantCulture)}x",
                saving.Reached == 0 ? "not reached" : SavingsTable.Format(saving), TrainingReport.LossSummary(gap, signed: true),
                x[0].PaperFlops is { } paper ? $"{paper.ToString("0.0", CultureInfo.InvariantCulture)}% (at the paper's budget)" : "-");
        });

    /// <summary>
    /// Each run label's final held-out loss minus the target reference's of the same seed ("+0.017 [-0.001, +0.034]": mean
    /// and 95% interval over seeds), for the runs of a report whose definition names a reference; empty when it names none.
    /// </summary>
    public static Dictionary<string, string> FinalGaps(Experiments.ArtifactResults results)
    {
        var reference = results.Definition["target"]?["reference"]?.GetValue<string>();
        return reference is null ? [] : TrainingReport.FinalLossSummaries(results, reference)
            .Where(x => x.Difference is not null).GroupBy(x => x.Label).ToDictionary(g => g.Key, g => TrainingReport.LossSummary(g.First().Difference!, signed: true));
    }

    public static double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : null;

    public static string Percent(double fraction) => (100 * fraction).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    /// <summary>"heldOutSavings" -> "Held out savings".</summary>
    public static string Words(string key)
    {
        var words = new StringBuilder();
        foreach (var ch in key)
        {
            if (char.IsUpper(ch) && words.Length > 0) words.Append(' ');
            words.Append(words.Length == 0 ? char.ToUpperInvariant(ch) : char.ToLowerInvariant(ch));
        }
        return words.ToString();
    }
}
