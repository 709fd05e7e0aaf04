using ApolloBench.Experiments;
using ApolloBench.Tests.Reports;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// `reproduce --status` compares each finished run's training time with its estimate at the thread count the run trained
/// with (its manifest's), so the pace it prints does not change with the <c>--threads</c> of the status call.
/// </summary>
public class StatusPaceTests() : InTempFolder("ab-status-pace-")
{
    [Fact]
    public void A_finished_runs_estimate_is_at_the_thread_count_it_trained_with_whatever_the_status_call_names()
    {
        var one = TempSettings(threads: 1);
        var job = JobRunner.Expand([RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu"), one)], one).First(j => j.Spec.Method == "scratch");
        // A finished run whose manifest says it trained with 2 threads.
        HandWrittenRunTests.WriteRun(job.Folder, HandWrittenRunTests.Steps(100, _ => 1e12, _ => 1, t => 10 - 0.05 * t));
        var two = TempSettings(threads: 2);
        var same = JobRunner.Expand([RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu"), two)], two).First(j => j.Spec.Method == "scratch");
        Assert.Equal(job.Folder, same.Folder);   // the thread count is not part of the run's key
        double atTwo = TimeEstimate.JobSeconds(same);
        Assert.True(atTwo < 0.6 * TimeEstimate.JobSeconds(job));   // two threads: about twice the rate of one

        var progress = JobProgress.Of(job);   // asked with --threads 1
        Assert.Equal(JobState.Finished, progress.State);
        Assert.Equal(atTwo, progress.EstimatedSeconds, 6);
        Assert.Equal(atTwo, JobProgress.Of(same).EstimatedSeconds, 6);   // asked with --threads 2
    }
}
