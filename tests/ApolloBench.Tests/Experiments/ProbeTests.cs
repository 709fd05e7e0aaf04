using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;

namespace ApolloBench.Tests.Experiments;

/// <summary>The probes of Tables 2-3 and Fig. 5 as pure functions of a model and fixed batches.</summary>
[Collection("cli")]
public class ProbeTests
{
    static readonly ModelConfig Half = new(Architecture.Bert, 6, Hidden: 32, Heads: 2, Vocab: 64, SeqLen: 16);

    static IReadOnlyList<Batch> Batches() => BatchStream.EvaluationBatches(Training.TrainingFixtures.Tokens(4000, seed: 2), Objective.MaskedLm, 4, 16, 64, 2, 7);

    static ProbeMeasurement Measure(LanguageModel model, int[] plan)
    {
        torch.set_num_threads(1);
        var batches = Batches();
        try { return Probes.Measure(model, plan, batches); }
        finally { foreach (var b in batches) b.Dispose(); }
    }

    [Fact]
    public void Interpolation_growth_computes_what_the_half_model_computes_under_the_interpolated_plan()
    {
        using var half = Baselines.BaselineFixtures.Perturbed(Half, 3);
        using var grown = Probes.Grow(half, 12, MappingKind.Interpolate);
        var shared = Measure(half, LayerMapping.Interpolate(6, 12));
        var afterGrowth = Measure(grown, LanguageModel.IdentityPlan(12));
        Assert.Equal(shared.Loss, afterGrowth.Loss, 5);
        Assert.Equal(shared.Activations, afterGrowth.Activations);
        // The same function, but each copy now gets its own gradient instead of the sum over both uses.
        Assert.NotEqual(shared.GradMean, afterGrowth.GradMean);
    }

    [Fact]
    public void Stacking_and_interpolation_give_different_models_from_the_same_weights()
    {
        using var half = Baselines.BaselineFixtures.Perturbed(Half, 3);
        using var stacked = Probes.Grow(half, 12, MappingKind.Stack);
        using var interpolated = Probes.Grow(half, 12, MappingKind.Interpolate);
        Assert.NotEqual(Measure(stacked, LanguageModel.IdentityPlan(12)).Loss, Measure(interpolated, LanguageModel.IdentityPlan(12)).Loss);
    }

    [Fact]
    public void Growing_in_place_matches_growing_into_a_new_model()
    {
        using var full = Baselines.BaselineFixtures.Perturbed(Half with { Layers = 12 }, 4);
        using var copy = Probes.Grow(full, 12, MappingKind.Stack);   // 12 -> 12: a plain copy of the weights before growing
        Apollo.GrowLayers(full, 6, 12, MappingKind.Interpolate);
        // Layer j of the grown model holds old weight floor(j / 2).
        for (int j = 0; j < 12; j++)
            Assert.True(Baselines.BaselineFixtures.Same(full.LayerParameters(j)[0], copy.LayerParameters(j / 2)[0]), $"layer {j}");
    }

    [Fact]
    public void Only_parameters_that_run_get_a_gradient_and_the_measurement_is_repeatable()
    {
        using var model = Baselines.BaselineFixtures.Perturbed(Half with { Layers = 12 }, 5);
        var plan = LayerMapping.Interpolate(3, 12);   // weights 0..2 only
        var a = Measure(model, plan);
        var b = Measure(model, plan);
        Assert.Equal((a.Loss, a.GradMean, a.GradStd), (b.Loss, b.GradMean, b.GradStd));
        long running = model.SharedParameters().Sum(p => p.numel()) + Enumerable.Range(0, 3).Sum(i => model.LayerParameters(i).Sum(p => p.numel()));
        Assert.Equal(running, a.GradElements);
        Assert.Equal(8 * 16 * 32, a.Activations.Length);   // 8 sequences x 16 positions x 32 hidden
        Assert.True(a.GradStd > 0 && a.GradMean > 0);
    }

    [Fact]
    public void Density_integrates_to_one_and_clips_outliers_into_the_end_bins()
    {
        float[] values = [-10, -0.5f, 0.1f, 0.2f, 0.9f, 10];
        var density = Probes.Density(values, -1, 1, 4);
        Assert.Equal(1.0, density.Sum() * 0.5, 12);
        Assert.Equal([1 / 3.0, 1 / 3.0, 2 / 3.0, 2 / 3.0], density.Select(d => Math.Round(d, 12)).ToArray(), new RoundedComparer());
    }

    sealed class RoundedComparer : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-9;
        public int GetHashCode(double obj) => 0;
    }
}
