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
public partial record SavingsCsvRow(string Loss, string Run, string Label, bool WithDependency, long Seed, double Fraction, double TargetLoss, double ScratchFlops,
    double ScratchWallSeconds, double? MethodFlops, double? MethodWallSeconds, double? FlopsSaving, double? WallSaving);

[CsvRecord]
public partial record ProbeCsvRow(string Row, string Label, string Kind, long Seed, int Layers, int Samples, double Loss, double GradMean, double GradStd,
    double ActivationMean, double ActivationStd);

[CsvRecord]
public partial record DownstreamCsvRow(string Run, long Seed, string Task, string Dataset, string Metric, double? Value, string? Status);

/// <summary>
/// Writes a report folder: results.json (the stored results), report.md, the PNG figures and CSV data
/// (samplers.csv, mappings.csv, shapes.csv; savings.csv, probes.csv, downstream.csv). The folder is built under a temporary name and renamed
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
        if (r.Savings.Count > 0)
        {
            using var w = CsvWriter.ToFile(Path.Combine(dir, "savings.csv"));
            // Loss: the target's (train or valid), then the held-out savings reported beside training-loss ones.
            var loss = e.TargetsTrainingLoss ? "train" : "valid";
            var all = r.Savings.Select(s => (Loss: loss, Result: s)).Concat(r.HeldOutSavings.Select(s => (Loss: "valid", Result: s)));
            w.WriteRecords(all.SelectMany(x => x.Result.PerSeed.Select(p =>
                new SavingsCsvRow(x.Loss, x.Result.Run, x.Result.Label, x.Result.WithDependency, p.Seed, p.Fraction, p.TargetLoss,
                    p.ScratchFlops, p.ScratchWallSeconds, p.MethodFlops, p.MethodWallSeconds, p.FlopsSaving, p.WallSaving))).ToList());
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
