using System.Globalization;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;

namespace ApolloBench.Benchmarks;

/// <summary>
/// `calibration-probe`: how much a training step and the calibration slow down under the bench's load process, measured
/// side by side, quiet and loaded: Scratch steps as the trainer times them, the trainer's own calibrations, and the
/// calibration run as one long sample of consecutive steps. A diagnostic for the `walltime` proof.
/// </summary>
public static class CalibrationProbe
{
    public static int Run(string[] args)
    {
        var inv = CultureInfo.InvariantCulture;
        int steps = 40, threads = 2;
        var scale = Scale.Parse("cpu");
        var arch = Architecture.Bert;
        var model = scale.ModelFor(arch);
        var tokens = Runs.RunExecutor.Tokens(null, model.Vocab, ReproduceOptions.DefaultCache());
        var train = ShortRuns.Settings(scale, arch, steps, 20, threads, scale.TrainFor(arch).Precision, scale.TrainFor(arch).Seed) with { EvalBatches = 2 };
        foreach (var loaded in new[] { false, true })
        {
            using var load = loaded ? LoadProcess.Start(2, TimeSpan.FromMinutes(10)) : null;
            var result = ShortRuns.Train(scale, arch, train, new Scratch(), tokens);
            double perStep = (result.Steps[^1].WallSeconds - result.Steps[9].WallSeconds) / (result.Steps.Count - 10);
            var objective = Data.Objective.MaskedLm;
            var stream = new Data.BatchStream(tokens.Train, objective, train.BatchSize, model.SeqLen, tokens.VocabSize, train.Seed);
            torch.set_num_threads(threads);
            using var longSample = new Calibration(model, train, torch.CPU, () => stream.At(0), minSeconds: 5);
            longSample.Measure();
            var longRate = longSample.Measure();
            double stepAtCalibration = longSample.StepFlops / longRate / 1e9;
            Console.WriteLine(string.Create(inv, $"{(loaded ? "loaded" : "quiet ")}: trainer step {perStep:F3} s; trainer calibrations {string.Join(", ", result.Evals.Select(e => e.MachineSpeed.ToString("F0", inv)))} GFLOP/s (initial {result.InitialMachineSpeed:F0}); " +
                $"long sample {longRate:F0} GFLOP/s = {stepAtCalibration:F3} s/step over {longSample.LastSteps} steps"));
        }
        return 0;
    }
}
