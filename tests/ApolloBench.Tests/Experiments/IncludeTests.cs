using ApolloBench.Experiments;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// Shared run sets (experiments/shared/): merged beneath the definition's own layers in the order include base,
/// include overlay, definition base, definition overlay, --set; every problem that comes from one names its file.
/// </summary>
[Collection("cli")]
public class IncludeTests : IDisposable
{
    readonly DefinitionsFolder folder = new();
    string Definitions => folder.Dir;

    public IncludeTests()
    {
        WriteShared("reference", """{ "runs": { "scratch": { "method": "scratch", "label": "Scratch" } }, "target": { "reference": "scratch" } }""");
        WriteShared("growth", """
            {
              "runs": {
                "small": { "method": "scratch", "headsRatio": 0.67 },
                "ligo": { "method": "ligo", "options": { "source": "small", "operatorSteps": 100 } }
              },
              "scales": { "cpu": { "runs": { "ligo": { "options": { "operatorSteps": 30 } } } } }
            }
            """);
    }

    public void Dispose() => folder.Dispose();

    void WriteShared(string name, string json) => folder.Write(SharedName(name), json);

    static string SharedName(string name) => Path.Combine(ExperimentLoader.SharedDirectory, name + ".json");

    string SharedFile(string name) => Path.Combine(Definitions, SharedName(name));

    static string Definition(string include, string runs = "", string scales = "") => $$"""
        {
          "title": "t", "reproduces": "Figure 6", "model": "bert", "seeds": 1, "include": "{{include}}",
          "runs": { "apollo": { "method": "apollo" }{{runs}} },
          "outputs": { "savings": { "type": "savings-table" } }{{scales}}
        }
        """;

    Experiment Load(string json, string scale = "cpu", params string[] overrides)
    {
        folder.Write("art.json", json);
        return ExperimentLoader.Load(Definitions, "art", scale, overrides);
    }

    [Fact]
    public void Included_runs_come_first_and_the_definition_adds_to_them()
    {
        var e = Load(Definition("reference,growth", runs: """, "small": { "label": "Small" }"""));
        Assert.Equal(["scratch", "small", "ligo", "apollo"], e.Runs.Keys);
        Assert.Equal("Small", e.Runs["small"].Label);
        Assert.Equal(0.67, e.Runs["small"].HeadsRatio);
        Assert.Equal("scratch", e.Definition.Target!.Reference);
        // A run that only a scale overlay adds comes after the file's own.
        var added = Load(Definition("reference", scales: """, "scales": { "cpu": { "runs": { "extra": { "method": "apollo" } } } }"""));
        Assert.Equal(["scratch", "apollo", "extra"], added.Runs.Keys);
    }

    [Fact]
    public void Layers_merge_include_base_include_overlay_definition_base_definition_overlay_then_set()
    {
        int? Steps(string json, string scale = "cpu", params string[] set) => Load(json, scale, set).Runs["ligo"].Options!.OperatorSteps;
        Assert.Equal(100, Steps(Definition("reference,growth"), "smoke"));
        Assert.Equal(30, Steps(Definition("reference,growth")));   // the include's cpu overlay
        var ownBase = Definition("reference,growth", runs: """, "ligo": { "options": { "operatorSteps": 50 } }""");
        Assert.Equal(50, Steps(ownBase));   // anything the definition says wins over its includes
        var ownOverlay = Definition("reference,growth", scales: """, "scales": { "cpu": { "runs": { "ligo": { "options": { "operatorSteps": 20 } } } } }""");
        Assert.Equal(20, Steps(ownOverlay));
        Assert.Equal(10, Steps(ownOverlay, "cpu", "runs.ligo.options.operatorSteps=10"));
    }

