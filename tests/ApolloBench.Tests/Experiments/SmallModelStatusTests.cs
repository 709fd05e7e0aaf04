using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Runs;

namespace ApolloBench.Tests.Experiments;

/// <summary>
/// `reproduce --status` on a bert2BERT run that is still training its small model: the run has no checkpoint of its own,
/// so the status reads how far the small model has come through the pointer the run leaves in its folder.
/// </summary>
public class SmallModelStatusTests() : InTempFolder("ab-small-status-")
{

    [Fact]
    public void A_run_in_its_small_model_says_how_far_the_small_model_is_and_counts_only_what_is_left_of_it()
    {
        var settings = TempSettings(threads: null);
        var jobs = JobRunner.Expand([RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig6a", "cpu"), settings)], settings);
        var job = jobs.First(j => j.Spec.Method == "bert2bert");
        Assert.Equal(JobState.NotStarted, JobProgress.Of(job).State);
        Assert.Null(JobProgress.Of(job).SmallStep);   // no folder yet: nothing to read

        // What RunExecutor leaves before training the small model: the pointer, naming the small model's cache folder.
        var small = Path.Combine(settings.Cache, "dependencies", "0123abcd");
        Directory.CreateDirectory(job.Folder);
        File.WriteAllText(Path.Combine(job.Folder, RunExecutor.SmallModelPointer), $$"""{ "folder": "{{small}}", "steps": 6000 }""");
        var stopped = JobProgress.Of(job);
        Assert.Equal((JobState.NotStarted, 0L, 6000L), (stopped.State, stopped.SmallStep!.Value, stopped.SmallSteps));
        Assert.EndsWith(": stopped in its small model: its small model has no checkpoint yet (of 6,000 steps); --resume continues it, ~" +
                        TimeEstimate.Format(TimeSpan.FromSeconds(stopped.SecondsLeft)).TrimStart('~') + " left", ": " + stopped.Describe());
        Assert.Equal(stopped.EstimatedSeconds, stopped.SecondsLeft);

        // The small model is cached: only the run is left.
        Directory.CreateDirectory(small);
        File.WriteAllText(Path.Combine(small, SmallModelDependency.ModelFile), "weights");
        var cached = JobProgress.Of(job);
        Assert.Equal(6000L, cached.SmallStep);
        Assert.Equal(cached.EstimatedSeconds - TimeEstimate.SmallModelSeconds(job), cached.SecondsLeft, 6);
        Assert.True(TimeEstimate.SmallModelSeconds(job) > 0);
        using (FolderLock.TryAcquire(RunExecutor.LockFile(job.Folder), out _))
            Assert.StartsWith($"training now (process {Environment.ProcessId}): its small model is trained (cached), no checkpoint of the run yet, ~", JobProgress.Of(job).Describe());

        // Scratch has no small model.
        Assert.Equal(0, TimeEstimate.SmallModelSeconds(jobs.First(j => j.Spec.Method == "scratch")));
    }
}
