using ApolloBench.Experiments;
using ApolloBench.Training;

namespace ApolloBench.Tests.Experiments;

public class WallTimeTests
{
    static CurveRow Row(long step, double wall, double? speed) => new(step, 1, 12, 12, step, wall, 1e-4, 1, step, speed is null ? null : 2.0, null, speed);

    [Fact]
    public void A_stretch_run_at_half_speed_costs_what_it_would_have_at_full_speed()
    {
        // Four steps of 1 s at 100 GFLOP/s, then four of 2 s while the machine ran at 50: the same work, twice the seconds.
        var rows = new List<CurveRow>();
        double wall = 0;
        for (int s = 0; s < 8; s++)
        {
            wall += s < 4 ? 1 : 2;
            rows.Add(Row(s, wall, s == 3 ? 100 : s == 7 ? 50 : null));
        }
        var normalised = WallTime.Normalised(rows)!;
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], normalised.Select(x => Math.Round(x, 12)));
        Assert.Equal(12, rows[^1].WallSeconds);   // raw: 12 s
    }

    [Fact]
    public void A_curve_without_calibration_has_no_normalised_time()
        => Assert.Null(WallTime.Normalised([Row(0, 1, null), Row(1, 2, null)]));
}
