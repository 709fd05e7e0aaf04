using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// Run records: what a training-driven report keeps of each of its runs, beside it in
/// <c>&lt;report&gt;/runs/&lt;run folder&gt;/</c>, so that anyone can recompute its numbers from a clone: the manifest, the
/// full-resolution <c>curve.csv</c> (every step, not the plotted few hundred points), <c>growth.csv</c>, <c>ledger.csv</c>
/// and the fine-tuning results the report reads (<c>downstream/</c>). Weights, vocabulary and stage snapshots stay in the
/// run folder (the manifest still seals them, and <see cref="IndexFile"/> lists them as left out), so probes, which are
/// measured on weights, are taken from the report's own results.json when it is re-rendered from records.
/// <para>
/// A file larger than <see cref="CompressAbove"/> is stored gzipped (<c>curve.csv.gz</c>). <see cref="IndexFile"/>
/// seals every stored file by the length and SHA-256 of its content after decompression, and
/// <see cref="Verify"/> checks those, and the manifest's own seals of the run's records, so a record proves it is the run
/// that the manifest describes. A run shared by several reports is stored in each, byte for byte the same, so git keeps
/// one copy.
/// </para>
/// </summary>
public static class RunRecords
{
    /// <summary>The folder of a report that holds its runs' records.</summary>
    public const string Folder = "runs";

    /// <summary>A record's own index: the files it holds (stored name, content length and SHA-256) and the sealed run files it leaves out.</summary>
    public const string IndexFile = "record.json";

    /// <summary>Bytes above which a record file is stored gzipped: about 1,700 curve rows (a cpu-scale BERT run's curve is larger).</summary>
    public const long CompressAbove = 256 * 1024;

    const int Format = 1;
    const string Gz = ".gz";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The records folder of the report folder <paramref name="reportDir"/>.</summary>
    public static string In(string reportDir) => Path.Combine(reportDir, Folder);

    // ---- writing ----------------------------------------------------------------------------

    /// <summary>
    /// Writes the records of every run of <paramref name="plan"/> (finished run folders) into <paramref name="recordsDir"/>,
    /// one folder per run named as the run folder.
    /// </summary>
    public static void Write(ArtifactPlan plan, string recordsDir, long compressAbove = CompressAbove)
    {
        foreach (var runs in plan.Runs.GroupBy(r => r.Folder))
            WriteOne(runs.Key, runs.SelectMany(r => FilesOf(plan, r)).Distinct().ToList(), Path.Combine(recordsDir, Path.GetFileName(runs.Key)), compressAbove);
    }

    /// <summary>The files of a run that an artifact reads, relative to the run folder: the records, then the fine-tunings its downstream tables show.</summary>
    static List<string> FilesOf(ArtifactPlan plan, PlannedRun run)
    {
        var files = new List<string> { RunFiles.Curve, RunFiles.Growth, RunFiles.Ledger };
        var e = plan.Experiment;
        if (e.Definition.Downstream is { } d && JobRunner.DownstreamRuns(e).Contains(run.Name))
            files.AddRange(d.Tasks!.Values.Select(t => FinetuneJob.For(d, t, run.Seed))
                .Where(job => File.Exists(job.PathIn(run.Folder))).Select(job => $"{FinetuneJob.Folder}/{job.FileName}"));
        return files;
    }

