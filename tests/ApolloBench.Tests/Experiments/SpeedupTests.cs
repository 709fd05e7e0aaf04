using System.Text.Json.Nodes;
using ApolloBench.Experiments;

namespace ApolloBench.Tests.Experiments;

/// <summary>The iso-loss speedup curve of a two-run toy, worked out by hand.</summary>
public class SpeedupTests
{
    /// <summary>
    /// Scratch: held-out loss 10 - 0.05 F at evaluations F = 10, 20, ..., 100 FLOPs, one second per FLOP, so its loss at a
    /// fraction p of its budget is 10 - 5p. The method runs Scratch's curve 10 FLOPs ahead (loss 10 - 0.05 (F + 10)) at two
    /// seconds per FLOP on a machine half as fast (normalised seconds = FLOPs).
    /// </summary>
    static (List<CurveResult> Curves, List<RunRecord> Runs) Toy()
    {
        double[] flops = Enumerable.Range(1, 10).Select(i => 10.0 * i).ToArray();
        CurveResult Curve(string run, double shift, double secondsPerFlop) => new(run, run, 42, 1, flops, flops, flops,
            flops, flops.Select(f => secondsPerFlop * f).ToArray(), flops.Select(f => 10 - 0.05 * (f + shift)).ToArray(),
            ValidNormalisedSeconds: flops);
        RunRecord Run(string run, double externalFlops) => new(run, run, "x", 42, run, run, 10, 100, 100, externalFlops, 30, 5, 5, "c", "cpu", "m");
        return ([Curve("scratch", 0, 1), Curve("method", 10, 2)], [Run("scratch", 0), Run("method", 10)]);
    }

    [Fact]
    public void Every_target_from_ten_percent_to_the_end_is_a_point_of_the_curve()
    {
        var (curves, runs) = Toy();
        var speedup = Speedup.Compute(curves, runs, "scratch", [("method", "Method", false)], [42]);
        Assert.Equal(91, speedup.Fractions.Length);
        Assert.Equal((0.1, 1.0), (speedup.Fractions[0], speedup.Fractions[^1]));
        Assert.Contains(0.25, speedup.Fractions);
        Assert.Equal(10 - 5 * 0.37, speedup.TargetLoss[27][0], 9);   // Scratch's loss at 37% of its budget

        var point = (double p) => speedup.PointsOf(speedup.Methods.Single()).Single(x => Math.Abs(x.Fraction - p) < 1e-9);
        // p >= 0.2: the method reaches 10 - 5p at F = 100p - 10, against Scratch's 100p: a FLOPs saving of 0.1 / p.
        foreach (var p in new[] { 0.2, 0.25, 0.5, 0.8, 1.0 })
            Assert.Equal(0.1 / p, point(p).Flops[0]!.Value, 6);
        // p < 0.2: the target lies above the method's first evaluation (9.0 at F = 10), which reaches it: 1 - 10 / (100p).
        Assert.Equal(0.0, point(0.1).Flops[0]!.Value, 6);
        Assert.Equal(1 - 10 / 15.0, point(0.15).Flops[0]!.Value, 6);
        // Raw seconds: two per FLOP against one, 1 - 2 (100p - 10) / (100p); at p = 0.5: 1 - 80/50 = -0.6. Normalised: the FLOPs saving.
        Assert.Equal(-0.6, point(0.5).Wall[0]!.Value, 6);
        Assert.Equal(0.2, point(0.5).NormalisedWall[0]!.Value, 6);
        // One seed: the summary is that seed's value, without an interval.
        Assert.Equal(new SeedSummary(1, 1, point(0.5).Summary.Flops.Value, null, null), point(0.5).Summary.Flops);
        Assert.Equal(0.2, point(0.5).Summary.Flops.Value!.Value, 6);
    }

    [Fact]
    public void Charging_the_small_models_cost_shifts_the_curve_and_leaves_normalised_time_unmeasured()
    {
        // 10 FLOPs charged undo the method's 10-FLOP head start: from p = 0.2 on it reaches each target exactly when Scratch does.
        var (curves, runs) = Toy();
        var speedup = Speedup.Compute(curves, runs, "scratch", [("method", "Method", false), ("method", "Method + small model's cost", true)], [42]);
        var charged = speedup.PointsOf(speedup.Methods.Single(m => m.WithDependency));
        Assert.All(charged.Where(p => p.Fraction >= 0.2), p => Assert.Equal(0, p.Flops[0]!.Value, 6));
        Assert.All(charged, p => Assert.Null(p.NormalisedWall[0]));
        Assert.All(charged, p => Assert.Null(p.Summary.NormalisedWall));
        Assert.Null(speedup.Methods.Single(m => m.WithDependency).NormalisedWall);
        Assert.NotNull(speedup.Methods.Single(m => !m.WithDependency).NormalisedWall);
    }

    [Fact]
    public void A_method_that_stops_short_has_no_saving_at_the_targets_it_never_reaches()
    {
        // The method's loss stops at 7.0: it reaches Scratch's loss only up to p = 0.6.
        var (curves, runs) = Toy();
        var c = curves[1];
        curves[1] = c with { ValidLoss = c.ValidLoss.Select(l => Math.Max(l, 7.0)).ToArray() };
        var speedup = Speedup.Compute(curves, runs, "scratch", [("method", "Method", false)], [42]);
        var points = speedup.PointsOf(speedup.Methods.Single());
        Assert.All(points.Where(p => p.Fraction <= 0.59), p => Assert.NotNull(p.Flops[0]));
        Assert.All(points.Where(p => p.Fraction > 0.605), p => Assert.Null(p.Flops[0]));
        Assert.All(points.Where(p => p.Fraction > 0.605), p => Assert.Equal("not reached (n=1)", ApolloBench.Reports.SavingsTable.Format(p.Summary.Flops)));
    }
}
