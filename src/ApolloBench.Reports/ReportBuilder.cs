using System.Globalization;
using System.Text;
using ApolloBench.Experiments;

namespace ApolloBench.Reports;

/// <summary>A rendered report: the markdown and the figures it links to (as data; drawn by <see cref="PlotRenderer"/>).</summary>
public sealed record RenderedReport(string Markdown, IReadOnlyList<Figure> Figures);

/// <summary>
/// Renders a report from stored results only: a header naming scale, device, seeds and commit, a
/// "paper vs reproduced" section for every kind of result, one section per output of the definition,
/// and how the numbers were made. Pure: the same results give the same text, in any culture.
/// </summary>
public static class ReportBuilder
{
    public const string ReportFile = "report.md";
    const string PaperName = "\"Preparing Lessons for Progressive Training on Language Models\" (Apollo, arXiv 2401.09192)";

    public static RenderedReport Build(ArtifactResults r, Experiment e)
    {
        var md = new StringBuilder();
        var figures = new List<Figure>();
        var c = r.Context;
        md.AppendLine($"# {r.Id}: {e.Title}").AppendLine();
        md.AppendLine($"Reproduces {e.Reproduces} of {PaperName}.").AppendLine();
        md.Append(Table(["scale", "device", "seeds", "commit", "machine"], [[c.Scale, c.Device, c.Seeds, c.Commit, c.Machine]])).AppendLine();
        if (e.Definition.PaperSource is { } source) md.AppendLine($"Paper's numbers: {source}").AppendLine();
        md.AppendLine(ScaleNote(r, e)).AppendLine();
        if (r.Interim is { } interim) md.AppendLine(InterimNote(interim)).AppendLine();

        md.AppendLine("## Paper vs reproduced").AppendLine();
        if (r.Samplers.Count > 0) md.AppendLine("Depth samplers (exact probabilities, and the mean depth of the draws):").AppendLine().Append(SamplerComparison(r, e)).AppendLine();
        if (r.Mappings.Count > 0) md.AppendLine("Layer mappings (weight run by each layer, 1-based as in the paper):").AppendLine().Append(MappingComparison(r, e)).AppendLine();
        if (r.Shapes.Count > 0) md.AppendLine($"Model shapes (layers / hidden / heads / vocab / sequence length; reproduced = scale {c.Scale}):").AppendLine().Append(ShapeComparison(r, e)).AppendLine();
        if (r.Runs.Count > 0) TrainingReport.Comparison(md, r, e);
        if (r.Runs.Count > 0) TrainingReport.Sections(md, figures, r);

        foreach (var (key, output) in e.Outputs)
        {
            var type = OutputTypes.Find(output.Type!)!;
            md.AppendLine($"## {output.Title ?? key}").AppendLine();
            switch (type.Name)
            {
                case "sampler-table":
                    md.Append(SamplerTable(Included(r.Samplers, e.Included(output, e.Samplers.Keys))));
                    break;
                case "sampler-bars":
                    foreach (var group in Included(r.Samplers, e.Included(output, e.Samplers.Keys)).GroupBy(s => s.Trained))
                    {
                        if (figures.Count > 0 && figures[^1].File.StartsWith(key + "-", StringComparison.Ordinal)) md.AppendLine();
                        var many = r.Samplers.Select(s => s.Trained).Distinct().Count() > 1;
                        var title = $"{output.Title ?? key}: depths {group.Key}-{group.First().Target}";
                        var figure = SamplerBars(many ? $"{key}-n{group.Key}.png" : $"{key}.png", title, group.ToList());
                        figures.Add(figure);
                        md.AppendLine($"![{title}]({figure.File})");
                    }
                    break;
                case "mapping-diagram":
                {
                    var mappings = r.Mappings.Where(m => e.Included(output, e.Mappings.Keys).Contains(m.Key)).ToList();
                    var figure = MappingDiagram($"{key}.png", output.Title ?? key, mappings);
                    figures.Add(figure);
                    md.AppendLine($"![{output.Title ?? key}]({figure.File})").AppendLine().Append(MappingTable(mappings));
                    break;
                }
                case "shape-table":
                    md.Append(ShapeTable(r.Shapes.Where(s => e.Included(output, e.Shapes.Keys).Contains(s.Key)).ToList()));
                    break;
                default:
                    if (r.Runs.Count > 0) TrainingReport.Output(md, figures, key, output, r, e);
                    else md.AppendLine($"Not rendered: {type.Name} needs training runs, and these results hold none.");
                    break;
            }
            md.AppendLine();
        }

        md.AppendLine("## How these numbers were made").AppendLine();
        foreach (var note in Notes(r, e)) md.AppendLine($"- {note}");
        return new RenderedReport(md.ToString().ReplaceLineEndings("\n").TrimEnd() + "\n", figures);
    }

