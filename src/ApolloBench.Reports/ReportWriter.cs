using ApolloBench.Core;
using ApolloBench.Experiments;
using CsvHelper;

namespace ApolloBench.Reports;

[CsvRecord]
public partial record SamplerRow(string Sampler, string Label, double? K, int Trained, int Target, int Depth, double Probability, double? Frequency);

[CsvRecord]
public partial record MappingRow(string Mapping, string Kind, int From, int To, int Layer, int Weight);

[CsvRecord]
public partial record ShapeRow(string Shape, string Label, string Model, int Layers, int Hidden, int Heads, int Vocab, int SeqLen);

[CsvRecord]
public partial record SavingsCsvRow(string Loss, string Run, string Label, bool WithDependency, long Seed, double? Fraction, double TargetLoss, double? ScratchFlops,
    double? ScratchWallSeconds, double? MethodFlops, double? MethodWallSeconds, double? FlopsSaving, double? WallSaving,
    double? ScratchNormalisedSeconds, double? MethodNormalisedSeconds, double? NormalisedWallSaving);

/// <summary>
/// One row of speedup.csv: a method's saving at one target of the iso-loss curve, for one seed (<see cref="Seed"/> set,
/// no interval) or over the seeds (<see cref="Seed"/> empty, <see cref="Statistic"/> mean or median).
/// <see cref="AtFirstEvaluation"/>: how many of the row's seeds were already at or below the target at the method's first
/// held-out evaluation, so reached it no later than that and saved at least what the row says (a lower bound; 0 or 1 on
/// a seed's row, a count on the summary's, whose mean is then a lower bound too).
/// </summary>
[CsvRecord]
public partial record SpeedupCsvRow(string Run, string Label, bool WithDependency, double Fraction, long? Seed, double? TargetLoss, string Statistic, int Seeds, int Reached,
    double? FlopsSaving, double? FlopsLow, double? FlopsHigh, double? WallSaving, double? WallLow, double? WallHigh,
    double? NormalisedWallSaving, double? NormalisedLow, double? NormalisedHigh, int AtFirstEvaluation);

[CsvRecord]
public partial record ProbeCsvRow(string Row, string Label, string Kind, long Seed, int Layers, int Samples, double Loss, double GradMean, double GradStd,
    double ActivationMean, double ActivationStd);

[CsvRecord]
public partial record DownstreamCsvRow(string Run, long Seed, string Task, string Dataset, string Metric, double? Value, string? Status);

