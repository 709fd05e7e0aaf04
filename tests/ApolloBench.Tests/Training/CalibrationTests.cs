using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Training;

/// <summary>
/// The step-shaped calibration (<see cref="Calibration"/>): it measures a positive, finite rate in both architectures and
/// precisions, draws nothing from any random number generator, and running it more often leaves a run's curve bit-identical.
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
        var calibration = new Calibration(TrainingFixtures.Config(arch), Train(precision), torch.CPU);

        torch.manual_seed(1234);
        var direct = torch.rand(16);
        torch.manual_seed(1234);
        var first = calibration.Measure();
        var second = calibration.Measure();
        var afterCalibration = torch.rand(16);

        Assert.True(double.IsFinite(first) && first > 0, $"first rate {first}");
        Assert.True(double.IsFinite(second) && second > 0, $"second rate {second}");
        Assert.True(calibration.Passes >= 1);
        Assert.True(calibration.PassFlops > 0);
        Assert.True(direct.equal(afterCalibration).all().item<bool>(), "the calibration moved torch's global generator");
        Assert.False(ApolloBench.Runtime.Autocast.IsEnabled(torch.CPU), "the calibration left an autocast region open");
    }

    [Fact]
    public void Calibration_counts_one_layer_forward_and_backward_as_the_models_do()
    {
        foreach (var arch in new[] { Architecture.Gpt, Architecture.Bert })
        {
            var config = TrainingFixtures.Config(arch);
            var train = Train("fp32");
            using var model = LanguageModel.Create(config, 1);
            var perLayer = model.StepFlops(2, train.BatchSize, config.SeqLen, 0).Total - model.StepFlops(1, train.BatchSize, config.SeqLen, 0).Total;
            Assert.Equal(perLayer, new Calibration(config, train, torch.CPU).PassFlops, 6);
        }
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
            var calibration = new Calibration(TrainingFixtures.Config(arch), train, torch.CPU);
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
