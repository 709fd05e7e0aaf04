using ApolloBench.Experiments;
using ApolloBench.Reports;

namespace ApolloBench.Tests.Experiments;

/// <summary>The savings calculator against values worked out by hand.</summary>
public class SavingsTests
{
    // Scratch: 4 FLOPs and 8 s in total; its loss falls 10, 8, 6, 4.
    static readonly CurvePoint[] Scratch = [new(1, 2, 10), new(2, 4, 8), new(3, 6, 6), new(4, 8, 4)];

    // A method that runs twice as fast per FLOP in seconds and learns faster.
    static readonly CurvePoint[] Method = [new(1, 1, 9), new(2, 2, 5), new(3, 3, 3.5)];

    const double Tolerance = 1e-12;

    [Fact]
    public void Full_budget_target_interpolates_between_the_points_that_straddle_it()
    {
        // Target = Scratch's final loss 4. The method crosses 4 between (2, 2, 5) and (3, 3, 3.5):
        // t = (5 - 4) / (5 - 3.5) = 2/3, so it reaches it at 2 2/3 FLOPs and 2 2/3 s.
        var s = Savings.Compute(Scratch, Method, [1.0]).Single();
        Assert.Equal(4, s.TargetLoss);
        Assert.Equal(new Cost(4, 8), s.ScratchCost);
        Assert.Equal(8.0 / 3, s.MethodCost!.Value.Flops, Tolerance);
        Assert.Equal(1 - (8.0 / 3) / 4, s.FlopsSaving!.Value, Tolerance);   // 1/3
        Assert.Equal(1 - (8.0 / 3) / 8, s.WallSaving!.Value, Tolerance);    // 2/3
    }

    [Fact]
    public void Partial_budget_targets_compare_with_scratchs_cost_at_that_budget()
    {
        var s = Savings.Compute(Scratch, Method, [0.25, 0.5, 0.625]);

        // 25%: budget 1 FLOP is Scratch's first point, loss 10 at 2 s; the method starts at 9 <= 10: reached at (1, 1).
        Assert.Equal(10, s[0].TargetLoss);
        Assert.Equal(0, s[0].FlopsSaving!.Value, Tolerance);
        Assert.Equal(0.5, s[0].WallSaving!.Value, Tolerance);

        // 50%: budget 2 FLOPs, Scratch's loss 8 at 4 s; the method crosses 8 a quarter of the way from 9 to 5: (1.25, 1.25).
        Assert.Equal(8, s[1].TargetLoss);
        Assert.Equal(new Cost(2, 4), s[1].ScratchCost);
        Assert.Equal(1 - 1.25 / 2, s[1].FlopsSaving!.Value, Tolerance);
        Assert.Equal(1 - 1.25 / 4, s[1].WallSaving!.Value, Tolerance);

        // 62.5%: budget 2.5 FLOPs lies halfway between Scratch's points 2 and 3: loss 7, 5 s. The method reaches 7 halfway: (1.5, 1.5).
        Assert.Equal(7, s[2].TargetLoss, Tolerance);
        Assert.Equal(5, s[2].ScratchCost.WallSeconds, Tolerance);
        Assert.Equal(1 - 1.5 / 2.5, s[2].FlopsSaving!.Value, Tolerance);
        Assert.Equal(1 - 1.5 / 5, s[2].WallSaving!.Value, Tolerance);
    }

    [Fact]
    public void A_method_that_never_reaches_the_target_has_no_saving_not_zero()
    {
        var s = Savings.Compute(Scratch, [new(1, 1, 9), new(2, 2, 8.5)], [1.0]).Single();
        Assert.Null(s.MethodCost);
        Assert.Null(s.FlopsSaving);
        Assert.Null(s.WallSaving);
    }

    [Fact]
    public void A_diverged_point_does_not_count_as_reaching()
    {
        Assert.Null(Savings.FirstReach([new(1, 1, 9), new(2, 2, double.NaN)], 4));
        Assert.Equal(new Cost(3, 3), Savings.FirstReach([new(1, 1, 9), new(2, 2, double.NaN), new(3, 3, 3)], 4));
    }

