using ApolloBench.Experiments;
using ApolloBench.Runs;

namespace ApolloBench.Tests.Experiments;

/// <summary>`--shard k/n` splits training jobs by estimated cost: disjoint, complete, and about equal in time.</summary>
public class ShardTests
{
    [Fact]
    public void The_costliest_job_goes_first_to_the_least_loaded_shard()
    {
        double[] costs = [10, 1, 1, 1, 7, 3];
        var owners = Shard.Assign(costs, 2);
        // 10 -> 1; 7 -> 2; 3 -> 2 (7 < 10); the 1s: 1 (a tie, the lower), 2, 1.
        Assert.Equal([1, 1, 2, 1, 2, 2], owners);
        Assert.Equal([12.0, 11.0], Enumerable.Range(1, 2).Select(s => costs.Where((_, j) => owners[j] == s).Sum()));
        Assert.Equal(owners, Shard.Assign(costs, 2));   // every shard computes the same split
    }

    [Fact]
    public void Over_every_gpu_scale_job_the_split_by_cost_is_about_even_and_never_worse_than_round_robin()
    {
        // The eight shards of reproduce.yml over every gpu-scale job: the split by cost ends within the costliest job of even.
        var experiments = Repo.Experiments;
        var settings = new RunSettings { Runs = "/runs", Cache = "/cache" };
        var plans = ExperimentLoader.Ids(experiments).Select(id => ExperimentLoader.Load(experiments, id, "gpu")).Where(e => e.NeedsTraining)
            .Select(e => RunPlanner.Plan(e, settings)).ToList();
        var jobs = JobRunner.Expand(plans, settings);
        var costs = jobs.Select(j => TimeEstimate.JobSeconds(j)).ToList();
        var owners = Shard.Assign(costs, 8);
        Assert.Equal(Enumerable.Range(1, 8), owners.Distinct().Order());
        double Longest(Func<int, int> owner) => Enumerable.Range(1, 8).Max(s => Enumerable.Range(0, costs.Count).Where(j => owner(j) == s).Sum(j => costs[j]));
        double byCost = Longest(j => owners[j]), roundRobin = Longest(j => j % 8 + 1);
        Assert.True(byCost <= costs.Sum() / 8 + costs.Max(), $"longest shard {byCost:F0} s");
        Assert.True(byCost <= roundRobin, $"by cost {byCost:F0} s, round robin {roundRobin:F0} s");
    }

