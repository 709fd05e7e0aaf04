using System.Text.Json.Nodes;
using ApolloBench.Cli;
using ApolloBench.Tests.Baselines;
using ApolloBench.Training;

namespace ApolloBench.Tests.Cli;

/// <summary>`train --method stackbert|bert2bert|ligo` end to end at smoke scale on a local corpus, and their bad options.</summary>
[Collection(BaselinesCollection.Name)]
public class BaselinesCliTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-baselines-cli-").FullName;
    string Corpus => Path.Combine(root, "corpus");
    string Cache => Path.Combine(root, "cache");
    string Out => Path.Combine(root, "out");

    public BaselinesCliTests()
    {
        Directory.CreateDirectory(Corpus);
        string[] words = ["the", "union", "congress", "people", "nation", "state", "law", "war", "peace", "trade", "year", "government",
            "public", "great", "country", "shall", "must", "our", "and", "of", "to", "in", "we", "have", "been"];
        var rng = new Core.Rng(5);
        for (int d = 0; d < 40; d++)
            File.WriteAllText(Path.Combine(Corpus, $"doc{d:D2}.txt"), string.Join(' ', Enumerable.Range(0, 400).Select(_ => words[rng.NextInt(words.Length)])) + ".");
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    (int Code, string Error) Run(params string[] extra)
    {
        var err = new StringWriter();
        var args = new[] { "train", "--scale", "smoke", "--corpus", Corpus, "--cache", Cache, "--out", Out, "--threads", "1", "--steps", "20", "--eval-every", "10" }
            .Concat(extra).ToArray();
        return (CliApp.Run(args, err), err.ToString().Trim());
    }

    [Theory]
    [InlineData("--stackbert-stages", "stackbert", "0.5")]
    [InlineData("--width-init", "bert2bert", "net2net")]
    [InlineData("--two-stage", "bert2bert", "2")]
    [InlineData("--ligo-steps", "ligo", "many")]
    [InlineData("--ligo-lr", "ligo", "-1")]
    [InlineData("--ligo-warmup", "ligo", "-3")]
    [InlineData("--small-steps", "ligo", "0")]
    [InlineData("--small-layers", "bert2bert", "13")]
    public void Bad_option_is_one_line_naming_it_with_exit_code_2_and_nothing_written(string option, string method, string value)
    {
        var (code, error) = Run("--method", method, option, value);
        Assert.Equal(2, code);
        Assert.Contains(option, error);
        Assert.DoesNotContain('\n', error);
        Assert.False(Directory.Exists(Out), "nothing may be written on bad input");
    }

    [Theory]
    [InlineData("bert", "stackbert")]
    [InlineData("gpt", "stackbert")]
    [InlineData("bert", "bert2bert")]
    [InlineData("gpt", "bert2bert")]
    [InlineData("bert", "ligo")]
    [InlineData("gpt", "ligo")]
    public void Train_records_what_grew_when_and_where_the_flops_went(string model, string method)
    {
        var (code, error) = Run("--model", model, "--method", method, "--ligo-steps", "3", "--small-steps", "4");
        Assert.True(code == 0, error);
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Out, RunFiles.Manifest)))!;
        Assert.Equal(method, manifest["method"]!.GetValue<string>());
        var growths = manifest["growthEvents"]!.AsArray();
        var ledger = manifest["ledger"]!.AsArray();
        Assert.Equal(File.ReadAllLines(Path.Combine(Out, RunFiles.Growth)).Length - 1, growths.Count);
        Assert.Equal(File.ReadAllLines(Path.Combine(Out, RunFiles.Ledger)).Length - 1, ledger.Count);
        Assert.Equal("training steps", ledger[0]!["what"]!.GetValue<string>());
        var results = manifest["results"]!;
        double total = results["totalFlops"]!.GetValue<double>(), external = results["externalFlops"]!.GetValue<double>();
        if (method == "stackbert")
        {
            Assert.Equal([3L, 6L], growths.Select(g => g!["step"]!.GetValue<long>()));   // 0.125 and 0.30 of 20 steps (halves round up)
            Assert.Single(ledger);
            Assert.Equal(0, external);
            return;
        }
        var g0 = Assert.Single(growths)!;
        Assert.Equal(0, g0["step"]!.GetValue<long>());
        Assert.Equal("12x16 (1 heads)", g0["from"]!.GetValue<string>());
        var small = ledger.Single(e => !e!["countedInRun"]!.GetValue<bool>())!;
        Assert.StartsWith("small model 12x16 (4 steps", small["what"]!.GetValue<string>());
        Assert.Equal(small["flops"]!.GetValue<double>(), external);
        Assert.Equal(total + external, results["totalFlopsWithExternal"]!.GetValue<double>(), 6);
        var options = manifest["methodOptions"]!;
        Assert.Equal(4, options["smallModel"]!["steps"]!.GetValue<long>());
        // The small model is a dependency run in the cache: a second run reuses it.
        Assert.Single(Directory.GetDirectories(Path.Combine(Cache, "dependencies")));
        if (method == "ligo")
        {
            Assert.Equal(3, ledger.Count);
            Assert.Equal(3, options["operatorSteps"]!.GetValue<int>());
            Assert.Equal(0, options["operatorWarmupSteps"]!.GetValue<int>());   // default: 10% of the operator steps, rounded
        }
    }
}
