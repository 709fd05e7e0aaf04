using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Training;

/// <summary>
/// The calibration (<see cref="Calibration"/>, one full-depth training step of a copy of the run's model): it measures a
/// positive, finite rate in both architectures and precisions, puts torch's generator back as it found it, and running it
/// more often leaves a run's curve bit-identical.
/// </summary>
public class CalibrationTests
{
    static TrainConfig Train(string precision, long steps = 10) => TrainingFixtures.Train(steps) with { Precision = precision };

    [Theory]
    [InlineData(Architecture.Gpt, "fp32")]
    [InlineData(Architecture.Bert, "fp32")]
    [InlineData(Architecture.Gpt, "bf16")]
    [InlineData(Architecture.Bert, "bf16")]
    public void Calibration_rate_is_positive_and_finite_and_uses_no_rng(Architecture arch, string precision)
    {
        torch.set_num_threads(1);
        using var calibration = TrainingFixtures.Calibration(arch, Train(precision));

        torch.manual_seed(1234);
        var direct = torch.rand(16);
        torch.manual_seed(1234);
        var first = calibration.Measure();
        var second = calibration.Measure();
        var afterCalibration = torch.rand(16);

        Assert.True(double.IsFinite(first) && first > 0, $"first rate {first}");
        Assert.True(double.IsFinite(second) && second > 0, $"second rate {second}");
        Assert.True(calibration.LastSteps >= 1);
        Assert.True(calibration.StepFlops > 0);
        Assert.True(direct.equal(afterCalibration).all().item<bool>(), "the calibration moved torch's global generator");
        Assert.False(ApolloBench.Runtime.Autocast.IsEnabled(torch.CPU), "the calibration left an autocast region open");
    }

    [Fact]
    public void Calibration_counts_one_full_depth_step_as_the_models_do()
    {
        foreach (var arch in new[] { Architecture.Gpt, Architecture.Bert })
        {
            var config = TrainingFixtures.Config(arch);
            var train = Train("fp32");
            using var calibration = TrainingFixtures.Calibration(arch, train);
            var rate = calibration.Measure();
            using var model = LanguageModel.Create(config, 1);
            var objective = arch == Architecture.Bert ? ApolloBench.Data.Objective.MaskedLm : ApolloBench.Data.Objective.CausalLm;
            using var batch = new ApolloBench.Data.BatchStream(TrainingFixtures.Tokens(20000), objective, train.BatchSize, config.SeqLen, config.Vocab, train.Seed).At(0);
            Assert.Equal(model.StepFlops(config.Layers, train.BatchSize, config.SeqLen, batch.PredictedTokens).Total, calibration.StepFlops, 6);
            Assert.True(calibration.LastSteps >= 1 && rate > 0);
        }
    }

    /// <summary>
    /// A sample lasts at least <see cref="Calibration.MinSeconds"/>, however fast one step is, so a few time slices of a
    /// busy scheduler cannot make the whole measurement.
    /// </summary>
    [Fact]
    public void A_measurement_runs_whole_steps_for_at_least_the_minimum_sample()
    {
        using var calibration = TrainingFixtures.Calibration(Architecture.Gpt, Train("fp32"));
        calibration.Measure();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var rate = calibration.Measure();
        clock.Stop();
        Assert.True(clock.Elapsed.TotalSeconds >= Calibration.MinSeconds, $"{clock.Elapsed.TotalSeconds} s");
        Assert.True(calibration.LastSteps >= 1);
        // The rate is the steps' total FLOPs over their total time, so it cannot exceed what the timed span allows.
        Assert.True(rate <= calibration.LastSteps * calibration.StepFlops / Calibration.MinSeconds / 1e9 * 1.0001, $"rate {rate}");
    }

    /// <summary>
    /// A run that calibrates after every step (besides at every evaluation) gives the same losses, bit for bit, as one that
    /// calibrates only where the trainer does: the calibration touches neither the model, nor the optimiser, nor any RNG.
    /// </summary>
    [Theory]
    [InlineData(Architecture.Gpt, "fp32")]
    [InlineData(Architecture.Bert, "bf16")]
    public void Extra_calibrations_leave_the_curve_bit_identical(Architecture arch, string precision)
    {
        var train = Train(precision, steps: 20);   // Apollo's smoke schedule needs 20 steps
        double[] Curve(bool extra)
        {
            var trainer = TrainingFixtures.Trainer(arch, TrainingFixtures.Apollo(), train);
            using var calibration = TrainingFixtures.Calibration(arch, train);
            var result = trainer.Run(extra ? (_, _) => calibration.Measure() : null);
            return result.Steps.Select(s => s.Loss).Concat(result.Evals.Select(e => e.ValidLoss)).ToArray();
        }
        var plain = Curve(false);
        var calibrated = Curve(true);
        Assert.Equal(plain, calibrated);
        Assert.All(plain, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void The_run_records_a_calibration_rate_at_every_evaluation()
    {
        var result = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), Train("fp32")).Run();
        Assert.True(double.IsFinite(result.InitialMachineSpeed) && result.InitialMachineSpeed > 0);
        Assert.NotEmpty(result.Evals);
        Assert.All(result.Evals, e => Assert.True(double.IsFinite(e.MachineSpeed) && e.MachineSpeed > 0, $"step {e.Step}: {e.MachineSpeed}"));
    }
}
