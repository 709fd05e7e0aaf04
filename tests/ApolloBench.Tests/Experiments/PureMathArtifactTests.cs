using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Reports;

namespace ApolloBench.Tests.Experiments;

/// <summary>The pure-math artifacts show exactly what the samplers, mappings and scales compute.</summary>
public class PureMathArtifactTests
{
    static readonly ReportContext Context = new()
    {
        Scale = "cpu", Device = "test", Seeds = "42", Commit = "test", Machine = "test", Created = "2024-01-01T00:00:00Z",
    };

    static ArtifactResults Compute(string id, string scale = "smoke") => PureMath.Compute(ExperimentLoader.Load(Repo.Experiments, id, scale), Context);

    [Theory]
    [InlineData("table1")]
    [InlineData("fig2")]
    [InlineData("fig3")]
    [InlineData("fig9")]
    public void Sampler_series_are_the_exact_probabilities_and_the_draws_agree(string id)
    {
        var e = ExperimentLoader.Load(Repo.Experiments, id, "smoke");
        var results = PureMath.Compute(e, Context);
        var (l, trained) = e.Depth;
        Assert.Equal(e.Samplers.Count * trained.Length, results.Samplers.Count);
        foreach (var s in results.Samplers)
        {
            var def = e.Samplers[s.Key];
            Assert.Equal(DepthSampler.Create(def.Sampler!, def.K).Probabilities(s.Trained, l), s.Probabilities);
            Assert.NotNull(s.Empirical);
            Assert.True(s.Empirical!.Passes, $"{id} {s.Key} N={s.Trained}: {s.Empirical.MaxStandardErrors} SE");
        }

        // The plotted bars are those probabilities, one series per sampler, at depths N..L.
        var figures = ReportBuilder.Build(results, e).Figures;
        Assert.NotEmpty(figures);
        foreach (var figure in figures)
        foreach (var series in figure.Series.Where(x => x.Kind == SeriesKind.Bars))
        {
            int n = (int)Math.Round(series.X.Min());
            var s = results.Samplers.Single(r => r.Label == series.Name && r.Trained == n);
            Assert.Equal(s.Probabilities, series.Y);
            Assert.Equal(Enumerable.Range(s.Trained, l - s.Trained + 1).Select(d => (double)d), series.X.Select(x => Math.Round(x)));
        }
    }

    [Fact]
    public void Table1_matches_the_reference_probabilities_of_spec_section_3()
    {
        var lvps = Compute("table1").Samplers.Where(s => s.Key == "lvps").ToList();
        Assert.Equal(0.5417, lvps[0].Probabilities[0], 4);
        Assert.Equal(0.3250, lvps[1].Probabilities[0], 4);
        Assert.Equal(0.0714, lvps[2].Probabilities[^1], 4);
        Assert.Equal(2.362, lvps[0].MeanDepth, 3);
    }

    [Fact]
    public void Fig4_shows_the_layer_mappings_and_they_match_the_paper()
    {
        var e = ExperimentLoader.Load(Repo.Experiments, "fig4", "cpu");
        var results = PureMath.Compute(e, Context);
        foreach (var m in results.Mappings)
            Assert.Equal(LayerMapping.Map(LayerMapping.Parse(m.Kind), m.From, m.To), m.Map);
        Assert.Equal([0, 1, 2, 0, 1, 2], results.Mappings.Single(m => m.Key == "stack").Map);
        Assert.Equal([0, 0, 1, 1, 2, 2], results.Mappings.Single(m => m.Key == "interpolate").Map);
        var markdown = ReportBuilder.Build(results, e).Markdown;
        Assert.Contains("| stacking 3 -> 6 | W1, W2, W3, W1, W2, W3 | W1, W2, W3, W1, W2, W3 | yes |", markdown);
        Assert.DoesNotContain("| NO |", markdown);
    }

    [Fact]
    public void Table5_at_paper_scale_is_the_papers_table()
    {
        var results = Compute("table5", "paper");
        var e = ExperimentLoader.Load(Repo.Experiments, "table5", "paper");
        foreach (var s in results.Shapes)
        {
            var paper = e.Shapes[s.Key].Paper!;
            Assert.Equal((paper.Layers, paper.Hidden, paper.Heads, paper.Vocab, paper.SeqLen), (s.Layers, s.Hidden, s.Heads, s.Vocab, s.SeqLen));
        }
    }

    [Fact]
    public void Every_pure_math_report_names_scale_device_seeds_and_commit_beside_the_papers_numbers()
    {
        foreach (var id in Repo.PureMathIds)
        {
            var e = ExperimentLoader.Load(Repo.Experiments, id, "smoke");
            var markdown = ReportBuilder.Build(PureMath.Compute(e, Context), e).Markdown;
            Assert.Contains("| scale | device | seeds | commit | machine |", markdown);
            Assert.Contains("| cpu | test | 42 | test | test |", markdown);
            Assert.Contains("## Paper vs reproduced", markdown);
            Assert.Contains(" | paper | ", markdown);
        }
    }
}
