using System.Text.Json;
using System.Text.Json.Nodes;
using CsvHelper;

namespace ApolloBench.Training;

[CsvRecord]
public partial record CurveRow(long Step, double Loss, double Depth, int Weights, double Flops, double WallSeconds, double LearningRate, double GradNorm, long Tokens, double? ValidLoss,
    double? HiddenSpread = null, double? MachineSpeed = null);

[CsvRecord]
public partial record GrowthRow(long Step, string From, string To, double LossBefore, double LossAfter);

[CsvRecord]
public partial record LedgerRow(long Step, string What, double Flops, double Seconds, bool CountedInRun);

/// <summary>
/// A run's files: curve.csv (every step; ValidLoss filled on evaluation steps), growth.csv (every
/// growth event), ledger.csv (where the FLOPs went: the training steps, then every extra cost a method
/// charged, with whether it is counted in the run's totals) and manifest.json. Every file is written to a temporary name and renamed, so a
/// killed run never leaves a half-written file.
/// </summary>
public static class RunFiles
{
    public const string Curve = "curve.csv", Growth = "growth.csv", Ledger = "ledger.csv", Manifest = "manifest.json", Weights = "model.bin";

    /// <summary>The training steps as one row (step = the run's length), then the method's charges in order.</summary>
    public static IReadOnlyList<LedgerRow> LedgerRows(RunResult result)
    {
        double countedFlops = result.Ledger.Where(e => e.CountedInRun).Sum(e => e.Flops);
        double countedSeconds = result.Ledger.Where(e => e.CountedInRun).Sum(e => e.Seconds);
        var rows = new List<LedgerRow> { new(result.Steps.Count, "training steps", result.TotalFlops - countedFlops, result.TotalWallSeconds - countedSeconds, true) };
        rows.AddRange(result.Ledger.Select(e => new LedgerRow(e.Step, e.What, e.Flops, e.Seconds, e.CountedInRun)));
        return rows;
    }

    public static IReadOnlyList<CurveRow> CurveRows(RunResult result)
    {
        var evals = result.Evals.ToDictionary(e => e.Step - 1);
        return result.Steps.Select(s => evals.TryGetValue(s.Step, out var e)
            ? new CurveRow(s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.WallSeconds, s.LearningRate, s.GradNorm, s.Tokens, e.ValidLoss, e.HiddenSpread, e.MachineSpeed)
            : new CurveRow(s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.WallSeconds, s.LearningRate, s.GradNorm, s.Tokens, null)).ToList();
    }

    public static void Write(string dir, RunResult result, JsonObject manifest)
    {
        Directory.CreateDirectory(dir);
        Atomic(Path.Combine(dir, Curve), path => { using var w = CsvWriter.ToFile(path); w.WriteRecords(CurveRows(result)); });
        Atomic(Path.Combine(dir, Growth), path =>
        {
            using var w = CsvWriter.ToFile(path);
            w.WriteRecords(result.Growths.Select(g => new GrowthRow(g.Step, g.From, g.To, g.LossBefore, g.LossAfter)).ToList());
        });
        Atomic(Path.Combine(dir, Ledger), path => { using var w = CsvWriter.ToFile(path); w.WriteRecords(LedgerRows(result)); });
        Atomic(Path.Combine(dir, Manifest), path => File.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true })));
    }

    /// <summary>The trained weights in TorchSharp's format (module.save), beside the manifest that describes the model.</summary>
    public static void SaveModel(string dir, Models.LanguageModel model)
    {
        Directory.CreateDirectory(dir);
        Atomic(Path.Combine(dir, Weights), path => model.save(path));
    }

    /// <summary>Loads weights saved by <see cref="SaveModel"/> into a model built from the same configuration.</summary>
    public static void LoadModel(string dir, Models.LanguageModel model) => model.load(Path.Combine(dir, Weights));

    public static List<CurveRow> ReadCurve(string dir)
    {
        using var r = CsvReader.FromFile(Path.Combine(dir, Curve));
        return r.GetRecords<CurveRow>().ToList();
    }

    /// <summary>Writes through a temporary file in the same folder, then renames it into place.</summary>
    public static void Atomic(string path, Action<string> write)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            write(tmp);
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
