using ApolloBench.Runtime;

namespace ApolloBench.Tests.Runtime;

/// <summary>The CPU-wait reading (<see cref="CpuWait"/>): schedstat's run_delay field, summed over threads, as a share per working thread.</summary>
public class CpuWaitTests
{
    [Theory]
    [InlineData("123456 7890 12\n", 7890L)]
    [InlineData("  5 0 1", 0L)]
    [InlineData("5", null)]
    [InlineData("a b c", null)]
    [InlineData("1 -3 2", null)]
    [InlineData("x 3 2", null)]
    public void The_run_delay_is_the_second_field(string line, long? expected) => Assert.Equal(expected, CpuWait.Parse(line));

    [Fact]
    public void Both_fields_are_read_so_a_kernel_without_schedstats_reads_as_not_measured()
    {
        Assert.Equal((123456L, 7890L), CpuWait.Fields("123456 7890 12\n"));
        Assert.Equal((0L, 0L), CpuWait.Fields("0 0 0"));   // what such a kernel shows: TotalSeconds turns all-zero run times into null
    }

    [Fact]
    public void A_share_is_waiting_per_thread_over_the_interval_and_missing_readings_give_nan()
    {
        Assert.Equal(0.25, CpuWait.Share(1.0, 2.0, 2.0, 2));
        Assert.Equal(0, CpuWait.Share(2.0, 1.5, 1.0, 1));   // a thread that ended takes its delay with it: never negative
        Assert.True(double.IsNaN(CpuWait.Share(null, 2.0, 1.0, 1)));
        Assert.True(double.IsNaN(CpuWait.Share(1.0, 2.0, 0, 1)));
    }

    [Fact]
    public void On_linux_the_process_total_is_read()
    {
        if (!OperatingSystem.IsLinux()) return;
        // This test process has run, so a kernel with schedstats gives a reading; one without gives null, never 0.
        var first = CpuWait.TotalSeconds();
        Assert.True(first is null || first >= 0);
        if (File.ReadAllText("/proc/self/schedstat").Split(' ')[0] != "0") Assert.NotNull(first);
    }
}