    /// <summary>
    /// What `reproduce --status` says is left of a run half-way: Scratch runs full depth throughout, so half its steps are
    /// half its training; StackBERT's first 30% ran at a quarter and half depth, so 70% of its steps are more than 70% of
    /// its training; bert2BERT's small model is counted only before the run starts.
    /// </summary>
    [Fact]
    public void The_time_left_of_a_run_counts_its_remaining_steps_at_their_stages_depths()
    {
        var settings = new RunSettings { Runs = "/runs", Cache = "/cache" };
        var jobs = JobRunner.Expand([RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu"), settings)], settings);
        Job Of(string method) => jobs.First(j => j.Spec.Method == method);
        double Training(Job j, double from) => TimeEstimate.JobSeconds(j, from) - TimeEstimate.RunOverheadSeconds;
        var scratch = Of("scratch");
        Assert.Equal(0.5, Training(scratch, 0.5) / Training(scratch, 0), 2);
        Assert.Equal(0, TimeEstimate.JobSeconds(scratch, 1));
        var stack = Of("stackbert");
        Assert.True(Training(stack, 0.3) / Training(stack, 0) > 0.75, $"{Training(stack, 0.3) / Training(stack, 0):F3}");
        var bert2bert = Of("bert2bert");
        Assert.True(TimeEstimate.JobSeconds(bert2bert, 0) > 1.5 * TimeEstimate.JobSeconds(bert2bert, 1e-9), "the small model is counted before the run starts");
    }

    /// <summary>The rate and time left a log's progress line carries (where no bar can be drawn): steps this process trained, at their pace.</summary>
    [Fact]
    public void A_progress_line_gives_the_rate_of_this_processs_steps_and_the_time_left_at_it()
    {
        Assert.Equal(", 2.0 steps/s, ~25 min left", ApolloBench.Runs.ProgressText.Rate(100, TimeSpan.FromSeconds(50), 3000));
        Assert.Equal(", 3.60 s/step, ~18 min left", ApolloBench.Runs.ProgressText.Rate(10, TimeSpan.FromSeconds(36), 300));
        Assert.Equal(", 3.60 s/step", ApolloBench.Runs.ProgressText.Rate(10, TimeSpan.FromSeconds(36), 0));   // the last step: nothing left
        Assert.Equal("", ApolloBench.Runs.ProgressText.Rate(0, TimeSpan.FromSeconds(1), 10));
    }

    /// <summary>bert2BERT's and LiGO's small model logs a line per tenth of its run, not per evaluation, with its rate and time left.</summary>
    [Fact]
    public void The_small_models_progress_lines_come_at_every_tenth_with_the_latest_held_out_loss_and_a_rate()
    {
        var lines = new List<string>();
        var progress = RunExecutor.SmallModelProgress(100, lines.Add);
        for (long step = 40; step < 100; step++)   // resumed at step 40
        {
            progress(new ApolloBench.Training.StepRecord(step, 5.5, 12, 12, 0, 0, 0, 0, 0),
                step % 5 == 4 ? new ApolloBench.Training.EvalRecord(step, 6.0 - step / 1000.0, 0, 0) : null);
            if (step == 40) Thread.Sleep(20);
        }
        Assert.Equal(6, lines.Count);   // steps 50, 60, ..., 100
        Assert.StartsWith("  small model: step 50/100, train loss 5.500, valid loss 5.951, ", lines[0]);
        Assert.Matches(@"(steps/s|s/step), ~\d+ s left$", lines[0]);
        Assert.Matches(@"^  small model: step 100/100, train loss 5\.500, valid loss 5\.901, [0-9.]+ (steps/s|s/step)$", lines[^1]);
    }

    /// <summary>
    /// A long run's log is not left silent for a tenth of it: a line also comes once ten minutes have passed since the last,
    /// and the clock restarts at every line (a tenth's line included).
    /// </summary>
    [Fact]
    public void A_progress_line_also_comes_when_ten_minutes_pass_between_tenths()
    {
        var now = TimeSpan.Zero;
        var progress = new ApolloBench.Runs.TenthsProgress(24000, () => now);
        var lines = new List<long>();
        for (long step = 6660; step < 9600; step++)   // resumed part-way; one step every 2 s
        {
            if (progress.Step(new ApolloBench.Training.StepRecord(step, 5.5, 12, 12, 0, 0, 0, 0, 0), null, out var rate))
            {
                lines.Add(step + 1);
                Assert.StartsWith(", 2.00 s/step, ~", rate);
            }
            now += TimeSpan.FromSeconds(2);
        }
        // 300 steps are ten minutes: lines at 6,961, 7,261 and so on, the tenth at 7,200 between them restarting the clock.
        Assert.Equal([6961, 7200, 7500, 7800, 8100, 8400, 8700, 9000, 9300, 9600], lines);
    }

    /// <summary>The CPU rate was measured at 2 threads: a run of one thread is estimated at half of it, more threads at no more.</summary>
    [Fact]
    public void A_one_thread_run_is_estimated_at_half_the_two_thread_rate()
    {
        var settings = new RunSettings { Runs = "/runs", Cache = "/cache" };
        double Training(int threads)
        {
            var s = settings with { Threads = threads };
            var job = JobRunner.Expand([RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu"), s)], s).First(j => j.Spec.Method == "scratch");
            return TimeEstimate.JobSeconds(job) - TimeEstimate.RunOverheadSeconds;
        }
        Assert.Equal(2.0, Training(1) / Training(2), 9);
        Assert.Equal(1.0, Training(8) / Training(2), 9);
        Assert.Equal(TimeEstimate.CpuFlopsPerSecond / 2, TimeEstimate.CpuRate(1));
    }
}
