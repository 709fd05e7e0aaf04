using ApolloBench.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// The saving `scales` reports for Apollo (<see cref="ScaleCandidates.Saving"/>), worked by hand: Scratch's cost to a target
/// is what Scratch paid to reach it, not its whole budget.
/// </summary>
public class ScaleSavingTests
{
    static EvalRecord E(long step, double loss, double flops) => new(step, loss, flops, step);

    [Fact]
    public void The_saving_to_scratchs_mid_budget_loss_is_against_half_its_budget()
    {
        // Scratch: 100 FLOPs for its budget, 50 to its mid-budget loss 5.0. The method reaches 5.0 halfway between its
        // evaluations at 40 FLOPs (5.2) and 60 FLOPs (4.8): at 50 FLOPs, no saving against Scratch's 50 (not 50% against its 100).
        var method = new[] { E(10, 6.0, 20), E(20, 5.2, 40), E(30, 4.8, 60), E(40, 4.6, 80) };
        Assert.Equal(0.0, ScaleCandidates.Saving(method, 50, 5.0)!.Value, 9);
        Assert.Equal(0.4, ScaleCandidates.Saving(method, 100, 4.8)!.Value, 9);
        Assert.Null(ScaleCandidates.Saving(method, 100, 4.5));
    }
}
