using ApolloBench.Cli;
using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;
using ApolloBench.Tests.Reports;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// <c>reproduce --time-limit</c>: a run whose estimated training (at the finished runs' pace, with a tenth to spare) would
/// end after the limit is not started but left for a later call; one that fits is trained; a limit of 0 or less is refused.
/// </summary>
[Collection("cli")]
public class TimeLimitTests : IDisposable
{
    readonly HarnessWorkspace w = new();

    public void Dispose() => w.Dispose();

    [Fact]
    public void A_job_that_would_end_after_the_deadline_is_left_for_later_and_one_that_fits_is_not()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig7", "smoke"), new RunSettings { Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1 });
        var jobs = JobRunner.Expand([plan], new RunSettings { Runs = w.Runs, Cache = w.Cache, Threads = 1 });
        var job = jobs[0];
        double estimate = TimeEstimate.JobSeconds(job);
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(1, JobRunner.Pace(jobs));   // nothing finished yet
        Assert.Null(JobRunner.LeftForLater(jobs, job, now.AddSeconds(estimate * JobRunner.DeadlineMargin * 1.01), now));
        var why = JobRunner.LeftForLater(jobs, job, now.AddSeconds(estimate * JobRunner.DeadlineMargin * 0.99), now);
        Assert.NotNull(why);
        Assert.Contains("the estimate at 1.00x, the finished runs' pace, and 1.1x to spare", why);
    }

    /// <summary>
    /// The pace is taken from the finished runs of the job's thread count when there are any: here a one-thread run took
    /// twice its estimate and a two-thread run its estimate, so a two-thread job is paced at 1 and a one-thread job at 2;
    /// a count no finished run has falls back to all of them (the upper median of 1 and 2).
    /// </summary>
    [Fact]
    public void The_pace_is_the_finished_runs_of_the_jobs_own_thread_count()
    {
        var plan = RunPlanner.Plan(ExperimentLoader.Load(Repo.Experiments, "fig7", "smoke"), new RunSettings { Runs = w.Runs, Cache = w.Cache, Corpus = w.Corpus, Threads = 1 });
        var jobs = JobRunner.Expand([plan], new RunSettings { Runs = w.Runs, Cache = w.Cache, Threads = 1 });
        void Finish(Job job, int threads, double pace)
        {
            var estimate = TimeEstimate.JobSeconds(new Job(job.Index, job.Spec with { Train = job.Spec.Train with { Threads = threads } }, job.Folder));
            HandWrittenRunTests.WriteRun(job.Folder, HandWrittenRunTests.Steps(10, _ => 1e9, _ => estimate * pace / 10, t => 10 - t * 0.1), threads: threads);
        }
        Finish(jobs[0], threads: 1, pace: 2);
        Finish(jobs[1], threads: 2, pace: 1);
        Assert.Equal(2, JobRunner.Pace(jobs, 1), 6);
        Assert.Equal(1, JobRunner.Pace(jobs, 2), 6);
        Assert.Equal(2, JobRunner.Pace(jobs, 4), 6);
        Assert.Equal([1.0, 2.0], JobProgress.Paces(jobs.Select(JobProgress.Of)).Select(p => Math.Round(p, 6)));

        // The status names each count's pace, and paces what is left (these jobs are one-thread ones) by its own count's.
        var settings = new RunSettings { Runs = w.Runs, Cache = w.Cache, Threads = 1 };
        var line = JobProgress.Report([plan], jobs, settings).Single(l => l.StartsWith("the finished runs took", StringComparison.Ordinal));
        Assert.Contains("(median of 2, 1.00x-2.00x; 1 thread: 2.00x of 1, 2 threads: 1.00x of 1;", line);
        double left = jobs.Select(JobProgress.Of).Sum(p => p.SecondsLeft);
        Assert.EndsWith($"at their pace (a run with a checkpoint at its own), about {TimeEstimate.Format(TimeSpan.FromSeconds(2 * left)).TrimStart('~')} left", line);
    }

    [Fact]
    public void Reproduce_with_a_limit_too_short_for_any_run_trains_nothing_and_says_so_and_a_limit_of_zero_is_refused()
    {
        var (code, output, error) = w.Cli("reproduce", "table3", "--time-limit", "0.0001");
        Assert.Equal(1, code);   // one process, and its runs are not all there
        Assert.Contains(": left for a later call: it needs ", output);
        Assert.DoesNotContain("training", output.Split('\n').Where(l => l.StartsWith("  [", StringComparison.Ordinal)));
        Assert.Empty(w.RunFolders());
        Assert.Contains("table3: report not rendered yet", output);

        (code, _, error) = w.Cli("reproduce", "table3", "--time-limit", "0");
        Assert.Equal(2, code);
        Assert.Contains("--time-limit: must be more than 0 minutes (got 0)", error);
        (code, _, error) = w.Cli("reproduce", "table3", "--time-limit", "-5");
        Assert.Equal(2, code);
        Assert.Contains("(got -5)", error);
    }

    [Theory]
    [InlineData("reproduce", "0")]
    [InlineData("reproduce", "-5")]
    [InlineData("train", "NaN")]
    public void A_stop_after_of_zero_or_less_or_not_a_number_is_refused_naming_the_option_and_nothing_is_trained(string command, string minutes)
    {
        var error = Refused(command, "--stop-after", minutes);
        Assert.Contains($"--stop-after: must be more than 0 minutes (got {minutes})", error);
    }

    // Runs `train` (a smoke GPT Scratch) or `reproduce table3` with the option, and checks it exits 2 having trained and
    // written nothing; returns what it printed on stderr.
    string Refused(string command, string option, string value)
    {
        int code;
        string error;
        var runDir = Path.Combine(w.Runs, "refused-train");
        if (command == "train")
        {
            var errors = new StringWriter();
            code = CliApp.Run(["train", "--model", "gpt", "--method", "scratch", "--scale", "smoke", option, value, "--out", runDir], errors);
            error = errors.ToString();
        }
        else (code, _, error) = w.Cli("reproduce", "table3", option, value);
        Assert.Equal(2, code);
        Assert.DoesNotContain("   at ", error);   // one line, never a stack trace
        Assert.Empty(w.RunFolders());
        Assert.False(Directory.Exists(runDir));
        return error;
    }

    /// <summary>
    /// A length of time too long for a <see cref="TimeSpan"/> (or infinite) is bad input naming its option, not an
    /// OverflowException's stack trace (the three options crashed so before they shared <see cref="ApolloBench.Core.Durations"/>).
    /// </summary>
    [Theory]
    [InlineData("reproduce", "--time-limit", "1e300", "minutes")]
    [InlineData("reproduce", "--stop-after", "Infinity", "minutes")]
    [InlineData("reproduce", "--checkpoint-every", "1e300", "seconds")]
    [InlineData("train", "--checkpoint-every", "1e300", "seconds")]
    [InlineData("train", "--stop-after", "1e300", "minutes")]
    public void A_length_of_time_too_long_to_hold_is_refused_naming_the_option_and_nothing_is_trained(string command, string option, string value, string unit)
    {
        var error = Refused(command, option, value);
        Assert.Contains($"{option}: must be less than ", error);
        var given = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture).ToString(System.Globalization.CultureInfo.InvariantCulture);   // 1E+300
        Assert.Contains($" {unit}, the longest time this program holds (got {given})", error);
    }

    /// <summary>
    /// <c>--stop-after</c>'s time coming when nothing trains (a <c>reproduce</c> rendering its reports after its runs
    /// finished) prints nothing: the reason is said only on the line that says where a run stopped, so no stray
    /// "reached" line appears in a command that then ends normally.
    /// </summary>
    [Fact]
    public void A_stop_after_time_that_comes_when_nothing_trains_prints_nothing_and_keeps_its_reason_for_a_stop()
    {
        var error = new StringWriter();
        using var signals = new StopSignals(error, "continue");
        Assert.Null(signals.Reason);
        signals.StopAfter(TimeSpan.FromMinutes(0.0001));
        Assert.True(signals.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)));
        Assert.Equal("", error.ToString());
        Assert.Equal("--stop-after 0.0001 min reached", signals.Reason);
        Assert.Equal(StopSignals.TimedStop, signals.ExitCode);
    }

    /// <summary>
    /// Under <c>dotnet run</c> a signal to the process group arrives twice (the group's, then dotnet run's forwarded one), which
    /// once turned the README's command's clean stop under <c>timeout</c> into a stop at once: a second signal within
    /// <see cref="StopSignals.EchoWindow"/> is the first's echo there, and only there.
    /// </summary>
    [Fact]
    public void Under_dotnet_run_a_second_signal_within_the_echo_window_is_the_first_ones_echo()
    {
        Assert.True(StopSignals.IsDotnetRun(["/usr/share/dotnet/dotnet", "run", "--project", "src/ApolloBench.Cli", "-c", "Release", "--", "reproduce", "fig6c"]));
        Assert.True(StopSignals.IsDotnetRun(["dotnet", "-d", "run"]));
        Assert.False(StopSignals.IsDotnetRun(["dotnet", "exec", "ApolloBench.Cli.dll", "run"]));
        Assert.False(StopSignals.IsDotnetRun(["dotnet", "test"]));
        Assert.False(StopSignals.IsDotnetRun(["bash", "-c", "dotnet run"]));
        Assert.False(StopSignals.IsDotnetRun(["dotnet"]));
        Assert.False(StopSignals.IsDotnetRun([]));

        Assert.True(StopSignals.IsEcho(parentForwards: true, TimeSpan.FromMilliseconds(5)));
        Assert.False(StopSignals.IsEcho(parentForwards: true, StopSignals.EchoWindow + TimeSpan.FromMilliseconds(1)));
        Assert.False(StopSignals.IsEcho(parentForwards: false, TimeSpan.FromMilliseconds(5)));
    }
}
