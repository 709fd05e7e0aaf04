using ApolloBench.Core;
using ApolloBench.Growth;

namespace ApolloBench.Tests.Growth;

/// <summary>Stage schedules: the paper's [1,3,6,12] at epochs 2/4/10/40 (SPEC section 1) and the usage errors.</summary>
public class StageScheduleTests
{
    [Fact]
    public void Paper_schedule_for_12_layers()
    {
        var s = StageSchedule.Paper(12);
        Assert.Equal([1, 3, 6, 12], s.Layers);
        Assert.Equal([0.05, 0.10, 0.25, 1.0], s.Ends);
        s.Validate(12);
    }

    [Fact]
    public void Paper_schedule_boundaries_for_a_1000_step_run()
    {
        var s = StageSchedule.Paper(12);
        Assert.Equal([0L, 50, 100, 250], Enumerable.Range(0, 4).Select(i => s.StageStartStep(i, 1000)));
        Assert.Equal(0, s.StageIndexAt(0, 1000));
        Assert.Equal(0, s.StageIndexAt(49, 1000));
        Assert.Equal(1, s.StageIndexAt(50, 1000));
        Assert.Equal(2, s.StageIndexAt(249, 1000));
        Assert.Equal(3, s.StageIndexAt(250, 1000));
        Assert.Equal(3, s.StageIndexAt(999, 1000));
        Assert.Equal(1, s.WeightsAt(0, 1000));
        Assert.Equal(3, s.WeightsAt(99, 1000));
        Assert.Equal(6, s.WeightsAt(100, 1000));
        Assert.Equal(12, s.WeightsAt(999, 1000));
        var boundaries = Enumerable.Range(0, 1000).Where(t => s.IsBoundary(t, 1000));
        Assert.Equal([50, 100, 250], boundaries);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.StageIndexAt(1000, 1000));
    }

    [Fact]
    public void Paper_schedule_scales_to_other_depths()
    {
        Assert.Equal([2, 6, 12, 24], StageSchedule.Paper(24).Layers);
        Assert.Equal([1, 2, 3, 6], StageSchedule.Paper(6).Layers); // 0.5, 1.5 round away from zero
        var two = StageSchedule.Paper(2); // 1/6, 1/2, 1 -> 1 (merged, keeps the later end 0.25), then 2
        Assert.Equal([1, 2], two.Layers);
        Assert.Equal([0.25, 1.0], two.Ends);
        Assert.Equal([1], StageSchedule.Paper(1).Layers);
        for (int l = 1; l <= 48; l++) StageSchedule.Paper(l).Validate(l);
    }

    [Fact]
    public void Parse_reads_layers_and_ends()
    {
        var s = StageSchedule.Parse(" 1, 3,6 ,12", null, 12);
        Assert.Equal([1, 3, 6, 12], s.Layers);
        Assert.Equal([0.05, 0.10, 0.25, 1.0], s.Ends);
        var t = StageSchedule.Parse("4,12", "0.3,1", 12);
        Assert.Equal([4, 12], t.Layers);
        Assert.Equal([0.3, 1.0], t.Ends);
        Assert.Equal([1.0], StageSchedule.Parse("12", null, 12).Ends);
    }

    [Theory]
    [InlineData("1,6,3,12", null, "--stages")]      // not increasing
    [InlineData("1,3,3,12", null, "--stages")]      // not strictly increasing
    [InlineData("1,3,6,10", null, "--stages")]      // does not end at L
    [InlineData("-1,3,6,12", null, "--stages")]     // negative
    [InlineData("0,3,6,12", null, "--stages")]      // zero
    [InlineData("1,3.5,6,12", null, "--stages")]    // not an integer
    [InlineData("1,x,6,12", null, "--stages")]      // not an integer
    [InlineData("1,,6,12", null, "--stages")]       // empty entry
    [InlineData("1,3,6,12", "0.05,0.1,0.25,0.9", "--stage-ends")] // does not end at 1
    [InlineData("1,3,6,12", "0.05,0.1,1", "--stage-ends")]        // wrong count
    [InlineData("1,3,6,12", "0.1,0.05,0.25,1", "--stage-ends")]   // not increasing
    [InlineData("1,3,6,12", "-0.05,0.1,0.25,1", "--stage-ends")]  // negative
    [InlineData("1,3,6,12", "0,0.1,0.25,1", "--stage-ends")]      // zero
    [InlineData("1,3,6,12", "0.05,0.1,0.25,1.5", "--stage-ends")] // above 1
    [InlineData("1,3,6,12", "0.05,abc,0.25,1", "--stage-ends")]   // not a number
    [InlineData("6,12", null, "--stage-ends")]                     // ends required for 2 stages
    public void Invalid_schedules_name_the_option(string layers, string? ends, string option)
    {
        var e = Assert.Throws<UsageException>(() => StageSchedule.Parse(layers, ends, 12));
        Assert.StartsWith(option + ":", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Too_few_steps_for_a_stage_names_steps()
    {
        var s = StageSchedule.Paper(12);
        // 9 steps: stage 1 ends at round(0.45) = 0, so it would get no step.
        var e = Assert.Throws<UsageException>(() => s.StageIndexAt(0, 9));
        Assert.StartsWith("--steps:", e.Message);
        Assert.Throws<UsageException>(() => s.StageStarts(0));
        // 30 steps: starts 0, 2 (1.5 rounds up), 3, 8: every stage gets a step.
        Assert.Equal([0L, 2, 3, 8, 30], s.StageStarts(30));
    }
}