/// <summary>
/// Writes a report folder: results.json (the stored results), report.md, the PNG figures and CSV data
/// (samplers.csv, mappings.csv, shapes.csv; savings.csv, speedup.csv, probes.csv, downstream.csv). The folder is built under a temporary name and renamed
/// into place, so a failure leaves the previous report (or nothing) and never half of one.
/// </summary>
public static class ReportWriter
{
    /// <summary>Refuses a destination that exists and is not a report folder (it would be replaced wholesale).</summary>
    public static void CheckDestination(string dir, string option = "--out")
    {
        if (File.Exists(dir)) throw new UsageException($"{option}: '{dir}' is a file, not a folder");
        if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any() && !File.Exists(Path.Combine(dir, ArtifactResults.FileName)))
            throw new UsageException($"{option}: '{dir}' exists and is not a report folder (it has no {ArtifactResults.FileName}); choose a new or empty folder");
    }

    /// <param name="alsoWrite">writes more into the folder being built before it is swapped in (the CLI: the runs' records, <see cref="RunRecords"/>).</param>
    public static void Write(string dir, ArtifactResults results, Experiment experiment, Action<string>? alsoWrite = null)
    {
        var rendered = ReportBuilder.Build(results, experiment);
        ReplaceDirectory(dir, tmp =>
        {
            File.WriteAllText(Path.Combine(tmp, ArtifactResults.FileName), results.ToJson());
            File.WriteAllText(Path.Combine(tmp, ReportBuilder.ReportFile), rendered.Markdown);
            foreach (var figure in rendered.Figures) PlotRenderer.SavePng(figure, Path.Combine(tmp, figure.File));
            WriteData(tmp, results, experiment);
            alsoWrite?.Invoke(tmp);
        });
    }

    static void WriteData(string dir, ArtifactResults r, Experiment e)
    {
        if (r.Samplers.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "samplers.csv"));
            w.WriteRecords(r.Samplers.SelectMany(s => s.Probabilities.Select((p, i) =>
                new SamplerRow(s.Key, s.Label, s.K, s.Trained, s.Target, s.Trained + i, p, s.Empirical?.Frequencies[i]))).ToList());
        }
        if (r.Mappings.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "mappings.csv"));
            w.WriteRecords(r.Mappings.SelectMany(m => m.Map.Select((g, i) => new MappingRow(m.Key, m.Kind, m.From, m.To, i, g))).ToList());
        }
        if (r.Savings.Count > 0 || r.HeldOutSavings.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "savings.csv"));
            // Loss: the held-out savings (which reports lead with), then the paper's training-loss ones.
            var all = r.HeldOutSavings.Select(s => (Loss: "valid", Result: s)).Concat(r.Savings.Select(s => (Loss: "train", Result: s)));
            w.WriteRecords(all.SelectMany(x => x.Result.PerSeed.Select(p =>
                new SavingsCsvRow(x.Loss, x.Result.Run, x.Result.Label, x.Result.WithDependency, p.Seed, p.Fraction, p.TargetLoss,
                    p.ScratchFlops, p.ScratchWallSeconds, p.MethodFlops, p.MethodWallSeconds, p.FlopsSaving, p.WallSaving,
                    p.ScratchNormalisedSeconds, p.MethodNormalisedSeconds, p.NormalisedWallSaving))).ToList());
        }
        if (r.Speedup is { Methods.Count: > 0 } speedup)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, TrainingReport.SpeedupCsv));
            w.WriteRecords(SpeedupRows(speedup, r.Curves).ToList());
        }
        if (r.Probes.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "probes.csv"));
            w.WriteRecords(r.Probes.Select(p => new ProbeCsvRow(p.Row, p.Label, p.Kind, p.Seed, p.Layers, p.Samples, p.Loss, p.GradMean, p.GradStd,
                p.ActivationMean, p.ActivationStd)).ToList());
        }
        if (r.Downstream.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "downstream.csv"));
            w.WriteRecords(r.Downstream.Select(d => new DownstreamCsvRow(d.Run, d.Seed, d.Task, d.Dataset, d.Metric, d.Value, d.Status)).ToList());
        }
        if (r.Shapes.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "shapes.csv"));
            w.WriteRecords(r.Shapes.Select(s => new ShapeRow(s.Key, s.Label, s.Model, s.Layers, s.Hidden, s.Heads, s.Vocab, s.SeqLen)).ToList());
        }
    }

    /// <summary>
    /// Per method and target: one row per seed, then the summary over the seeds. A seed's saving is marked a lower bound
    /// where the method's first held-out loss (<paramref name="curves"/>) is already at or below the target.
    /// </summary>
    static IEnumerable<SpeedupCsvRow> SpeedupRows(SpeedupCurves speedup, IReadOnlyList<CurveResult> curves)
    {
        foreach (var m in speedup.Methods)
        {
            var first = speedup.Seeds.Select(seed => curves.FirstOrDefault(c => c.Run == m.Run && c.Seed == seed) is { } c
                ? c.ValidLoss.Where(double.IsFinite).Select(x => (double?)x).FirstOrDefault() : null).ToArray();
            foreach (var (p, j) in speedup.PointsOf(m).Select((p, j) => (p, j)))
            {
                int early = 0;
                for (int s = 0; s < speedup.Seeds.Length; s++)
                {
                    int reached = p.Flops[s] is null ? 0 : 1;
                    int atFirst = reached == 1 && first[s] is { } loss && loss <= speedup.TargetLoss[j][s] ? 1 : 0;
                    early += atFirst;
                    yield return new SpeedupCsvRow(m.Run, m.Label, m.WithDependency, p.Fraction, speedup.Seeds[s], speedup.TargetLoss[j][s], "seed", 1, reached,
                        p.Flops[s], null, null, p.Wall[s], null, null, p.NormalisedWall[s], null, null, atFirst);
                }
                var t = p.Summary;
                yield return new SpeedupCsvRow(m.Run, m.Label, m.WithDependency, p.Fraction, null, null, t.Flops.Statistic, t.Flops.Seeds, t.Flops.Reached,
                    t.Flops.Value, t.Flops.Low, t.Flops.High, t.Wall.Value, t.Wall.Low, t.Wall.High, t.NormalisedWall?.Value, t.NormalisedWall?.Low, t.NormalisedWall?.High,
                    early);
            }
        }
    }

    /// <summary>Builds <paramref name="dir"/> under a temporary sibling name, then swaps it in.</summary>
    public static void ReplaceDirectory(string dir, Action<string> write)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var tmp = $"{full}.tmp-{Environment.ProcessId}";
        var old = $"{full}.old-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        Directory.CreateDirectory(tmp);
        try
        {
            write(tmp);
        }
        catch
        {
            Directory.Delete(tmp, recursive: true);
            throw;
        }
        if (Directory.Exists(full)) Directory.Move(full, old);
        Directory.Move(tmp, full);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }
}
