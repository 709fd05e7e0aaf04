using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsvHelper;

namespace ApolloBench.Training;

[CsvRecord]
public partial record CurveRow(long Step, double Loss, double Depth, int Weights, double Flops, double WallSeconds, double LearningRate, double GradNorm, long Tokens, double? ValidLoss,
    double? HiddenSpread = null, double? MachineSpeed = null, double? CpuWait = null);

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
            ? new CurveRow(s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.WallSeconds, s.LearningRate, s.GradNorm, s.Tokens, e.ValidLoss, e.HiddenSpread, e.MachineSpeed,
                double.IsNaN(e.CpuWait) ? null : e.CpuWait)
            : new CurveRow(s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.WallSeconds, s.LearningRate, s.GradNorm, s.Tokens, null)).ToList();
    }

    /// <summary>
    /// Writes the run's records, then the manifest, last: it seals every file already in the folder (weights, vocabulary,
    /// stage snapshots, the records) by length and SHA-256 under "files", and itself (<see cref="SelfSeal"/>), so a finished
    /// run can prove it is whole.
    /// </summary>
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
        var seals = new JsonObject();
        foreach (var file in SealedFiles(dir))
        {
            Core.Durable.FlushFile(Path.Combine(dir, file));
            var seal = Checkpoint.SealOf(Path.Combine(dir, file));
            seals[file] = new JsonObject { ["bytes"] = seal.Bytes, ["sha256"] = seal.Sha256 };
        }
        manifest["files"] = seals;
        manifest[SelfSeal] = new string('0', 64);
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        var at = SelfSealAt(bytes) ?? throw new InvalidOperationException($"{Manifest}: its own seal is not where it was written");
        Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA256.HashData(bytes))).CopyTo(bytes, at);   // hashed with the 64 zeros in place
        Atomic(Path.Combine(dir, Manifest), path =>
        {
            File.WriteAllBytes(path, bytes);
            Core.Durable.FlushFile(path);
        });
        Core.Durable.FlushDirectory(dir);
    }

    /// <summary>
    /// The manifest's own seal: the SHA-256 of the manifest's bytes with this value's 64 hex digits set to '0', so a bit
    /// flipped anywhere in the manifest (a loss, the run key, a file's seal) is caught, not only in the files it seals.
    /// Manifests written before it have none and are checked as before (by the seals of their files).
    /// </summary>
    public const string SelfSeal = "manifestSha256";

    static readonly byte[] SelfSealKey = Encoding.ASCII.GetBytes($"\"{SelfSeal}\": \"");

    /// <summary>Where the 64 hex digits of the manifest's own seal start in its bytes, or null when it has none.</summary>
    static int? SelfSealAt(byte[] manifest)
    {
        int at = manifest.AsSpan().IndexOf(SelfSealKey);
        return at < 0 || at + SelfSealKey.Length + 64 > manifest.Length ? null : at + SelfSealKey.Length;
    }

    /// <summary>Null when the manifest's own seal matches its bytes (or it has none: an older manifest), else what is wrong.</summary>
    static string? VerifySelfSeal(byte[] manifest)
    {
        if (SelfSealAt(manifest) is not { } at) return null;
        var recorded = Encoding.ASCII.GetString(manifest, at, 64);
        var zeroed = (byte[])manifest.Clone();
        Array.Fill(zeroed, (byte)'0', at, 64);
        return string.Equals(recorded, Convert.ToHexStringLower(SHA256.HashData(zeroed)), StringComparison.Ordinal)
            ? null : $"{Manifest}: SHA-256 does not match its own seal ({SelfSeal})";
    }

    /// <summary>
    /// The files a finished run's manifest seals, relative to its folder with '/' separators: everything but the manifest
    /// itself, the writer's lock file, the checkpoint (deleted once the run finishes), downstream results (added later,
    /// each its own record) and temporary files of a writer at work.
    /// </summary>
    static IEnumerable<string> SealedFiles(string dir) => Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
        .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/'))
        .Where(f => f != Manifest && f != Core.FolderLock.FileName && !f.StartsWith(Checkpoint.Folder + "/", StringComparison.Ordinal)
                    && !f.StartsWith("downstream/", StringComparison.Ordinal) && !f.Contains(".tmp-", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal);

    /// <summary>
    /// Null when <paramref name="dir"/> holds a finished run whose files all match the seals its manifest recorded; otherwise
    /// what is wrong, naming the file ("curve.csv: SHA-256 does not match the manifest"). A run without a manifest is
    /// unfinished, not damaged: check <see cref="IsFinished"/> first.
    /// </summary>
    public static string? Verify(string dir)
    {
        JsonObject? files;
        try
        {
            var bytes = File.ReadAllBytes(Path.Combine(dir, Manifest));
            if (VerifySelfSeal(bytes) is { } fault) return fault;
            files = JsonNode.Parse(bytes)?["files"] as JsonObject;
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return $"{Manifest}: unreadable ({e.Message.Split(". ")[0]})";
        }
        if (files is null) return $"{Manifest}: records no file seals (written by an older ApolloBench); train the run again";
        foreach (var (file, node) in files)
        {
            var path = Path.Combine(dir, file);
            if (!File.Exists(path)) return $"{file}: missing";
            long bytes = node!["bytes"]!.GetValue<long>(), actual = new FileInfo(path).Length;
            if (actual != bytes) return $"{file}: {actual} bytes, the manifest recorded {bytes}";
            if (Checkpoint.SealOf(path).Sha256 != node["sha256"]!.GetValue<string>()) return $"{file}: SHA-256 does not match the manifest";
        }
        return null;
    }

    /// <summary>
    /// Empties a run folder to start the run over, keeping only its lock file: the caller holds that lock, and deleting the
    /// file would let another writer lock a new file of the same name while this one still writes.
    /// </summary>
    public static void Clear(string dir)
    {
        if (!Directory.Exists(dir)) return;
        foreach (var sub in Directory.GetDirectories(dir)) Directory.Delete(sub, recursive: true);
        foreach (var file in Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != Core.FolderLock.FileName)) File.Delete(file);
    }

    /// <summary>True when <paramref name="dir"/> holds a finished run's manifest (whole or not: see <see cref="Verify"/>).</summary>
    public static bool IsFinished(string dir) => File.Exists(Path.Combine(dir, Manifest));

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
