using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;
using ApolloBench.Tests.Reports;
using ApolloBench.Training;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// Records standing in for runs (<see cref="RecordPool"/>), end to end at smoke scale in a checkout of its own: with
/// <c>--from-records</c> a run that another artifact's committed report holds is read from its record and not trained; a
/// damaged record, or one of another run key, is named and not used; <c>records</c> keeps the finished runs of an artifact
/// that is not rendered yet, a fresh clone finishes it from them, and a report that holds them retires the kept copies.
/// </summary>
[Collection("cli")]
public class RecordPoolTests : IDisposable
{
    readonly HarnessWorkspace w = new();

    public void Dispose() => w.Dispose();

    string Committed => Path.Combine(w.Checkout, Repository.ReportsFolder);
    string Kept => Path.Combine(w.Checkout, RecordPool.Folder, "smoke");

    ArtifactPlan Plan(string id) => RunPlanner.Plan(ExperimentLoader.Load(w.Experiments, id, "smoke"),
        new RunSettings { Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1 });

    static string Name(PlannedRun r) => Path.GetFileName(r.Folder);

    [Fact]
    public void With_from_records_a_run_another_artifacts_committed_report_holds_is_read_from_its_record_and_a_bad_record_is_named_and_not_used()
    {
        w.MakeCheckout();
        w.Out = Committed;
        var (code, output, error) = w.Cli("reproduce", "fig7");
        Assert.True(code == 0, error + output);
        var fig7Records = RunRecords.In(Path.Combine(Committed, "fig7", "smoke"));
        var fig6a = Plan("fig6a");
        var scratch = fig6a.Of("scratch").Single();
        var apollo = fig6a.Of("apollo").Single();
        var stackbert = fig6a.Of("stackbert").Single();
        // fig6a's Scratch and Apollo are fig7's Scratch and LVPS: the same run keys, so the same run folders.
        Assert.True(Directory.Exists(Path.Combine(fig7Records, Name(scratch))));
        Assert.True(Directory.Exists(Path.Combine(fig7Records, Name(apollo))));

        // A fresh clone: no runs. Without the flag reproduce trains everything; with it, the shared runs come from fig7's records.
        Directory.Delete(w.Runs, recursive: true);
        w.Out = Path.Combine(w.Root, "rendered");
        (code, output, _) = w.Cli("reproduce", "fig6a", "--status");
        Assert.Equal(0, code);
        Assert.DoesNotContain("from a record", output);
        (code, output, error) = w.Cli("reproduce", "fig6a", "--from-records");
        Assert.True(code == 0, error + output);
        Assert.Contains($"  from a record: {Name(scratch)} (fig6a:scratch): {Path.Combine(fig7Records, Name(scratch))} (not trained)", output);
        Assert.Contains($"  from a record: {Name(apollo)} (fig6a:apollo): {Path.Combine(fig7Records, Name(apollo))} (not trained)", output);
        Assert.Contains("(2 of 5 runs from their records;", output);
        Assert.DoesNotContain(Name(scratch), w.RunFolders());
        Assert.DoesNotContain(Name(apollo), w.RunFolders());
        Assert.Contains(Name(stackbert), w.RunFolders());

        // The report reads the records as the runs wrote them, and keeps them beside it byte for byte.
        var report = Path.Combine(w.Out, "fig6a", "smoke");
        foreach (var run in new[] { scratch, apollo })
        {
            var from = Path.Combine(fig7Records, Name(run));
            var kept = Path.Combine(RunRecords.In(report), Name(run));
            Assert.Equal(ReportFolders.Files(from), ReportFolders.Files(kept));
            foreach (var file in ReportFolders.Files(from))
                Assert.True(File.ReadAllBytes(Path.Combine(from, file)).SequenceEqual(File.ReadAllBytes(Path.Combine(kept, file))), file);
        }
        var fig7Results = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(Committed, "fig7", "smoke", ArtifactResults.FileName)));
        var fig6aResults = ArtifactResults.FromJson(File.ReadAllText(Path.Combine(report, ArtifactResults.FileName)));
        Assert.Equal(fig7Results.Runs.Single(r => r.Run == "scratch").FinalValidLoss, fig6aResults.Runs.Single(r => r.Run == "scratch").FinalValidLoss);

        // A damaged record is named and not used: the run is a job again.
        Directory.Delete(w.Runs, recursive: true);
        w.Out = Path.Combine(w.Root, "nowhere");
        File.AppendAllText(Path.Combine(fig7Records, Name(apollo), RunFiles.Growth), "9,9\n");
        (code, output, _) = w.Cli("reproduce", "fig6a", "--from-records", "--status");
        Assert.Equal(0, code);
        Assert.Contains($"records: {Name(apollo)}: record {Path.Combine(fig7Records, Name(apollo))}: growth.csv: its content does not match record.json; not used", output);
        Assert.Contains($"{Name(apollo)} (fig6a:apollo): not started", output);
        Assert.Contains($"  from a record: {Name(scratch)} (fig6a:scratch)", output);

        // A whole record under another run's folder name is not that run: its manifest's run key says so.
        Directory.Move(Path.Combine(fig7Records, Name(scratch)), Path.Combine(fig7Records, Name(stackbert)));
        (code, output, _) = w.Cli("reproduce", "fig6a", "--from-records", "--status");
        Assert.Equal(0, code);
        Assert.Contains($"records: {Name(stackbert)}: record {Path.Combine(fig7Records, Name(stackbert))}: manifest.json: run key {scratch.Spec.Key()}, not this run's {stackbert.Spec.Key()}; not used", output);
        Assert.DoesNotContain("from a record", output);
    }

    [Fact]
    public void Records_keeps_the_finished_runs_of_an_unrendered_artifact_a_fresh_clone_finishes_it_from_them_and_its_report_retires_them()
    {
        w.MakeCheckout();
        w.Out = Committed;
        var (code, output, error) = w.Cli("reproduce", "fig7", "--shard", "1/2");
        Assert.True(code == 0, error + output);
        Assert.Contains("fig7: report not rendered yet", output);
        var trained = w.RunFolders();
        Assert.InRange(trained.Length, 1, 5);

        (code, output, error) = w.Cli("records", "fig7");
        Assert.True(code == 0, error + output);
        Assert.Equal(trained, Directory.GetDirectories(Kept).Select(Path.GetFileName).Order().ToArray());
        foreach (var name in trained) Assert.Null(RunRecords.Verify(Path.Combine(Kept, name)));
        Assert.Contains($"records: {trained.Length} written, 0 kept already, 0 held by reports, {6 - trained.Length} not finished", output);
        (code, output, _) = w.Cli("records", "fig7");
        Assert.Contains($"records: 0 written, {trained.Length} kept already", output);

        // A fresh clone (the kept records committed, no runs): the rest trains, the kept runs are read, the report is whole.
        Directory.Delete(w.Runs, recursive: true);
        (code, output, error) = w.Cli("reproduce", "fig7", "--from-records");
        Assert.True(code == 0, error + output);
        foreach (var name in trained) Assert.Contains($"  from a record: {name} (fig7:", output);
        Assert.Equal(6 - trained.Length, w.RunFolders().Length);
        Assert.Empty(w.RunFolders().Intersect(trained));
        var records = RunRecords.In(Path.Combine(Committed, "fig7", "smoke"));
        Assert.Equal(6, Directory.GetDirectories(records).Length);
        foreach (var name in trained)
            Assert.True(File.ReadAllBytes(Path.Combine(Kept, name, RunFiles.Manifest)).SequenceEqual(File.ReadAllBytes(Path.Combine(records, name, RunFiles.Manifest))));

        // The committed report holds them now: the kept copies go.
        (code, output, _) = w.Cli("records", "fig7");
        Assert.Equal(0, code);
        Assert.Contains($"records: 0 written, 0 kept already, 6 held by reports, 0 not finished under {w.Runs}, {trained.Length} removed", output);
        Assert.Empty(Directory.GetDirectories(Kept));
    }
}
