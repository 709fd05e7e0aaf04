using ApolloBench.Cli;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// Every kind of bad definition or bad option, through the command line: one line naming the file and
/// the key (or the option), exit code 2, and no result file written.
/// </summary>
[Collection("cli")]
public class MalformedDefinitionTests : IDisposable
{
    readonly DefinitionsFolder folder = new();
    string Definitions => folder.Dir;
    string Out => folder.Out;

    public void Dispose() => folder.Dispose();

    /// <summary>A valid pure-math definition (it reproduces; see the control test).</summary>
    const string Pure = """
        {
          "title": "t", "reproduces": "Table 1", "seeds": 1, "draws": 10,
          "depth": { "target": 6, "trained": "1" },
          "samplers": { "lvps": { "sampler": "lvps" } },
          "mappings": { "m": { "kind": "stack", "from": 3, "to": 6 } },
          "outputs": { "bars": { "type": "sampler-bars" } },
          "scales": { "smoke": { "draws": 5 } }
        }
        """;

    /// <summary>A valid training-driven definition (its runs resolve at every scale; the tests here never train it).</summary>
    const string Training = """
        {
          "title": "t", "reproduces": "Figure 7", "model": "bert", "seeds": 1,
          "runs": {
            "scratch": { "method": "scratch" },
            "lvps": { "method": "apollo", "options": { "sampler": "lvps", "stages": "1,3,6,12" } },
            "small": { "method": "scratch", "headsRatio": 0.67 },
            "b2b": { "method": "bert2bert", "options": { "source": "small" } }
          },
          "target": { "reference": "scratch", "budgetFractions": "0.5,1" },
          "outputs": { "savings": { "type": "savings-table" } },
          "scales": { "smoke": { "seeds": 1 } }
        }
        """;

    static string Edit(string json, string from, string to)
    {
        Assert.Contains(from, json);
        return json.Replace(from, to);
    }

