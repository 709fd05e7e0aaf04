using ApolloBench.Tests.Experiments;
using ApolloBench.Training;
using Xunit;

namespace ApolloBench.Tests.Training;

public class StepTimesTests
{
    static List<StepTime> Series(string model, params double[] ms)
        => ms.Select((t, i) => new StepTime(model, 128, i + 1, t, 1e9 * (i + 1))).ToList();

    [Fact]
    public void A_table_that_rises_with_depth_passes()
        => Assert.Empty(StepTimes.Violations(Series("Gpt", 180, 221, 220, 250, 292, 291, 325, 354, 383, 455, 479, 458)));

    [Fact]
    public void A_spike_shows_up_as_the_drop_after_it()
    {
        // The shared-machine BERT row of an earlier bench: depths 8 and 9 caught a burst of load.
        var problems = StepTimes.Violations(Series("Bert", 42, 75, 86, 114, 151, 161, 191, 1045, 1779, 389, 322, 444));
        Assert.Contains(problems, p => p.Contains("depth 10") && p.Contains("Bert h=128"));
        Assert.DoesNotContain(problems, p => p.Contains("depth 8 ") || p.Contains("depth 9 "));
    }

    [Fact]
    public void A_flat_table_fails_the_growth_check()
        => Assert.Contains(StepTimes.Violations(Series("Gpt", 100, 101, 102, 103)), p => p.Contains("is not 1.5x depth 1"));

    [Fact]
    public void Missing_depths_are_reported()
    {
        var rows = Series("Gpt", 100, 200, 300);
        rows.RemoveAt(1);
        Assert.Contains(StepTimes.Violations(rows), p => p.Contains("depths are not 1..2"));
    }

    [Fact]
    public void Fit_recovers_the_fixed_and_per_layer_cost()
    {
        var (fixedMs, perLayer) = StepTimes.Fit(Series("Gpt", Enumerable.Range(1, 12).Select(d => 150 + 25.0 * d).ToArray()));
        Assert.Equal(150, fixedMs, 9);
        Assert.Equal(25, perLayer, 9);
    }

    [Fact]
    public void Write_then_read_round_trips()
    {
        var path = Path.Combine(Path.GetTempPath(), $"steptimes-{Guid.NewGuid():N}.csv");
        try
        {
            var rows = Series("Bert", 1.5, 2.25, 3.125);
            StepTimes.Write(path, rows);
            Assert.Equal(rows, StepTimes.Read(path));
        }
        finally { File.Delete(path); }
    }

    /// <summary>The table the bench measured on this project's CPU machines and committed beside performance.md.</summary>
    [Fact]
    public void The_committed_cpu_table_rises_with_depth()
    {
        var rows = StepTimes.Read(Path.Combine(Repo.Root, "reports", "step-times-cpu.csv"));
        Assert.Equal(["Bert", "Gpt"], rows.Select(r => r.Model).Distinct().Order());
        Assert.All(rows.GroupBy(r => (r.Model, r.Hidden)), g => Assert.Equal(12, g.Count()));
        Assert.Empty(StepTimes.Violations(rows));
    }
}