    /// <summary>The banner of an interim report: how many runs it holds, that it is not the artifact's result yet, and which runs it lacks.</summary>
    static string InterimNote(InterimState interim)
        => $"**Interim report: {interim.Finished} of {interim.PlannedRuns} runs.** Rendered from the runs that had finished; every number and " +
           "figure below covers those only (a comparison missing a run is left out), and the artifact's result is the full report that " +
           $"replaces this one once the rest have trained. Not finished: {string.Join(", ", interim.Missing)}.";

    static string ScaleNote(ArtifactResults r, Experiment e)
    {
        if (r.Shapes.Count > 0)
            return r.Context.Scale == "paper"
                ? "Computed exactly, no training: the shapes this suite builds at scale paper."
                : $"Computed exactly, no training: the shapes this suite builds at scale {r.Context.Scale}, reduced from the paper's; only scale paper reproduces the paper's shapes.";
        if (!e.NeedsTraining)
            return "Computed exactly from the code that training uses; no model was trained, so the numbers do not depend on the scale.";
        var scale = r.Context.Scale == "paper"
            ? "Numbers at the paper's scale."
            : $"Numbers at the reduced scale {r.Context.Scale}; they are this suite's, not the paper's.";
        return scale + LearningRateNote(r, e);
    }

    /// <summary>
    /// " Every run here trains at 0.5x the scale's peak learning rate (...)." when runs trained at a rate other than the
    /// scale's; else "". The rate is each run's own, from its manifest; results written before runs recorded it fall back
    /// to the definition's <c>learningRateFactor</c>.
    /// </summary>
    static string LearningRateNote(ArtifactResults r, Experiment e)
    {
        double ScaleRate(string run)
        {
            var model = e.Definition.Runs is { } runs && runs.TryGetValue(run, out var d) ? d.Model : null;
            return e.Scale.TrainFor(ModelShapes.Parse(model ?? e.Definition.Model!)).LearningRate;
        }
        // (label, rate trained, scale's rate) of every run, from the runs when all carry it.
        var trained = r.Runs.Count > 0 && r.Runs.All(x => x.LearningRate is not null)
            ? r.Runs.Select(x => (Label: x.Label, Rate: x.LearningRate!.Value, Own: ScaleRate(x.Run))).DistinctBy(x => x.Label).ToList()
            : (e.Definition.Runs ?? []).Select(kv => (Label: kv.Value.Label ?? kv.Key, Rate: ScaleRate(kv.Key) * (kv.Value.LearningRateFactor ?? 1), Own: ScaleRate(kv.Key))).ToList();
        static bool Same(double a, double b) => Math.Abs(a - b) <= 1e-9 * Math.Max(Math.Abs(a), Math.Abs(b));
        var changed = trained.Where(x => !Same(x.Rate, x.Own)).ToList();
        if (changed.Count == 0) return "";
        static string Rate((string Label, double Rate, double Own) x) =>
            string.Create(CultureInfo.InvariantCulture, $"{Math.Round(x.Rate / x.Own, 6):G}x the scale's peak learning rate ({x.Rate:G3} instead of {x.Own:G3})");
        var rates = changed.Select(Rate).Distinct().ToList();
        return changed.Count == trained.Count && rates.Count == 1
            ? $" Every run here trains at {rates[0]}."
            : " " + string.Join("; ", changed.Select(x => $"{x.Label} trains at {Rate(x)}")) + ".";
    }

    static IEnumerable<string> Notes(ArtifactResults r, Experiment e)
    {
        if (r.Samplers.Count > 0)
        {
            yield return "Exact probabilities: depth d in N..L has mass F(d+1) - F(d) of the sampler's CDF on [N, L+1) (SPEC section 3), from `DepthSampler.Probabilities`, the code Apollo trains with.";
            if (r.Samplers.FirstOrDefault(s => s.Empirical is not null)?.Empirical is { } check)
                yield return $"Empirical check: {Int(check.Draws)} draws per sampler and N with `DepthSampler.Sample` from seeded streams (seeds {r.Context.Seeds}); " +
                             $"'max deviation' is the largest |frequency - probability| in standard errors sqrt(p(1-p)/draws); below {Num(EmpiricalCheck.PassBelow, "0")} passes.";
        }
        if (r.Mappings.Count > 0)
            yield return "Mappings from `LayerMapping.Stack` (paper Eq. 11) and `LayerMapping.Interpolate` (Eq. 12), 0-based in code and shown 1-based (W1 is the first weight).";
        if (r.Shapes.Count > 0)
            yield return "Shapes from `ModelShapes.Resolve`: the scale's hidden size, heads, vocabulary and sequence length; a heads ratio changes the heads and keeps the head width (BERT-Small 8/12, BERT-Large 16/12 of the scale's heads).";
        foreach (var note in TrainingReport.Notes(r, e)) yield return note;
        yield return "Re-render with `report <this folder>`: results.json beside this page holds everything it shows.";
    }