    [Fact]
    public void A_key_names_the_file_and_layer_that_set_it()
    {
        var e = Load(Definition("reference,growth", runs: """, "ligo": { "label": "LiGO" }"""));
        Assert.Equal($"{SharedFile("growth")}: scales.cpu.runs.ligo.options.operatorSteps", e.Source.Where("runs.ligo.options.operatorSteps"));
        Assert.Equal($"{SharedFile("growth")}: runs.ligo.options.source", e.Source.Where("runs.ligo.options.source"));
        Assert.Equal($"{Path.Combine(Definitions, "art.json")}: runs.ligo.label", e.Source.Where("runs.ligo.label"));
        Assert.Equal($"{SharedFile("growth")}: runs.small.layers", e.Source.Where("runs.small.layers"));   // a key left out: the file that made the run
    }

    [Fact]
    public void The_shipped_definitions_take_their_shared_runs_from_experiments_shared()
    {
        foreach (var id in new[] { "fig6a", "fig6b", "table4" })
        {
            var e = ExperimentLoader.Load(Repo.Experiments, id, "cpu");
            Assert.StartsWith(Path.Combine(Repo.Experiments, "shared", "baselines.json"), e.Source.Where("runs.ligo.options.operatorSteps"));
            Assert.Equal(100, e.Runs["ligo"].Options!.OperatorSteps);   // the paper's at cpu scale too; smoke shortens it
        }
        foreach (var id in new[] { "fig6a", "fig6b", "fig6c", "fig7", "fig8", "table3", "table4" })
            Assert.StartsWith(Path.Combine(Repo.Experiments, "shared", "scratch.json"), ExperimentLoader.Load(Repo.Experiments, id, "cpu").Source.Where("target.reference"));
    }

    /// <summary>(case, the definition's include, a shared file to write (name, text) or null, the file and key the message must name).</summary>
    public static TheoryData<string, string, string?, string?, string> Cases => new()
    {
        { "unknown-include", "reference,nope", null, null, "art.json: include: no shared run set 'nope'" },
        { "named-twice", "reference,reference", null, null, "art.json: include: 'reference' is named twice" },
        { "bad-name", "reference,Growth", null, null, "art.json: include: no shared run set 'Growth'" },
        { "schema", "reference,bad", "bad", """{ "runs": { "x": { "methd": "scratch" } } }""", "bad.json: runs.x.methd: unknown key" },
        { "array", "reference,bad", "bad", """{ "runs": { "x": { "method": ["scratch"] } } }""", "bad.json: runs.x.method: arrays are not allowed" },
        { "nested-include", "reference,bad", "bad", """{ "include": "reference" }""", "bad.json: include: a shared run set cannot include another" },
        { "overlay-of-unknown-scale", "reference,bad", "bad", """{ "scales": { "huge": { "seeds": 1 } } }""", "bad.json: scales.huge: unknown scale 'huge'" },
        { "merged-value", "reference,bad", "bad", """{ "runs": { "l": { "method": "ligo", "options": { "source": "scratch", "operatorSteps": 0 } } } }""", "bad.json: runs.l.options.operatorSteps: must be >= 1 (got 0)" },
        { "merged-overlay-value", "reference,bad", "bad", """{ "runs": { "a": { "method": "apollo" } }, "scales": { "cpu": { "runs": { "a": { "options": { "sampler": "x" } } } } } }""", "bad.json: scales.cpu.runs.a.options.sampler: unknown sampler 'x'" },
        { "planned-run", "reference,bad", "bad", """{ "runs": { "s": { "method": "scratch" }, "b": { "method": "bert2bert", "options": { "source": "s" } } } }""", "bad.json: runs.s: the small model of 'b' is trained by its dependency run" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_problem_from_an_include_names_its_file_in_one_line_with_exit_code_2(string name, string include, string? shared, string? text, string message)
    {
        if (shared is not null) WriteShared(shared, text!);
        folder.Write("art.json", Definition(include));
        var (code, error) = folder.Reproduce("art");
        Assert.True(code == 2, $"{name}: exit code {code}: {error}");
        Assert.DoesNotContain('\n', error);
        Assert.Contains(message, error);
        Assert.Contains(shared is null ? Path.Combine(Definitions, "art.json") : SharedFile(shared), error);
        Assert.False(Directory.Exists(folder.Out), "nothing may be written on bad input");
    }
}
