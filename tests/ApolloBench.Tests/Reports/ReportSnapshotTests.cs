using System.Globalization;
using System.Text.Json.Nodes;
using ApolloBench.Experiments;
using ApolloBench.Reports;
using ApolloBench.Tests.Experiments;
using Snapshooter.Xunit;

namespace ApolloBench.Tests.Reports;

/// <summary>
/// Reports are pure functions of stored results: rendered here from fixed, hand-written results (not
/// computed), with the culture pinned, and compared with committed snapshots (__snapshots__/; CI runs
/// with SNAPSHOOTER_STRICT_MODE=true so a missing snapshot fails instead of being written).
/// </summary>
public class ReportSnapshotTests : IDisposable
{
    readonly CultureInfo culture = CultureInfo.CurrentCulture;
    readonly CultureInfo uiCulture = CultureInfo.CurrentUICulture;

    public ReportSnapshotTests()
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
    }

    public void Dispose()
    {
        CultureInfo.CurrentCulture = culture;
        CultureInfo.CurrentUICulture = uiCulture;
    }

    const string Definition = """
        {
          "title": "Hand-written results",
          "reproduces": "Table 0 (a test artifact)",
          "paperSource": "Made up for the snapshot.",
          "seeds": 2,
          "draws": 1000,
          "depth": { "target": 3, "trained": "1,2" },
          "samplers": {
            "low": { "sampler": "lvps", "label": "Low first", "paper": { "formula": "P(x) = b / x^2" } },
            "flat": { "sampler": "us", "label": "Flat", "paper": { "note": "shape only" } }
          },
          "mappings": {
            "stack": { "kind": "stack", "from": 2, "to": 4, "label": "stack 2 -> 4", "paper": { "mapping": "0,1,0,1" } },
            "interpolate": { "kind": "interpolate", "from": 2, "to": 4, "label": "interpolate 2 -> 4", "paper": { "mapping": "0,0,1,0" } }
          },
          "shapes": {
            "base": { "label": "Base", "model": "bert", "paper": { "layers": 12, "hidden": 768, "heads": 12, "vocab": 30522, "seqLen": 512 } }
          },
          "outputs": {
            "table": { "type": "sampler-table", "title": "Probabilities" },
            "bars": { "type": "sampler-bars", "title": "Bars" },
            "diagram": { "type": "mapping-diagram", "title": "Mappings" },
            "shapes": { "type": "shape-table", "title": "Shapes" }
          }
        }
        """;

    static (ArtifactResults Results, Experiment Experiment) HandWritten()
    {
        var e = ExperimentLoader.Parse("snapshot.json", "snapshot", Definition, "cpu", [], Repo.Experiments);
        var results = new ArtifactResults
        {
            Id = "snapshot",
            Fingerprint = "0123456789abcdef",
            Context = new ReportContext
            {
                Scale = "cpu", Device = "none: exact computation, no training", Seeds = "42, 43",
                Commit = "abcdef012345", Machine = "2 cores, Test OS", Created = "2024-01-01T00:00:00Z",
            },
            Definition = (JsonObject)JsonNode.Parse(e.DefinitionJson())!,
            Samplers =
            [
                new("low", "Low first", "lvps", 0, 1, 3, [0.5, 0.3, 0.2], 1.7, new EmpiricalCheck(2000, [0.51, 0.29, 0.2], 1.69, 0.89)),
                new("low", "Low first", "lvps", 0, 2, 3, [0.6, 0.4], 2.4, new EmpiricalCheck(2000, [0.61, 0.39], 2.39, 0.91)),
                new("flat", "Flat", "us", null, 1, 3, [1 / 3.0, 1 / 3.0, 1 / 3.0], 2, new EmpiricalCheck(2000, [0.3, 0.35, 0.35], 2.05, 3.2)),
                new("flat", "Flat", "us", null, 2, 3, [0.5, 0.5], 2.5, new EmpiricalCheck(2000, [0.6, 0.4], 2.4, 8.94)),
            ],
            Mappings =
            [
                new("stack", "stack 2 -> 4", "stack", 2, 4, [0, 1, 0, 1]),
                new("interpolate", "interpolate 2 -> 4", "interpolate", 2, 4, [0, 0, 1, 1]),
            ],
            Shapes = [new("base", "Base", "bert", 12, 128, 4, 4096, 128)],
        };
        return (results, e);
    }

    [Fact]
    public void Report_markdown()
    {
        var (results, e) = HandWritten();
        Snapshot.Match(ReportBuilder.Build(results, e).Markdown);
    }

    [Fact]
    public void Plotted_series()
    {
        var (results, e) = HandWritten();
        Snapshot.Match(ReportBuilder.Build(results, e).Figures);
    }

    [Fact]
    public void Savings_table()
    {
        static TargetSummary T(double f, SeedSummary flops, SeedSummary wall, SeedSummary? normalised = null) => new(f, flops, wall, normalised);
        static SeedSummary Mean(double value, double low, double high) => new(3, 3, value, low, high, SeedSummary.Mean, SeedSummary.TInterval);
        SavingsRow[] rows =
        [
            new("Apollo", 41.6, 41.1, null, [T(1, Mean(0.402, 0.371, 0.433), Mean(0.35, 0.3, 0.4), Mean(0.38, 0.36, 0.40)), T(0.5, Mean(0.45, 0.41, 0.49), Mean(0.4, 0.38, 0.42), Mean(0.41, 0.4, 0.42))]),
            new("ES", 37.5, null, "derived: 41.6 - 4.1", [T(1, new(3, 2, 0.3, null, null, SeedSummary.Median), new(3, 2, 0.28, null, null, SeedSummary.Median)), T(0.5, Mean(0.31, 0.3, 0.32), Mean(0.3, 0.29, 0.31))]),
            new("US", null, null, "'performing normally'", [T(1, new(3, 0, null, null, null, SeedSummary.Median), new(3, 0, null, null, null, SeedSummary.Median)), T(0.5, new(1, 1, -0.05, null, null), new(1, 1, -0.1, null, null))]),
            new("LVPS at an absolute target", null, null, null, [new TargetSummary(null, new(1, 1, 0.2, null, null), new(1, 1, 0.25, null, null), new(1, 1, 0.22, null, null), Loss: 5.8)]),
        ];
        Snapshot.Match(SavingsTable.Render(rows, SavingsMeasure.Flops) + "\n" + SavingsTable.Render(rows, SavingsMeasure.Wall) + "\n" +
                       SavingsTable.Render(rows, SavingsMeasure.Wall, normalisedLeads: true));
    }

    [Fact]
    public void Rendering_the_same_stored_results_twice_gives_the_same_text()
    {
        var (results, e) = HandWritten();
        var again = ArtifactResults.FromJson(results.ToJson());
        var reloaded = ExperimentLoader.Parse("results.json (definition)", again.Id, again.Definition.ToJsonString(), again.Context.Scale, [], Repo.Experiments);
        Assert.Equal(ReportBuilder.Build(results, e).Markdown, ReportBuilder.Build(again, reloaded).Markdown);
    }
}
