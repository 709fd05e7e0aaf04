using ApolloBench.Runs;
using Xunit.Abstractions;

namespace ApolloBench.Tests.Faults;

/// <summary>One <see cref="FaultLab"/> for the fault tests: the uninterrupted runs are trained once and shared.</summary>
public sealed class FaultLabFixture : IDisposable
{
    public FaultLab Lab { get; } = new();
    public void Dispose() => Lab.Dispose();
}

/// <summary>
/// Runs that survive damage, cancellation and a second writer, the CI subset: the CLI as a child process at smoke scale,
/// killed, signalled, damaged and doubled, must either end with the uninterrupted run's curve and weights or stop with one
/// line (exit 2, 130 or 143); never a silent wrong result, never a stack trace. The random kill steps, delays and damaged
/// bytes come from one seed, printed (APOLLOBENCH_FAULT_SEED repeats a run). The full matrix is <see cref="ReliabilityMatrix"/>.
/// </summary>
[Collection("cli")]
[Trait("Category", "Faults")]
public class FaultTests(FaultLabFixture fixture, ITestOutputHelper output) : IClassFixture<FaultLabFixture>
{
    FaultLab Lab => fixture.Lab;

    void Expect(Outcome expected, Trial trial)
    {
        output.WriteLine($"seed {Lab.Seed} (APOLLOBENCH_FAULT_SEED={Lab.Seed} repeats it): {trial}");
        Assert.True(trial.Outcome == expected, $"expected {expected}, got {trial} (seed {Lab.Seed})");
    }

    /// <summary>Every method, two at a time (each child runs one thread, so two fill a 2-core runner).</summary>
    [Fact]
    public void Sigkill_at_two_random_steps_then_resume_ends_with_the_uninterrupted_curve_and_weights_for_every_method()
    {
        var trials = new Trial[MethodCase.All.Length];
        Parallel.For(0, trials.Length, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i => trials[i] = Lab.KillAndResume(MethodCase.All[i], kills: 2, trial: 0));
        foreach (var trial in trials) output.WriteLine(trial.ToString());
        Assert.All(trials, t => Expect(Outcome.Survived, t));
    }

    [Theory]
    [InlineData("model.bin", "flip")]
    [InlineData("optimizer.bin", "truncate")]
    [InlineData("state.json", "garbage")]
    [InlineData("state.sha256", "delete")]
    public void A_damaged_newest_checkpoint_is_named_and_the_previous_one_ends_the_run_exactly(string file, string how)
        => Expect(Outcome.Survived, Lab.DamageCheckpoint(MethodCase.Apollo, file, how, all: false));

    [Theory]
    [InlineData("model.bin", "truncate")]
    [InlineData("state.json", "flip")]
    public void With_every_checkpoint_damaged_the_resume_stops_with_one_line_naming_the_file(string file, string how)
        => Expect(Outcome.Refused, Lab.DamageCheckpoint(MethodCase.Apollo, file, how, all: true));

    [Theory]
    [InlineData("--method")]
    [InlineData("--steps")]
    public void A_resume_with_a_changed_option_is_refused_naming_the_field(string option)
        => Expect(Outcome.Refused, Lab.ResumeChanged(MethodCase.Apollo, option));

    [Fact]
    public void A_second_train_on_a_folder_being_written_exits_2_naming_the_writer()
        => Expect(Outcome.Refused, Lab.SecondWriter(secondResumes: true, finishFirst: false));

    [Fact]
    public void Train_without_resume_on_a_folder_holding_a_checkpoint_is_refused()
        => Expect(Outcome.Refused, Lab.RestartWithoutResume(MethodCase.Apollo));

    [Fact]
    public void Two_trains_needing_one_small_model_and_tokenized_corpus_build_them_once_the_second_waiting()
        => Expect(Outcome.Survived, Lab.TwoNeedOneDependency());

    /// <summary>bert2BERT: its start takes the small model's cache lock, which a stop request must not turn into a failure.</summary>
    [Fact]
    public void Sigterm_finishes_the_step_checkpoints_exits_143_and_the_printed_command_ends_the_run_exactly()
        => Expect(Outcome.Survived, Lab.SignalAndContinue(MethodCase.Bert2Bert, ChildCli.SigTerm, trial: 0));

    [Fact]
    public void Stop_after_finishes_the_step_checkpoints_exits_75_and_resume_ends_the_run_exactly()
        => Expect(Outcome.Survived, Lab.TimedStopAndResume(MethodCase.Scratch));

    [SigIntFact]
    public void Sigint_does_the_same_with_exit_130()
        => Expect(Outcome.Survived, Lab.SignalAndContinue(MethodCase.Scratch, ChildCli.SigInt, trial: 0));

    [Fact]
    public void A_second_signal_stops_at_once_and_resume_still_ends_the_run_exactly()
        => Expect(Outcome.Survived, Lab.SignalTwice(MethodCase.StackBert, trial: 0));

    [Fact]
    public void Two_reproductions_sharing_a_run_train_it_once_and_a_damaged_finished_run_is_never_rendered_and_is_retrained()
    {
        foreach (var trial in Lab.SharedAndDamagedRun(["model.bin:flip", "manifest.json:flip"])) Expect(Outcome.Survived, trial);
    }

    [Fact]
    public void Sigterm_stops_reproduce_inside_a_job_saying_which_are_left_and_the_printed_command_finishes_them()
        => Expect(Outcome.Survived, Lab.StopReproduce(trial: 0));

    [Fact]
    public void A_fetched_corpus_tarball_that_is_not_the_pinned_one_is_refused_and_nothing_is_cached()
        => Expect(Outcome.Refused, Lab.FetchDamagedTarball("not the package"));
}

/// <summary>A fact that needs SIGINT to reach child processes: skipped where this process ignores SIGINT (and so its children would).</summary>
public sealed class SigIntFactAttribute : FactAttribute
{
    public SigIntFactAttribute()
    {
        if (ChildCli.SigIntIgnoredHere())
            Skip = "this test process ignores SIGINT (it was started in the background by a non-interactive shell), so its children would too; SIGTERM is tested instead";
    }
}