    static void WriteOne(string runFolder, IReadOnlyList<string> files, string dest, long compressAbove)
    {
        Directory.CreateDirectory(dest);
        var manifestBytes = File.ReadAllBytes(Path.Combine(runFolder, RunFiles.Manifest));
        File.WriteAllBytes(Path.Combine(dest, RunFiles.Manifest), manifestBytes);
        var stored = new JsonObject { [RunFiles.Manifest] = Entry(RunFiles.Manifest, manifestBytes) };
        foreach (var file in files)
        {
            var bytes = File.ReadAllBytes(Path.Combine(runFolder, file));
            var name = bytes.LongLength > compressAbove ? file + Gz : file;
            var path = Path.Combine(dest, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(path, name.EndsWith(Gz, StringComparison.Ordinal) ? Compress(bytes) : bytes);
            stored[file] = Entry(name, bytes);
        }
        var sealedFiles = JsonNode.Parse(manifestBytes)?["files"] as JsonObject;
        var leftOut = sealedFiles?.Select(kv => kv.Key).Where(f => !files.Contains(f)).Order(StringComparer.Ordinal).ToList() ?? [];
        var index = new JsonObject
        {
            ["format"] = Format,
            ["run"] = Path.GetFileName(runFolder),
            ["files"] = stored,
            ["leftOut"] = new JsonArray(leftOut.Select(f => (JsonNode)f).ToArray()),
        };
        File.WriteAllText(Path.Combine(dest, IndexFile), index.ToJsonString(Indented) + "\n");
    }

    static JsonObject Entry(string stored, byte[] content) => new()
    {
        ["stored"] = stored,
        ["bytes"] = content.LongLength,
        ["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content)),
    };

    /// <summary>gzip with a fixed header (no name, no time), so the same content always compresses to the same bytes with one zlib.</summary>
    static byte[] Compress(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gz = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true)) gz.Write(bytes);
        return buffer.ToArray();
    }

    static byte[] Content(string recordDir, string stored)
    {
        var bytes = File.ReadAllBytes(Path.Combine(recordDir, stored));
        if (!stored.EndsWith(Gz, StringComparison.Ordinal)) return bytes;
        using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
        using var content = new MemoryStream();
        gz.CopyTo(content);
        return content.ToArray();
    }

    /// <summary>Copies the records of <paramref name="runFolders"/> from one records folder to another, byte for byte (a re-render keeps them as they were).</summary>
    public static void Copy(string fromRecords, string toRecords, IEnumerable<string> runFolders)
    {
        foreach (var name in runFolders.Distinct())
        {
            var from = Path.Combine(fromRecords, name);
            foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                var to = Path.Combine(toRecords, name, Path.GetRelativePath(from, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to, overwrite: true);
            }
        }
    }

    /// <summary>Copies one record folder, byte for byte, into <paramref name="toRecords"/> under its own name.</summary>
    public static void CopyOne(string recordDir, string toRecords) => Copy(Path.GetDirectoryName(Path.GetFullPath(recordDir))!, toRecords, [Path.GetFileName(recordDir)]);

    /// <summary>
    /// Writes the record of one finished run into <paramref name="dest"/> (the files the <paramref name="plans"/> read of it),
    /// whole or not at all: it is written beside and moved into place.
    /// </summary>
    public static void WriteRun(IEnumerable<ArtifactPlan> plans, PlannedRun run, string dest)
    {
        var tmp = dest + ".writing";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        var files = plans.SelectMany(p => p.Runs.Where(r => r.Folder == run.Folder).SelectMany(r => FilesOf(p, r))).Distinct().ToList();
        WriteOne(run.Folder, files, tmp, CompressAbove);
        if (Directory.Exists(dest)) Directory.Delete(dest, recursive: true);
        Directory.Move(tmp, dest);
    }

    // ---- reading ----------------------------------------------------------------------------

