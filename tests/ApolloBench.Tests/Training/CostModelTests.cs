using ApolloBench.Growth;
using ApolloBench.Training;

namespace ApolloBench.Tests.Training;

public class CostModelTests
{
    [Fact]
    public void Cost_linear_in_depth_gives_the_mean_depth_per_stage()
    {
        // cost(d) = d: relative cost = sum over stages of share * E[depth] / 12, with SPEC.md's mean depths
        // (lvps k=0: N=1 2.362, N=3 5.253, N=6 8.136) and 12 in the last stage.
        var cost = Enumerable.Range(0, 13).Select(d => (double)d).ToArray();
        var rel = CostModel.RelativeCost(StageSchedule.Paper(12), DepthSampler.Create("lvps", null), cost);
        var expected = (0.05 * 2.362 + 0.05 * 5.253 + 0.15 * 8.136 + 0.75 * 12) / 12;
        Assert.Equal(expected, rel, 3);
    }

    [Fact]
    public void Full_sampling_costs_the_same_as_scratch_and_affine_costs_save_less()
    {
        var linear = Enumerable.Range(0, 13).Select(d => (double)d).ToArray();
        Assert.Equal(0.0, CostModel.Saving(StageSchedule.Paper(12), DepthSampler.Create("fs", null), linear), 12);
        // A fixed per-step overhead (embeddings, head, optimizer) shrinks the saving in time below the saving in FLOPs.
        var affine = linear.Select(c => c + 3).ToArray();
        var lvps = DepthSampler.Create("lvps", null);
        Assert.True(CostModel.Saving(StageSchedule.Paper(12), lvps, affine) < CostModel.Saving(StageSchedule.Paper(12), lvps, linear));
    }
}