    // ---- paper vs reproduced ------------------------------------------------------------------

    static string SamplerComparison(ArtifactResults r, Experiment e)
    {
        var rows = r.Samplers.Select(s =>
        {
            var paper = e.Samplers.TryGetValue(s.Key, out var def) ? def.Paper?.Formula ?? def.Paper?.Note ?? "-" : "-";
            var p = s.Probabilities;
            return new[]
            {
                s.Label, paper, $"{s.Trained}-{s.Target}", P(p[0]), p.Length > 1 ? P(p[1]) : "-", P(p[^1]), Num(s.MeanDepth, "0.000"),
                s.Empirical is { } c ? Num(c.MeanDepth, "0.000") : "-",
                s.Empirical is { } d ? $"{Num(d.MaxStandardErrors, "0.00")} SE {(d.Passes ? "(ok)" : "(FAILS)")}" : "-",
            };
        });
        return Table(["sampler", "paper", "N-L", "P(N)", "P(N+1)", "P(L)", "mean depth", "drawn mean depth", "max deviation"], rows);
    }

    static string MappingComparison(ArtifactResults r, Experiment e)
    {
        var rows = r.Mappings.Select(m =>
        {
            var paper = e.Mappings.TryGetValue(m.Key, out var def) ? def.Paper?.Mapping : null;
            var reproduced = string.Join(", ", m.Map.Select(w => $"W{w + 1}"));
            var paperText = paper is null ? def?.Paper?.Note ?? "-" : string.Join(", ", Csv.Ints(paper).Select(w => $"W{w + 1}"));
            var same = paper is null ? "-" : Csv.Ints(paper).SequenceEqual(m.Map) ? "yes" : "NO";
            return new[] { m.Label, paperText, reproduced, same };
        });
        return Table(["mapping", "paper", "reproduced", "same"], rows);
    }

    static string ShapeComparison(ArtifactResults r, Experiment e)
    {
        var rows = r.Shapes.Select(s =>
        {
            var paper = e.Shapes.TryGetValue(s.Key, out var def) ? def.Paper : null;
            var paperText = paper is null ? "-" : $"{paper.Layers} / {paper.Hidden} / {paper.Heads} / {paper.Vocab} / {paper.SeqLen}";
            var same = paper is null ? "-"
                : paper.Layers == s.Layers && paper.Hidden == s.Hidden && paper.Heads == s.Heads && paper.Vocab == s.Vocab && paper.SeqLen == s.SeqLen ? "yes" : "no";
            return new[] { s.Label, paperText, $"{s.Layers} / {s.Hidden} / {s.Heads} / {s.Vocab} / {s.SeqLen}", same };
        });
        return Table(["model", "paper", "reproduced", "same as paper"], rows);
    }

    // ---- outputs ------------------------------------------------------------------------------

    static List<SamplerResult> Included(List<SamplerResult> all, IReadOnlyList<string> keys) => all.Where(s => keys.Contains(s.Key)).ToList();

    static string SamplerTable(IReadOnlyList<SamplerResult> samplers)
    {
        if (samplers.Count == 0) return "";
        int l = samplers.Max(s => s.Target), lowest = samplers.Min(s => s.Trained);
        var header = new List<string> { "sampler", "N" };
        header.AddRange(Enumerable.Range(lowest, l - lowest + 1).Select(d => $"P({d})"));
        header.Add("mean depth");
        var rows = samplers.Select(s =>
        {
            var row = new List<string> { s.Label, s.Trained.ToString(CultureInfo.InvariantCulture) };
            for (int d = lowest; d <= l; d++) row.Add(d < s.Trained ? "" : P(s.Probabilities[d - s.Trained]));
            row.Add(Num(s.MeanDepth, "0.000"));
            return row.ToArray();
        });
        return Table([.. header], rows);
    }

    static string MappingTable(IReadOnlyList<MappingResult> mappings)
    {
        if (mappings.Count == 0) return "";
        int layers = mappings.Max(m => m.To);
        var rows = Enumerable.Range(0, layers).Select(i =>
            new[] { (i + 1).ToString(CultureInfo.InvariantCulture) }.Concat(mappings.Select(m => i < m.To ? $"W{m.Map[i] + 1}" : "")).ToArray());
        return Table(["layer", .. mappings.Select(m => m.Label)], rows);
    }