    /// <summary>(case name = file name, definition text or null for none, extra arguments, the key the message must name, whether it names the file).</summary>
    public static TheoryData<string, string?, string[], string, bool> Cases => new()
    {
        // The raw JSON.
        { "invalid-json", Edit(Pure, "\"seeds\": 1,", "\"seeds\": 1,,"), [], "line 2", true },
        { "not-an-object", "[1, 2]", [], "must be a JSON object", true },
        { "array", Edit(Training, "\"runs\": {", "\"list\": [1, 2], \"runs\": {"), [], "list: arrays are not allowed", true },
        { "null-value", Edit(Pure, "\"draws\": 10", "\"draws\": null"), [], "draws: null is not allowed", true },
        { "duplicate-key", Edit(Pure, "\"draws\": 10", "\"draws\": 10, \"Draws\": 11"), [], "Draws: duplicate key", true },
        // The schema, layer by layer.
        { "unknown-key", Edit(Pure, "\"draws\": 10", "\"draws\": 10, \"titel\": \"x\""), [], "titel: unknown key", true },
        { "unknown-nested-key", Edit(Training, "{ \"method\": \"apollo\",", "{ \"method\": \"apollo\", \"sampler\": \"es\","), [], "runs.lvps.sampler: unknown key", true },
        { "wrong-type-number", Edit(Pure, "\"seeds\": 1", "\"seeds\": \"three\""), [], "seeds: 'three' is not an integer", true },
        { "wrong-type-object", Edit(Pure, "\"title\": \"t\"", "\"title\": { \"text\": \"t\" }"), [], "title: expected a string", true },
        { "wrong-type-value-for-object", Edit(Pure, "\"depth\": { \"target\": 6, \"trained\": \"1\" }", "\"depth\": \"6\""), [], "depth: expected an object", true },
        { "unknown-scale-overlay", Edit(Pure, "\"smoke\": { \"draws\": 5 }", "\"huge\": { \"draws\": 5 }"), [], "scales.huge: unknown scale", true },
        { "bad-overlay-key", Edit(Pure, "\"smoke\": { \"draws\": 5 }", "\"gpu\": { \"drawz\": 5 }"), [], "scales.gpu.drawz: unknown key", true },
        { "bad-overlay-value", Edit(Training, "\"smoke\": { \"seeds\": 1 }", "\"smoke\": { \"runs\": { \"lvps\": { \"options\": { \"sampler\": \"zipf\" } } } }"), ["--scale", "smoke"], "scales.smoke.runs.lvps.options.sampler: unknown sampler 'zipf'", true },
        // The whole definition.
        { "missing-title", Edit(Pure, "\"title\": \"t\", ", ""), [], "title: required", true },
        { "missing-runs", Edit(Pure, "\"type\": \"sampler-bars\"", "\"type\": \"loss-vs-flops\""), [], "runs: required by outputs.bars", true },
        { "no-target", Edit(Training, "\"target\": { \"reference\": \"scratch\", \"budgetFractions\": \"0.5,1\" },", ""), [], "target: required by outputs.savings", true },
        { "no-outputs", Edit(Pure, "\"outputs\": { \"bars\": { \"type\": \"sampler-bars\" } },", ""), [], "outputs: required", true },
        { "unknown-method", Edit(Training, "\"method\": \"apollo\"", "\"method\": \"magic\""), [], "runs.lvps.method: unknown method 'magic'", true },
        { "unknown-model", Edit(Training, "\"model\": \"bert\"", "\"model\": \"llama\""), [], "model: unknown model 'llama'", true },
        { "unknown-sampler", Edit(Training, "\"sampler\": \"lvps\"", "\"sampler\": \"x\""), [], "runs.lvps.options.sampler: unknown sampler 'x' (valid: lvps, es", true },
        { "sampler-takes-no-k", Edit(Training, "\"sampler\": \"lvps\"", "\"sampler\": \"us\", \"samplerK\": 3"), [], "runs.lvps.options.samplerK: sampler 'us' takes no k", true },
        { "stages-not-increasing", Edit(Training, "\"1,3,6,12\"", "\"1,6,3,12\""), [], "runs.lvps.options.stages: layer counts must be strictly increasing", true },
        { "stages-not-ending-at-depth", Edit(Training, "\"1,3,6,12\"", "\"1,3,6,10\""), [], "runs.lvps.options.stages: the last stage must train all 12 layers", true },
        { "stage-ends-decreasing", Edit(Training, "\"stages\": \"1,3,6,12\"", "\"stages\": \"1,3,6,12\", \"stageEnds\": \"0.5,0.2,0.9,1\""), [], "runs.lvps.options.stageEnds: ends must be strictly increasing", true },
        { "option-of-another-method", Edit(Training, "{ \"method\": \"scratch\" }", "{ \"method\": \"scratch\", \"options\": { \"mapping\": \"stack\" } }"), [], "runs.scratch.options.mapping: not an option of method 'scratch'", true },
        { "unknown-source-run", Edit(Training, "\"source\": \"small\"", "\"source\": \"tiny\""), [], "runs.b2b.options.source: unknown run 'tiny'", true },
        { "bad-run-name", Edit(Training, "\"lvps\": {", "\"LVPS run\": {"), [], "runs.LVPS run: names may use only lowercase", true },
        { "seeds-zero", Edit(Training, "\"seeds\": 1", "\"seeds\": 0"), [], "seeds: must be between 1 and 1000", true },
        { "seeds-missing", Edit(Training, "\"seeds\": 1,", ""), [], "seeds: required when the definition has runs", true },
        { "target-unknown-run", Edit(Training, "\"reference\": \"scratch\"", "\"reference\": \"scrach\""), [], "target.reference: unknown run 'scrach'", true },
        { "target-not-scratch", Edit(Training, "\"reference\": \"scratch\"", "\"reference\": \"lvps\""), [], "target.reference: must be a scratch run", true },
        { "target-fractions", Edit(Training, "\"0.5,1\"", "\"0.5,1.5\""), [], "target.budgetFractions: every fraction must lie in (0, 1]", true },
        { "target-losses-not-numbers", Edit(Training, "\"budgetFractions\": \"0.5,1\"", "\"budgetFractions\": \"0.5,1\", \"losses\": \"5.9,low\""), [], "target.losses: '5.9,low' is not a comma-separated list of numbers", true },
        { "target-losses-negative", Edit(Training, "\"budgetFractions\": \"0.5,1\"", "\"budgetFractions\": \"0.5,1\", \"losses\": \"5.9,-1\""), [], "target.losses: every loss must be a finite number > 0", true },
        { "target-losses-twice", Edit(Training, "\"budgetFractions\": \"0.5,1\"", "\"budgetFractions\": \"0.5,1\", \"losses\": \"5.9,5.9\""), [], "target.losses: a loss is listed twice", true },
        { "paper-unknown-number", Edit(Training, "\"options\": { \"sampler\": \"lvps\"", "\"paper\": { \"flopSaving\": 41.6 }, \"options\": { \"sampler\": \"lvps\""), [], "runs.lvps.paper.flopSaving: unknown key", true },
        { "unknown-output-type", Edit(Pure, "\"sampler-bars\"", "\"pie\""), [], "outputs.bars.type: unknown output type 'pie'", true },
        { "include-unknown-entry", Edit(Pure, "\"type\": \"sampler-bars\"", "\"type\": \"sampler-bars\", \"include\": \"lvps,es\""), [], "outputs.bars.include: unknown samplers entry 'es'", true },
        { "depth-not-increasing", Edit(Pure, "\"trained\": \"1\"", "\"trained\": \"3,1\""), [], "depth.trained: must be strictly increasing", true },
        { "mapping-shrinks", Edit(Pure, "\"from\": 3, \"to\": 6", "\"from\": 6, \"to\": 3"), [], "mappings.m.to: must be between from (6)", true },
        // The command line.
        { "shard-k-above-n", Pure, ["--shard", "3/2"], "--shard: '3/2' needs 1 <= k <= n", false },
        { "shard-malformed", Pure, ["--shard", "a/b"], "--shard: 'a/b' must look like k/n", false },
        { "unknown-scale", Pure, ["--scale", "huge"], "--scale: unknown scale 'huge'", false },
        { "seeds-option-zero", Pure, ["--seeds", "0"], "--seeds: must be between 1 and 1000", false },
        { "set-unknown-key", Pure, ["--set", "samplers.lvps.kk=2"], "--set samplers.lvps.kk: unknown key", true },
        { "set-bad-value", Pure, ["--set", "samplers.lvps.k=-1"], "--set samplers.lvps.k: must be >= 0", true },
        { "set-malformed", Pure, ["--set", "draws"], "--set: 'draws' must look like key=value", false },
        { "no-such-experiment", null, [], "no-such-experiment.json: no such experiment", false },
        { "small-width", Edit(Training, "\"headsRatio\": 0.67", "\"headsRatio\": 1"), [], "runs.small: the small model of 'b2b' is trained by its dependency run", true },
        { "small-deeper", Edit(Training, "\"headsRatio\": 0.67", "\"headsRatio\": 0.67, \"layers\": 13"), [], "runs.small.layers: the small model of 'b2b' cannot be deeper", true },
        { "run-too-short", Training, ["--scale", "smoke", "--set", "runs.lvps.budget=0.02"], "run-too-short:lvps (seed 42): --steps: 1 steps leave stage 1", false },
        { "stackbert-depths", Edit(Training, "\"scratch\": { \"method\": \"scratch\" },", "\"scratch\": { \"method\": \"scratch\" }, \"sb\": { \"method\": \"stackbert\", \"options\": { \"stages\": \"1,3,6,12\" } },"),
            [], "runs.sb.options.stages: StackBERT grows L/4 -> L/2 -> L", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Is_one_line_naming_the_key_with_exit_code_2_and_nothing_written(string name, string? json, string[] extra, string key, bool namesFile)
    {
        if (json is not null) folder.Write(name + ".json", json);
        var (code, error) = folder.Reproduce([name, .. extra]);
        Assert.Equal(2, code);
        Assert.DoesNotContain('\n', error);
        Assert.StartsWith("error: ", error);
        Assert.Contains(key, error);
        if (namesFile) Assert.Contains(Path.Combine(Definitions, name + ".json"), error);
        Assert.False(Directory.Exists(Out), "nothing may be written on bad input");
    }

    [Fact]
    public void At_least_twenty_malformed_cases() => Assert.True(Cases.Count() >= 20);

    [Fact]
    public void The_valid_bases_are_valid()
    {
        File.WriteAllText(Path.Combine(Definitions, "pure.json"), Pure);
        File.WriteAllText(Path.Combine(Definitions, "training.json"), Training);
        var err = new StringWriter();
        Assert.Equal(0, CliApp.Run(["reproduce", "pure", "--experiments", Definitions, "--out", Out, "--scale", "smoke"], err));
        Assert.True(File.Exists(Path.Combine(Out, "pure", "smoke", "report.md")), err.ToString());
        foreach (var scale in new[] { "smoke", "cpu", "gpu", "paper" })
            Assert.True(ApolloBench.Experiments.ExperimentLoader.Load(Definitions, "training", scale).NeedsTraining);
    }

    [Fact]
    public void An_error_in_any_scale_overlay_is_found_whatever_the_scale_asked_for()
    {
        File.WriteAllText(Path.Combine(Definitions, "overlay.json"), Edit(Pure, "\"smoke\": { \"draws\": 5 }", "\"smoke\": { \"draws\": 5 }, \"paper\": { \"seeds\": \"many\" }"));
        var err = new StringWriter();
        Assert.Equal(2, CliApp.Run(["reproduce", "overlay", "--experiments", Definitions, "--out", Out, "--scale", "smoke"], err));
        Assert.Contains("scales.paper.seeds: 'many' is not an integer", err.ToString());
    }

    [Fact]
    public void Reproduce_all_checks_every_run_of_every_artifact_before_computing_training_or_writing_anything()
    {
        File.WriteAllText(Path.Combine(Definitions, "pure.json"), Pure);
        // Valid as a definition; its lvps run is too short for four stages at smoke scale, which only resolving the run finds.
        File.WriteAllText(Path.Combine(Definitions, "training.json"), Edit(Training, "\"method\": \"apollo\",", "\"method\": \"apollo\", \"budget\": 0.02,"));
        var (code, error) = folder.Reproduce("all", "--scale", "smoke");
        Assert.Equal(2, code);
        Assert.Contains("training:lvps (seed 42): --steps:", error);
        Assert.False(Directory.Exists(Out));
        Assert.False(Directory.Exists(folder.Runs));
    }

    [Fact]
    public void An_out_folder_that_is_not_a_report_is_never_replaced()
    {
        File.WriteAllText(Path.Combine(Definitions, "pure.json"), Pure);
        var precious = Path.Combine(Out, "pure", "cpu", "notes.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(precious)!);
        File.WriteAllText(precious, "keep me");
        var err = new StringWriter();
        Assert.Equal(2, CliApp.Run(["reproduce", "pure", "--experiments", Definitions, "--out", Out], err));
        Assert.Contains("is not a report folder", err.ToString());
        Assert.Equal("keep me", File.ReadAllText(precious));
    }
}
