using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Tests.Training;

public class ResumeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ab-resume-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    sealed class Killed : Exception;

    static RunResult Uninterrupted(Architecture arch, Func<GrowthMethod> method)
        => TrainingFixtures.Trainer(arch, method(), TrainingFixtures.Train(40)).Run();

    RunResult KilledThenResumed(Architecture arch, Func<GrowthMethod> method, long killAfter)
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(arch, method(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == killAfter) throw new Killed(); }, checkpoints));
        Assert.NotNull(Checkpoint.Find(checkpoints.Dir));
        // A fresh process would build everything anew: a new model from the same seed, a new stream, a new method.
        return TrainingFixtures.Trainer(arch, method(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
    }

    static void AssertSameRun(RunResult a, RunResult b)
    {
        Assert.Equal(a.Steps.Select(s => (s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.LearningRate, s.GradNorm, s.Tokens)),
                     b.Steps.Select(s => (s.Step, s.Loss, s.Depth, s.Weights, s.Flops, s.LearningRate, s.GradNorm, s.Tokens)));
        Assert.Equal(a.Evals.Select(e => (e.Step, e.ValidLoss, e.Flops)), b.Evals.Select(e => (e.Step, e.ValidLoss, e.Flops)));
        Assert.Equal(a.Growths, b.Growths);
    }

    [Theory]
    [InlineData(Architecture.Gpt, 3)]     // inside stage 2, before the 3 -> 6 growth
    [InlineData(Architecture.Bert, 17)]   // inside the last stage
    [InlineData(Architecture.Gpt, 9)]     // the step before a growth boundary
    public void Apollo_killed_and_resumed_equals_an_uninterrupted_run(Architecture arch, long killAfter)
    {
        var a = Uninterrupted(arch, () => TrainingFixtures.Apollo());
        var b = KilledThenResumed(arch, () => TrainingFixtures.Apollo(), killAfter);
        AssertSameRun(a, b);
    }

    [Fact]
    public void Resume_without_a_checkpoint_starts_from_step_zero()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "none"), TimeSpan.FromHours(1), Resume: true);
        var a = Uninterrupted(Architecture.Gpt, () => new Scratch());
        var b = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
        AssertSameRun(a, b);
    }

    [Fact]
    public void A_half_swapped_checkpoint_falls_back_to_the_previous_one()
    {
        var checkpoints = new Checkpointing(Path.Combine(dir, "checkpoint"), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40))
            .Run((s, _) => { if (s.Step == 12) throw new Killed(); }, checkpoints));
        // Simulate a kill between "move the old one aside" and "move the new one in".
        Directory.Move(checkpoints.Dir, checkpoints.Dir + ".old");
        Assert.Equal(checkpoints.Dir + ".old", Checkpoint.Find(checkpoints.Dir));
        var b = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40)).Run(checkpointing: checkpoints);
        AssertSameRun(Uninterrupted(Architecture.Gpt, () => TrainingFixtures.Apollo()), b);
    }
}
