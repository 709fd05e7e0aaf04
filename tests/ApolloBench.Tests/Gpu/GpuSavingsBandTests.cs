using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Gpu;

/// <summary>
/// Regression bands of the gpu-scale reproduction: Apollo's FLOPs saving to Scratch's final loss in Figure 6(a) (BERT)
/// and 6(c) (GPT), computed from the stored runs named by APOLLOBENCH_GPU_RUNS, must reach the target in every seed and
/// lie within <see cref="SavingsBand.HalfWidthPoints"/> of the paper's number. Skipped, with the reason, when the
/// variable is unset; the band logic itself is tested on the CPU in <see cref="SavingsBandTests"/>.
/// </summary>
[Trait("Category", "Gpu")]
public class GpuSavingsBandTests
{
    [GpuResultsTheory]
    [InlineData("fig6a")]   // BERT, paper 41.6%
    [InlineData("fig6c")]   // GPT, paper 47.9%
    public void Apollos_gpu_scale_flops_saving_reaches_scratchs_final_loss_within_the_band_around_the_paper(string id)
    {
        var verdict = GpuResults.Measure(Repo.Experiments, id, GpuResults.RunsRoot!);
        Assert.True(verdict.ReachedEverySeed, $"not every seed reached the target: {verdict}");
        Assert.True(verdict.InBand, $"outside the band: {verdict}");
    }
}