    static string ShapeTable(IReadOnlyList<ShapeResult> shapes)
    {
        if (shapes.Count == 0) return "";
        static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        string[][] rows =
        [
            ["# layers", .. shapes.Select(s => I(s.Layers))],
            ["# hidden", .. shapes.Select(s => I(s.Hidden))],
            ["# heads", .. shapes.Select(s => I(s.Heads))],
            ["# vocab", .. shapes.Select(s => I(s.Vocab))],
            ["seq. length", .. shapes.Select(s => I(s.SeqLen))],
        ];
        return Table(["config", .. shapes.Select(s => s.Label)], rows);
    }

    // ---- figures ------------------------------------------------------------------------------

    /// <summary>Grouped bars of each sampler's exact probabilities per depth, with the drawn frequencies as open circles.</summary>
    public static Figure SamplerBars(string file, string title, IReadOnlyList<SamplerResult> samplers)
    {
        int n = samplers[0].Trained, l = samplers[0].Target;
        double width = 0.8 / samplers.Count;
        var figure = new Figure(file, title, "sampled depth L(t)", "probability");
        var drawnX = new List<double>();
        var drawnY = new List<double>();
        for (int s = 0; s < samplers.Count; s++)
        {
            double offset = (s - (samplers.Count - 1) / 2.0) * width;
            var xs = Enumerable.Range(n, l - n + 1).Select(d => Math.Round(d + offset, 6)).ToArray();
            figure.Series.Add(new Series(samplers[s].Label, SeriesKind.Bars, xs, samplers[s].Probabilities, Math.Round(width, 6)));
            if (samplers[s].Empirical is { } check)
            {
                drawnX.AddRange(xs);
                drawnY.AddRange(check.Frequencies);
            }
        }
        if (drawnX.Count > 0)
            figure.Series.Add(new Series($"drawn ({Int(samplers.First(s => s.Empirical is not null).Empirical!.Draws)} each)", SeriesKind.Points, [.. drawnX], [.. drawnY]));
        figure.XTicks.AddRange(Enumerable.Range(n, l - n + 1).Select(d => new Tick(d, d.ToString(CultureInfo.InvariantCulture))));
        return figure;
    }

    /// <summary>The weights (left) and, for each mapping, the layer stack it builds: layer i (bottom = 1) runs weight g(i).</summary>
    public static Figure MappingDiagram(string file, string title, IReadOnlyList<MappingResult> mappings)
    {
        const double boxWidth = 1.6, boxHeight = 0.8, columnGap = 3;
        int weights = mappings.Max(m => m.From), layers = mappings.Max(m => m.To);
        var figure = new Figure(file, title, "", "") { Diagram = true, Width = 260 + 260 * mappings.Count, Height = 140 + 60 * layers };
        double top = layers + 0.4;
        figure.Labels.Add(new Label(columnGap * mappings.Count / 2.0, top + 0.9, title, Bold: true));
        figure.Labels.Add(new Label(0, top, $"{weights} weights", Bold: true));
        for (int j = 0; j < weights; j++)
            figure.Boxes.Add(new Box(-boxWidth / 2, boxWidth / 2, j, j + boxHeight, $"W{j + 1}", j));
        for (int c = 0; c < mappings.Count; c++)
        {
            double x = columnGap * (c + 1);
            figure.Labels.Add(new Label(x, top, mappings[c].Label, Bold: true));
            for (int i = 0; i < mappings[c].To; i++)
                figure.Boxes.Add(new Box(x - boxWidth / 2, x + boxWidth / 2, i, i + boxHeight, $"W{mappings[c].Map[i] + 1}", mappings[c].Map[i]));
        }
        return figure;
    }

    // ---- formatting ---------------------------------------------------------------------------

    static string P(double p) => Num(p, "0.0000");

    static string Num(double v, string format) => double.IsPositiveInfinity(v) ? "inf" : v.ToString(format, CultureInfo.InvariantCulture);

    static string Int(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A GitHub markdown table; '|' inside a cell is escaped.</summary>
    public static string Table(string[] header, IEnumerable<string[]> rows)
    {
        static string Cell(string s) => s.Replace("|", "\\|").ReplaceLineEndings(" ");
        var sb = new StringBuilder();
        sb.Append("| ").AppendJoin(" | ", header.Select(Cell)).AppendLine(" |");
        sb.Append('|').AppendJoin("", header.Select(_ => "---|")).AppendLine();
        foreach (var row in rows) sb.Append("| ").AppendJoin(" | ", row.Select(Cell)).AppendLine(" |");
        return sb.ToString();
    }
}