    [Fact]
    public void Smoothing_is_a_trailing_mean_over_the_window()
    {
        var smoothed = Savings.Smooth(Scratch, 2).Select(p => p.Loss);
        Assert.Equal([10, 9, 7, 5], smoothed);
        Assert.Equal(Scratch.Select(p => p.Loss), Savings.Smooth(Scratch, 1).Select(p => p.Loss));
        Assert.Equal(2, Savings.Window(100, 0.02));
        Assert.Equal(1, Savings.Window(10, 0.02));
    }

    [Fact]
    public void Smoothed_savings_use_the_smoothed_curves_of_both_runs()
    {
        // Scratch smoothed: 10, 9, 7, 5 (target 5). Method smoothed: 9, 7, 4.25; it crosses 5 at t = (7-5)/(7-4.25) = 8/11.
        var s = Savings.Compute(Scratch, Method, [1.0], window: 2).Single();
        Assert.Equal(5, s.TargetLoss, Tolerance);
        Assert.Equal(2 + 8.0 / 11, s.MethodCost!.Value.Flops, Tolerance);
        Assert.Equal(1 - (2 + 8.0 / 11) / 4, s.FlopsSaving!.Value, Tolerance);
    }

    [Fact]
    public void Summary_is_the_mean_with_a_bootstrap_interval_over_the_seeds_that_reached()
    {
        // Two values: resample means are 0.2, 0.3, 0.4 with probabilities 1/4, 1/2, 1/4, so the 2.5% and 97.5% quantiles are 0.2 and 0.4.
        var two = Savings.Summarize([0.2, 0.4]);
        Assert.Equal(0.3, two.Mean!.Value, Tolerance);
        Assert.Equal(0.2, two.Low!.Value, Tolerance);
        Assert.Equal(0.4, two.High!.Value, Tolerance);
        Assert.Equal(two, Savings.Summarize([0.2, 0.4]));   // seeded: the same every time

        var some = Savings.Summarize([0.3, null, 0.5]);
        Assert.Equal((3, 2), (some.Seeds, some.Reached));
        Assert.Equal(0.4, some.Mean!.Value, Tolerance);

        Assert.Equal(new SeedSummary(2, 0, null, null, null), Savings.Summarize([null, null]));
        Assert.Equal(new SeedSummary(1, 1, 0.25, null, null), Savings.Summarize([0.25]));
        var same = Savings.Summarize([0.1, 0.1, 0.1]);
        Assert.Equal(0.1, same.Low!.Value, Tolerance);
        Assert.Equal(0.1, same.High!.Value, Tolerance);
    }

    [Fact]
    public void Quantiles_interpolate_between_order_statistics()
    {
        Assert.Equal(2.5, Savings.Quantile([1, 2, 3, 4], 0.5), Tolerance);
        Assert.Equal(1.075, Savings.Quantile([1, 2, 3, 4], 0.025), Tolerance);
        Assert.Equal(4, Savings.Quantile([1, 2, 3, 4], 1), Tolerance);
    }

    [Fact]
    public void Curves_with_decreasing_costs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Savings.FirstReach([new(2, 2, 9), new(1, 3, 5)], 6));
        Assert.Throws<ArgumentException>(() => Savings.FirstReach([], 6));
    }

    [Fact]
    public void Seeds_pair_with_scratch_of_the_same_seed()
    {
        CurvePoint[] slow = [new(1, 1, 9), new(2, 2, 8.5)];
        var summary = Savings.SummarizeTargets([Scratch, Scratch], [Method, slow], [1.0]).Single();
        Assert.Equal((2, 1), (summary.Flops.Seeds, summary.Flops.Reached));
        Assert.Equal(1.0 / 3, summary.Flops.Mean!.Value, Tolerance);
        Assert.Equal("33.3% (reached in 1 of 2 seeds)", SavingsTable.Format(summary.Flops));
    }
}