    /// <summary>
    /// Null when <paramref name="recordDir"/> holds a whole record: every file its index lists is there and its content has
    /// the length and SHA-256 the index recorded, and the run's records (curve.csv, growth.csv, ledger.csv) also match the
    /// seals of the run's own manifest. Otherwise what is wrong, naming the file.
    /// </summary>
    public static string? Verify(string recordDir)
    {
        JsonNode? index, manifest;
        try
        {
            index = JsonNode.Parse(File.ReadAllText(Path.Combine(recordDir, IndexFile)));
            manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(recordDir, RunFiles.Manifest)));
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return $"{IndexFile} or {RunFiles.Manifest}: missing or unreadable ({e.Message.Split(". ")[0]})";
        }
        if (index?["format"]?.ToJsonString() != Format.ToString(System.Globalization.CultureInfo.InvariantCulture))
            return $"{IndexFile}: not a record of format {Format}";
        if (index["files"] is not JsonObject files) return $"{IndexFile}: lists no files";
        if (manifest?["files"] is not JsonObject sealedByManifest) return $"{RunFiles.Manifest}: records no file seals (written by an older ApolloBench)";
        foreach (var record in new[] { RunFiles.Curve, RunFiles.Growth, RunFiles.Ledger })
            if (!files.ContainsKey(record)) return $"{record}: not in the record";
        foreach (var (file, node) in files)
        {
            var stored = node!["stored"]!.GetValue<string>();
            if (!File.Exists(Path.Combine(recordDir, stored))) return $"{stored}: missing";
            byte[] content;
            try
            {
                content = Content(recordDir, stored);
            }
            catch (InvalidDataException)
            {
                return $"{stored}: not a readable gzip file";
            }
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
            if (content.LongLength != node["bytes"]!.GetValue<long>() || sha != node["sha256"]!.GetValue<string>())
                return $"{stored}: its content does not match {IndexFile}";
            if (sealedByManifest[file] is { } seal && (seal["bytes"]!.GetValue<long>() != content.LongLength || seal["sha256"]!.GetValue<string>() != sha))
                return $"{stored}: its content does not match the run's {RunFiles.Manifest}";
        }
        return null;
    }

    /// <summary>What the records in <paramref name="reportDir"/> lack to render <paramref name="plan"/>, one line each; empty when they can.</summary>
    public static IReadOnlyList<string> Missing(ArtifactPlan plan, string reportDir)
    {
        var e = plan.Experiment;
        var lines = new List<string>();
        var records = In(reportDir);
        foreach (var run in plan.Runs.DistinctBy(r => r.Folder))
        {
            var dir = Path.Combine(records, Path.GetFileName(run.Folder));
            var problem = Directory.Exists(dir) ? Verify(dir) : "no record";
            if (problem is not null) lines.Add($"{e.Id}: run {run.Name} (seed {run.Seed}): record {dir}: {problem}");
        }
        if (e.Definition.Probe is not null && MeasuredProbes(plan, reportDir) is null)
            lines.Add($"{e.Id}: probes are measured on the runs' weights, which records do not carry, and {Path.Combine(reportDir, ArtifactResults.FileName)} " +
                      "holds none of this definition at this scale");
        return lines;
    }

    /// <summary>The probes of the report in <paramref name="reportDir"/> when it was made from this definition at this scale (records carry no weights to measure them on).</summary>
    public static IReadOnlyList<ProbeResult>? MeasuredProbes(ArtifactPlan plan, string reportDir)
    {
        var file = Path.Combine(reportDir, ArtifactResults.FileName);
        if (!File.Exists(file)) return null;
        try
        {
            var stored = ArtifactResults.FromJson(File.ReadAllText(file));
            return stored.Fingerprint == plan.Experiment.Fingerprint() && stored.Probes.Count > 0 ? stored.Probes : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the files of one record, decompressed as the run wrote them, into <paramref name="into"/> and returns their
    /// names relative to it ('/' separators, in the index's order): the record as downloadable CSV and JSON.
    /// </summary>
    public static IReadOnlyList<string> Extract(string recordDir, string into)
    {
        var files = JsonNode.Parse(File.ReadAllText(Path.Combine(recordDir, IndexFile)))!["files"]!.AsObject();
        foreach (var (file, node) in files)
        {
            var to = Path.Combine(into, file);
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.WriteAllBytes(to, Content(recordDir, node!["stored"]!.GetValue<string>()));
        }
        return files.Select(kv => kv.Key).ToList();
    }

    /// <summary>
    /// Unpacks the records of <paramref name="plan"/>'s runs from <paramref name="reportDir"/> into run folders under
    /// <paramref name="into"/> (decompressed, as the runs wrote them) and returns the plan with its runs there, so results
    /// are computed from records exactly as from runs. Check <see cref="Missing"/> first.
    /// </summary>
    public static ArtifactPlan Unpack(ArtifactPlan plan, string reportDir, string into)
    {
        foreach (var name in plan.Runs.Select(r => Path.GetFileName(r.Folder)).Distinct())
            Extract(Path.Combine(In(reportDir), name), Path.Combine(into, name));
        return plan with { Runs = plan.Runs.Select(r => r with { Folder = Path.Combine(into, Path.GetFileName(r.Folder)) }).ToList() };
    }
}
