using System.IO.Compression;
using System.Text.Json.Nodes;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Reports;
using ApolloBench.Tests.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// Run records end to end at smoke scale, in a checkout of its own: a report made from runs carries its runs' records,
/// and from a "fresh clone" (no runs at all) <c>report --out DIR</c> renders the same report from them, byte for byte
/// but for the render time; a damaged record is named and never rendered; gzip never hides a change from the seals.
/// </summary>
[Collection("cli")]
public class RunRecordsTests : IDisposable
{
    readonly HarnessWorkspace w = new();

    public void Dispose() => w.Dispose();

    string Committed => Path.Combine(w.Checkout, Repository.ReportsFolder);

    [Fact]
    public void A_report_rendered_from_committed_records_in_a_fresh_clone_equals_the_original_but_for_its_render_time()
    {
        w.MakeCheckout();
        w.Out = Committed;   // "--out reports": update the committed reports
        var (code, output, error) = w.Cli("reproduce", "table3,fig2");
        Assert.True(code == 0, error + output);
        var original = Path.Combine(Committed, "table3", "smoke");
        var records = RunRecords.In(original);
        var runFolders = w.RunFolders();
        Assert.Equal(runFolders, Directory.GetDirectories(records).Select(Path.GetFileName).Order().ToArray());
        foreach (var record in Directory.GetDirectories(records))
        {
            Assert.Null(RunRecords.Verify(record));
            Assert.Equal([RunFiles.Curve, RunFiles.Growth, RunFiles.Ledger, RunFiles.Manifest, RunRecords.IndexFile], ReportFolders.Files(record).Order(StringComparer.Ordinal));
            // Full resolution: every step of the run, not the plotted points.
            Assert.Equal(File.ReadAllBytes(Path.Combine(w.Runs, Path.GetFileName(record), RunFiles.Curve)), File.ReadAllBytes(Path.Combine(record, RunFiles.Curve)));
            var index = JsonNode.Parse(File.ReadAllText(Path.Combine(record, RunRecords.IndexFile)))!;
            Assert.Contains(RunFiles.Weights, index["leftOut"]!.AsArray().Select(n => n!.GetValue<string>()));
        }

        // Re-rendering the report folder from its results.json keeps its records.
        var before = ReportFolders.Files(original);
        Assert.Equal(0, w.Cli("report", original).Code);
        Assert.Equal(before, ReportFolders.Files(original));

        // A fresh clone: no runs, another folder to write to. Everything is rendered from what is committed.
        Directory.Delete(w.Runs, recursive: true);
        w.Out = Path.Combine(w.Root, "rendered");
        (code, output, error) = w.Cli("report", "table3,fig2", "--strict");
        Assert.True(code == 0, error + output);
        Assert.Contains($"(from the run records in {records}", output);
        Assert.DoesNotContain("jobs:", output);
        Assert.False(Directory.Exists(w.Runs));
        ReportFolders.AssertSame(original, Path.Combine(w.Out, "table3", "smoke"));
        ReportFolders.AssertSame(Path.Combine(Committed, "fig2", "smoke"), Path.Combine(w.Out, "fig2", "smoke"));
        Assert.Equal(File.ReadAllText(Path.Combine(Committed, ReportIndex.FileName)), File.ReadAllText(Path.Combine(w.Out, ReportIndex.FileName)));

        // A pure-math report recomputed to the same numbers keeps the commit and machine that first computed them.
        var fig2 = Path.Combine(Committed, "fig2", "smoke", ArtifactResults.FileName);
        var stored = JsonNode.Parse(File.ReadAllText(fig2))!;
        stored["context"]!["commit"] = "0123456789ab";
        stored["context"]!["machine"] = "another machine";
        File.WriteAllText(fig2, stored.ToJsonString());
        Assert.Equal(0, w.Cli("report", "fig2").Code);
        var kept = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(w.Out, "fig2", "smoke", ArtifactResults.FileName))).Context;
        Assert.Equal(("0123456789ab", "another machine"), (kept.Commit, kept.Machine));

        // A damaged record is named, and the report is not rendered from it (rendered afresh elsewhere: the copy above is whole).
        w.Out = Path.Combine(w.Root, "rendered-again");
        var curve = Path.Combine(records, runFolders[0], RunFiles.Curve);
        File.AppendAllText(curve, "1,2,3\n");
        (code, output, _) = w.Cli("report", "table3", "--strict");
        Assert.Equal(1, code);
        Assert.Contains($"(seed 42): record {Path.Combine(records, runFolders[0])}: curve.csv: its content does not match record.json", output);
        Assert.StartsWith("records: table3: run ", output.Split('\n').Single(l => l.Contains("does not match", StringComparison.Ordinal)));
        Assert.Contains("not rendered: table3 (", output);
    }

    [Fact]
    public void A_large_record_file_is_stored_gzipped_and_verified_after_decompression_against_the_runs_manifest()
    {
        w.MakeCheckout();
        w.Out = Committed;
        var (code, output, error) = w.Cli("reproduce", "table3");
        Assert.True(code == 0, error + output);
        var experiment = ExperimentLoader.Load(w.Experiments, "table3", "smoke");
        var plan = RunPlanner.Plan(experiment, new RunSettings { Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1 });
        var records = Path.Combine(w.Root, "gz");
        RunRecords.Write(plan, records, compressAbove: 0);

        var run = plan.Runs[0];
        var record = Path.Combine(records, Path.GetFileName(run.Folder));
        Assert.True(File.Exists(Path.Combine(record, RunFiles.Curve + ".gz")));
        Assert.False(File.Exists(Path.Combine(record, RunFiles.Curve)));
        Assert.Null(RunRecords.Verify(record));

        // Unpacked, the records are the run's files byte for byte.
        var into = Path.Combine(w.Root, "unpacked");
        var report = Path.Combine(w.Root, "report-with-gz");
        Directory.CreateDirectory(report);
        Directory.Move(records, RunRecords.In(report));
        var fromRecords = RunRecords.Unpack(plan, report, into);
        foreach (var r in fromRecords.Runs.DistinctBy(r => r.Folder))
        foreach (var file in new[] { RunFiles.Curve, RunFiles.Growth, RunFiles.Ledger, RunFiles.Manifest })
            Assert.True(File.ReadAllBytes(Path.Combine(w.Runs, Path.GetFileName(r.Folder), file)).SequenceEqual(File.ReadAllBytes(Path.Combine(r.Folder, file))), file);

        // Changed content, compressed again and re-sealed in record.json: the run's own manifest still catches it.
        record = Path.Combine(RunRecords.In(report), Path.GetFileName(run.Folder));
        var gz = Path.Combine(record, RunFiles.Curve + ".gz");
        var changed = File.ReadAllBytes(Path.Combine(run.Folder, RunFiles.Curve)).Concat("1,2,3\n"u8.ToArray()).ToArray();
        using (var file = File.Create(gz))
        using (var stream = new GZipStream(file, CompressionLevel.Fastest)) stream.Write(changed);
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(record, RunRecords.IndexFile)))!;
        index["files"]![RunFiles.Curve]!["bytes"] = changed.LongLength;
        index["files"]![RunFiles.Curve]!["sha256"] = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(changed));
        File.WriteAllText(Path.Combine(record, RunRecords.IndexFile), index.ToJsonString());
        Assert.Equal("curve.csv.gz: its content does not match the run's manifest.json", RunRecords.Verify(record));

        File.WriteAllBytes(gz, [1, 2, 3]);
        Assert.Equal("curve.csv.gz: not a readable gzip file", RunRecords.Verify(record));
    }
}
