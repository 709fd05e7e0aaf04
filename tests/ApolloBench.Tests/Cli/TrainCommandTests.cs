using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>The `train` command end to end at smoke scale on a local corpus, and every kind of bad input.</summary>
[Collection("cli")]
public class TrainCommandTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-cli-").FullName;
    string Corpus => Path.Combine(root, "corpus");
    string Cache => Path.Combine(root, "cache");
    string Out => Path.Combine(root, "out");

    public TrainCommandTests()
    {
        HarnessWorkspace.WritePseudoCorpus(Corpus);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);

    (int Code, string Error) Run(params string[] extra)
    {
        var err = new StringWriter();
        var args = new[] { "train", "--scale", "smoke", "--corpus", Corpus, "--cache", Cache, "--out", Out, "--threads", "1" }.Concat(extra).ToArray();
        var code = CliApp.Run(args, err);
        return (code, err.ToString().Trim());
    }

    [Theory]
    [InlineData("--model", "--model", "llama")]
    [InlineData("--method", "--method", "magic")]
    [InlineData("--sampler", "--sampler", "zipf")]
    [InlineData("--stages", "--stages", "1,6,3,12")]
    [InlineData("--stages", "--stages", "1,3,6,10")]
    [InlineData("--sampler-k", "--sampler-k", "-1")]
    [InlineData("--mapping", "--mapping", "shuffle")]
    [InlineData("--moments", "--moments", "keep")]
    [InlineData("--scale", "--scale", "huge")]
    [InlineData("--steps", "--steps", "0")]
    [InlineData("--steps", "--steps", "2")]          // too few steps for four stages
    [InlineData("--device", "--device", "tpu")]
    [InlineData("--stage-ends", "--stage-ends", "0.5,0.2,0.9,1.0")]
    public void Bad_option_is_one_line_naming_it_with_exit_code_2_and_nothing_written(string named, string option, string value)
    {
        var (code, error) = Run("--method", "apollo", option, value);
        Assert.Equal(2, code);
        Assert.Contains(named, error);
        Assert.DoesNotContain('\n', error);
        Assert.False(Directory.Exists(Out), "nothing may be written on bad input");
    }

    [Fact]
    public void Missing_corpus_names_the_option_and_the_path()
    {
        var missing = Path.Combine(root, "nope");
        var err = new StringWriter();
        var code = CliApp.Run(["train", "--scale", "smoke", "--corpus", missing, "--cache", Cache, "--out", Out], err);
        Assert.Equal(2, code);
        Assert.Contains("--corpus", err.ToString());
        Assert.Contains(missing, err.ToString());
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public void Empty_corpus_is_refused()
    {
        var empty = Path.Combine(root, "empty");
        Directory.CreateDirectory(empty);
        File.WriteAllText(Path.Combine(empty, "a.txt"), "   \n\n ");
        var err = new StringWriter();
        var code = CliApp.Run(["train", "--scale", "smoke", "--corpus", empty, "--cache", Cache, "--out", Out], err);
        Assert.Equal(2, code);
        Assert.Contains("--corpus", err.ToString());
        Assert.Contains("empty", err.ToString());
        Assert.False(Directory.Exists(Out));
    }

    [Fact]
    public void Unknown_option_is_a_usage_error()
    {
        var (code, error) = Run("--frobnicate", "3");
        Assert.Equal(2, code);
        Assert.Contains("--frobnicate", error);
    }

    [Theory]
    [InlineData("gpt", "apollo")]
    [InlineData("bert", "apollo")]
    [InlineData("bert", "scratch")]
    public void Train_writes_curve_growth_and_manifest(string model, string method)
    {
        var (code, error) = Run("--model", model, "--method", method, "--steps", "20", "--eval-every", "5");
        Assert.True(code == 0, error);
        var curve = ApolloBench.Training.RunFiles.ReadCurve(Out);
        Assert.Equal(20, curve.Count);
        Assert.Equal(4, curve.Count(r => r.ValidLoss is not null));
        Assert.True(curve.Zip(curve.Skip(1)).All(p => p.Second.Flops > p.First.Flops));
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Out, "manifest.json")))!;
        Assert.Equal(model, manifest["model"]!.GetValue<string>());
        Assert.Equal(method, manifest["method"]!.GetValue<string>());
        Assert.Equal("smoke", manifest["scale"]!.GetValue<string>());
        Assert.Equal(1, manifest["environment"]!["threads"]!.GetValue<int>());
        Assert.NotNull(manifest["environment"]!["torchSharp"]);
        var growthLines = File.ReadAllLines(Path.Combine(Out, "growth.csv"));
        Assert.Equal(method == "apollo" ? 4 : 1, growthLines.Length);   // header + 3 growths for Apollo's 4 stages
        // The saved weights load back into a model of the manifest's configuration.
        var arch = model == "bert" ? ApolloBench.Models.Architecture.Bert : ApolloBench.Models.Architecture.Gpt;
        using var reloaded = ApolloBench.Models.LanguageModel.Create(Repo.Scales.Get("smoke").ModelFor(arch), 999);
        ApolloBench.Training.RunFiles.LoadModel(Out, reloaded);
        Assert.Equal(Repo.Scales.Get("smoke").ModelFor(arch).Vocab, (int)reloaded.named_parameters().First().parameter.shape[0]);
    }
}

[CollectionDefinition("cli", DisableParallelization = true)]
public class CliCollection;
