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
        Assert.Equal(5, s[2].ScratchCost!.Value.WallSeconds, Tolerance);
        Assert.Equal(1 - 1.5 / 2.5, s[2].FlopsSaving!.Value, Tolerance);
        Assert.Equal(1 - 1.5 / 5, s[2].WallSaving!.Value, Tolerance);
    }

    [Fact]
    public void A_target_the_method_is_below_at_its_first_evaluation_gives_a_saving_marked_at_least()
    {
        // 25%: the method starts at 9, already below Scratch's 10 (reached at its first point: a lower bound); 50%: it
        // crosses 8 between its first two points (an interpolated reach, not a bound).
        var s = Savings.Compute(Scratch, Method, [0.25, 0.5]);
        Assert.True(s[0].AtFirstPoint);
        Assert.False(s[1].AtFirstPoint);
        Assert.True(SeedSaving.From(42, s[0]).ToTargetSaving().AtFirstPoint);   // kept through results.json's record

        // Over two seeds: both at their first point, so the summary is "at least"; one not, so it is not.
        var both = Savings.SummarizeTargets([s, s])[0];
        Assert.True(both.Flops.AtLeast && both.Wall.AtLeast);
        Assert.StartsWith("at least 0.0% [0.0%, 0.0%] (n=2)", SavingsTable.Format(both.Flops));
        Assert.Contains("\"at least\": every seed was already below the target at the method's first evaluation", SavingsTable.IntervalNote([both.Flops]));
        var later = Savings.Compute(Scratch, [new(1, 1, 11), new(2, 2, 9)], [0.25]);
        Assert.False(later[0].AtFirstPoint);
        Assert.False(Savings.SummarizeTargets([[s[0]], later])[0].Flops.AtLeast);
        Assert.DoesNotContain("at least", SavingsTable.Format(Savings.SummarizeTargets([[s[0]], later])[0].Flops));

        // A seed that never reaches the target: no bound to keep (the median rules).
        var never = Savings.Compute(Scratch, [new(1, 1, 12), new(2, 2, 11)], [0.25]);
        Assert.False(Savings.SummarizeTargets([[s[0]], never])[0].Flops.AtLeast);
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

    // ---- over seeds: every seed counts ---------------------------------------------------------------

    [Fact]
    public void One_seed_is_its_own_value_with_no_interval()
    {
        var one = Savings.Summarize([0.25]);
        Assert.Equal(new SeedSummary(1, 1, 0.25, null, null, SeedSummary.Mean, null), one);
        Assert.Equal("25.0% (n=1)", SavingsTable.Format(one));
        Assert.Equal("not reached (n=1)", SavingsTable.Format(Savings.Summarize([null])));
    }

    [Fact]
    public void Two_seeds_take_students_t_with_one_degree_of_freedom()
    {
        // Mean 0.3, sample sd sqrt((0.1^2 + 0.1^2) / 1) = 0.1414, standard error 0.1414 / sqrt(2) = 0.1; t(0.975, 1) = 12.706.
        var two = Savings.Summarize([0.2, 0.4]);
        Assert.Equal((2, 2, SeedSummary.Mean, SeedSummary.TInterval), (two.Seeds, two.Reached, two.Statistic, two.Interval));
        Assert.Equal(0.3, two.Value!.Value, Tolerance);
        Assert.Equal(0.3 - 1.2706204736, two.Low!.Value, 1e-9);
        Assert.Equal(0.3 + 1.2706204736, two.High!.Value, 1e-9);
        Assert.Equal("30.0% [-97.1%, 157.1%] (n=2)", SavingsTable.Format(two));
    }

    [Fact]
    public void Three_seeds_take_students_t_and_the_interval_reaches_past_the_extremes()
    {
        // Mean 0.2, sd 0.1, standard error 0.1 / sqrt(3) = 0.057735; t(0.975, 2) = 4.302653: half-width 0.248414.
        // A percentile bootstrap of three values could never leave [0.1, 0.3], which holds the true mean about 75% of the time.
        var three = Savings.Summarize([0.1, 0.2, 0.3]);
        Assert.Equal(SeedSummary.TInterval, three.Interval);
        Assert.Equal(0.2 - 0.248413771, three.Low!.Value, 1e-8);
        Assert.Equal(0.2 + 0.248413771, three.High!.Value, 1e-8);
        Assert.True(three.Low < 0.1 && three.High > 0.3);
        var same = Savings.Summarize([0.1, 0.1, 0.1]);
        Assert.Equal(0.1, same.Low!.Value, Tolerance);
        Assert.Equal(0.1, same.High!.Value, Tolerance);
    }

    [Fact]
    public void Nine_seeds_still_take_t_and_ten_take_a_seeded_bootstrap()
    {
        // 0.1..0.9: mean 0.5, sd sqrt(0.6 / 8) = 0.273861, standard error / 3 = 0.091287; t(0.975, 8) = 2.306004: half-width 0.210508.
        var nine = Savings.Summarize(Enumerable.Range(1, 9).Select(i => (double?)(i / 10.0)).ToList());
        Assert.Equal(SeedSummary.TInterval, nine.Interval);
        Assert.Equal(0.5 - 0.210508414, nine.Low!.Value, 1e-8);

        // Nine seeds saved 0, one saved 100%: a resample's mean is Binomial(10, 0.1) / 10. P(0) = 0.349 > 2.5%, so the lower
        // bound is 0; P(<= 0.2) = 0.930 and P(<= 0.3) = 0.987 straddle 97.5%, so the upper bound is 0.3.
        double?[] ten = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        var boot = Savings.Summarize(ten);
        Assert.Equal((10, 10, SeedSummary.Mean, SeedSummary.BootstrapInterval), (boot.Seeds, boot.Reached, boot.Statistic, boot.Interval));
        Assert.Equal(0.1, boot.Value!.Value, Tolerance);
        Assert.Equal(0, boot.Low!.Value, Tolerance);
        Assert.Equal(0.3, boot.High!.Value, Tolerance);
        Assert.Equal(boot, Savings.Summarize(ten));   // seeded: the same every time
        Assert.Contains("percentile-bootstrap", SavingsTable.IntervalNote([boot]));
    }

    [Fact]
    public void A_seed_that_never_reached_counts_and_the_summary_becomes_the_median_with_it_ranked_last()
    {
        // The mean of the seeds that reached (0.4) would favour the method; ranked 0.5, 0.3, never: the median is 0.3.
        var some = Savings.Summarize([0.3, null, 0.5]);
        Assert.Equal(new SeedSummary(3, 2, 0.3, null, null, SeedSummary.Median, null), some);
        Assert.Equal("median 30.0% (reached in 2 of 3 seeds)", SavingsTable.Format(some));
        // Ranked 0.3, never, never: the median is a seed that never reached.
        var most = Savings.Summarize([0.3, null, null]);
        Assert.Null(most.Value);
        Assert.Equal("median not reached (reached in 1 of 3 seeds)", SavingsTable.Format(most));
        // Even counts average the middle two: 0.4, 0.2, 0.1, never -> (0.2 + 0.1) / 2; 0.2, never -> never.
        Assert.Equal(0.15, Savings.Summarize([0.1, 0.2, 0.4, null]).Value!.Value, Tolerance);
        Assert.Null(Savings.Summarize([0.2, null]).Value);
        Assert.Equal(new SeedSummary(2, 0, null, null, null, SeedSummary.Median, null), Savings.Summarize([null, null]));
        Assert.Equal("not reached in any of 2 seeds", SavingsTable.Format(Savings.Summarize([null, null])));
    }

    [Fact]
    public void Student_t_is_tabulated_for_two_to_nine_seeds_only()
    {
        Assert.Equal(2.776445105, Savings.StudentT975(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => Savings.StudentT975(9));
        Assert.Throws<ArgumentOutOfRangeException>(() => Savings.StudentT975(0));
    }

    // ---- absolute targets ---------------------------------------------------------------------------

    [Fact]
    public void An_absolute_target_charges_scratch_its_own_first_reach()
    {
        // Target 7: Scratch crosses it halfway from (2, 4, 8) to (3, 6, 6): 2.5 FLOPs, 5 s. The method halfway from (1, 1, 9) to (2, 2, 5): 1.5, 1.5.
        var s = Savings.Compute(Scratch, Method, [], absolute: [7]).Single();
        Assert.Null(s.Fraction);
        Assert.Equal(7, s.TargetLoss);
        Assert.Equal(new Cost(2.5, 5), s.ScratchCost);
        Assert.Equal(1 - 1.5 / 2.5, s.FlopsSaving!.Value, Tolerance);
        Assert.Equal(1 - 1.5 / 5, s.WallSaving!.Value, Tolerance);

        // Below Scratch's final loss: Scratch never reaches 3.8, so no method has a saving against it, even one that reaches it.
        var beyond = Savings.Compute(Scratch, [new(1, 1, 9), new(2, 2, 3)], [1.0], absolute: [3.8]);
        Assert.Equal((1.0, 4.0), (beyond[0].Fraction!.Value, beyond[0].TargetLoss));   // fractions first, then the absolute losses
        Assert.Null(beyond[1].ScratchCost);
        Assert.NotNull(beyond[1].MethodCost);
        Assert.Null(beyond[1].FlopsSaving);
        var summary = Savings.SummarizeTargets([Scratch], [Method], [1.0], absolute: [7]);
        Assert.Null(summary[1].Fraction);
        Assert.Equal(7.0, summary[1].Loss);
    }

    // ---- normalised wall time -------------------------------------------------------------------------

    [Fact]
    public void Normalised_seconds_are_interpolated_like_raw_ones_and_give_a_saving_only_when_both_runs_have_them()
    {
        // Scratch ran on a machine twice as busy in its second half: normalised seconds 1, 2, 2.5, 3 where raw ones are 2, 4, 6, 8.
        CurvePoint[] scratch = [new(1, 2, 10, 1), new(2, 4, 8, 2), new(3, 6, 6, 2.5), new(4, 8, 4, 3)];
        CurvePoint[] method = [new(1, 1, 9, 0.5), new(2, 2, 5, 1), new(3, 3, 3.5, 1.5)];
        var s = Savings.Compute(scratch, method, [1.0]).Single();
        Assert.True(s.Calibrated);
        // The method reaches 4 at 2/3 of its last segment: 1 + (2/3) 0.5 = 4/3 normalised seconds, against Scratch's 3.
        Assert.Equal(1 - (4.0 / 3) / 3, s.NormalisedWallSaving!.Value, Tolerance);
        Assert.Equal(1 - (8.0 / 3) / 8, s.WallSaving!.Value, Tolerance);
        var uncalibrated = Savings.Compute(scratch, Method, [1.0]).Single();
        Assert.False(uncalibrated.Calibrated);
        Assert.Null(uncalibrated.NormalisedWallSaving);
        Assert.Null(Savings.SummarizeTargets([scratch], [Method], [1.0]).Single().NormalisedWall);
        Assert.Equal(1 - 4.0 / 9, Savings.SummarizeTargets([scratch], [method], [1.0]).Single().NormalisedWall!.Value!.Value, Tolerance);
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
        var summary = Savings.SummarizeTargets([Scratch, Scratch, Scratch], [Method, slow, Method], [1.0]).Single();
        Assert.Equal((3, 2), (summary.Flops.Seeds, summary.Flops.Reached));
        Assert.Equal(1.0 / 3, summary.Flops.Value!.Value, Tolerance);
        Assert.Equal("median 33.3% (reached in 2 of 3 seeds)", SavingsTable.Format(summary.Flops));
    }

    /// <summary>
    /// No saving passes 100%, so a t interval over few seeds that reaches past it is cut there, and the note says so.
    /// Worked by hand: savings 0.95, 0.99 and 0.70 (Scratch 100 FLOPs; the method 5, 1 and 30) have mean 0.88 and
    /// s = 0.1572; t(2) = 4.303 gives 0.88 +- 0.3905, [0.4895, 1.2705], cut to [0.4895, 1]. A loss difference is not cut.
    /// </summary>
    [Fact]
    public void A_savings_interval_that_reaches_past_100_percent_is_cut_there()
    {
        static TargetSaving Seed(double methodFlops) => new(1, 5, new Cost(100, 100), new Cost(methodFlops, methodFlops));
        var summary = Savings.SummarizeTargets([[Seed(5)], [Seed(1)], [Seed(30)]])[0];
        Assert.Equal(0.88, summary.Flops.Value!.Value, 9);
        Assert.Equal(0.4895, summary.Flops.Low!.Value, 3);
        Assert.Equal(1.0, summary.Flops.High);
        Assert.True(summary.Flops.Capped && summary.Wall.Capped);
        Assert.Equal("88.0% [49.0%, 100.0%] (n=3)", SavingsTable.Format(summary.Flops));
        Assert.Contains("an interval that reached past 100% is cut there", SavingsTable.IntervalNote([summary.Flops]));

        // One that stays below 100% is left as computed, and so is any other summary.
        var lower = Savings.SummarizeTargets([[Seed(50)], [Seed(40)], [Seed(60)]])[0].Flops;
        Assert.False(lower.Capped);
        Assert.Equal(0.5 + 4.303 * 0.1 / Math.Sqrt(3), lower.High!.Value, 3);
        Assert.DoesNotContain("cut", SavingsTable.IntervalNote([lower]));
        Assert.False(Savings.Summarize([1.5, 1.6, 1.9]).Capped);
    }
}
