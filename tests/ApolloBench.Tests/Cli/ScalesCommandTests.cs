using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>`scales`: candidates trained like any runs, measured, and written into a marked section of the page.</summary>
public class ScalesCommandTests : IDisposable
{
    readonly HarnessWorkspace w = new();
    public void Dispose() => w.Dispose();

    string Candidates()
    {
        // "same" is the shipped smoke scale itself; "longer" trains 60 steps instead of 40.
        var smoke = File.ReadAllText(Path.Combine(Repo.Experiments, Scales.FileName));
        int start = smoke.IndexOf("\"smoke\": {", StringComparison.Ordinal);
        int end = smoke.IndexOf("\"cpu\": {", StringComparison.Ordinal);
        var body = smoke[(start + "\"smoke\": ".Length)..end].TrimEnd().TrimEnd(',');
        var path = Path.Combine(w.Root, "candidates.json");
        File.WriteAllText(path, $$"""{ "same": {{body}}, "longer": {{body.Replace("\"steps\": 40", "\"steps\": 60")}} }""");
        return path;
    }

    string[] Args(string candidates, string page) => ["scales", "--candidates", candidates, "--scale", "smoke", "--runs", w.Runs, "--cache", w.Cache,
        "--corpus", w.Corpus, "--threads", "1", "--time-threads", "1", "--out", page, "--experiments", Repo.Experiments];

    [Fact]
    public void Candidates_are_trained_measured_and_written_between_the_markers_and_the_current_scale_shares_the_artifacts_runs()
    {
        var page = Path.Combine(w.Root, "scales.md");
        File.WriteAllText(page, $"# Scales\n\nprose before\n\n{ScaleReport.Begin}\nold table\n{ScaleReport.End}\n\nprose after\n");
        var candidates = Candidates();
        Assert.Equal(0, CliApp.Run(Args(candidates, page)));

        var text = File.ReadAllText(page);
        Assert.StartsWith("# Scales\n\nprose before\n\n" + ScaleReport.Begin, text);
        Assert.EndsWith(ScaleReport.End + "\n\nprose after\n", text);
        Assert.DoesNotContain("old table", text);
        var rows = text.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| candidate", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, rows.Count);   // two candidates x BERT, GPT
        Assert.Contains(rows, r => r.StartsWith("| **same** (= smoke) | BERT | 4 x 40 |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.StartsWith("| longer | GPT | 4 x 60 |", StringComparison.Ordinal));

        // The candidate equal to the smoke scale trained the very runs a smoke-scale artifact uses.
        var fig6a = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "smoke"), new RunSettings { Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1 });
        Assert.True(Directory.Exists(fig6a.Of("scratch").First().Folder));
        Assert.True(Directory.Exists(fig6a.Of("apollo").First().Folder));
        Assert.Equal(8, w.RunFolders().Length);

        // A second call trains nothing and writes the same numbers (timings aside).
        var before = w.RunFolders().Select(f => File.GetLastWriteTimeUtc(Path.Combine(w.Runs, f, "manifest.json"))).ToList();
        Assert.Equal(0, CliApp.Run(Args(candidates, page)));
        Assert.Equal(before, w.RunFolders().Select(f => File.GetLastWriteTimeUtc(Path.Combine(w.Runs, f, "manifest.json"))));
    }

    [Fact]
    public void A_bad_candidates_file_is_one_line_naming_the_key()
    {
        var path = Path.Combine(w.Root, "bad.json");
        File.WriteAllText(path, """{ "x": { "train": { "stepz": 3 } } }""");
        var error = new StringWriter();
        Assert.Equal(2, CliApp.Run(Args(path, Path.Combine(w.Root, "p.md")), error));
        Assert.StartsWith($"error: {path}: x.train.stepz: unknown key", error.ToString());
    }
}
