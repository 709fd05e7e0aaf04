using System.Diagnostics;
using ApolloBench.Data;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Training;

/// <summary>
/// A fixed workload the trainer times at every evaluation (and once before the first step) to record how fast the machine
/// ran at that moment, whatever the method does, so wall time can be normalised to it on a shared machine
/// (<c>WallTime.Normalised</c>): one training step of the run's own model at its full depth (every layer once), on one
/// fixed micro-batch of the run's own data (<see cref="BatchStream.At"/>(0)), with the run's dropout, precision, gradient
/// clipping and AdamW update, on a copy of the model initialised from a fixed seed that the run never trains. Its rate in
/// GFLOP/s is the step's counted FLOPs (as the models count them) over its seconds. Not counted in the run's seconds.
/// <para>
/// Why the whole step. The <c>walltime</c> bench loads 2 cores with 2 spinning threads beside a 2-thread run: a
/// training step then slowed 7.1x, a calibration of 8 big matmuls only 2.4x, and one layer's forward and backward 3.1x.
/// Under oversubscription every OpenMP parallel region waits for its slowest, descheduled thread, so the slowdown of a
/// workload depends on its mix of operations (big matmuls lose only their share of the CPU; the optimiser's and
/// LayerNorm's many small regions lose far more); only the step's own mix slows as the step does. And a sample must
/// be long enough to average over the scheduler's time slices: 10-30 ms samples ranged 4-94 GFLOP/s under load.
/// So a measurement runs whole steps until at least <see cref="MinSeconds"/> have passed (at cpu scale: one step,
/// 2% of the run's time with an evaluation every 50 steps), and its rate is total FLOPs over total seconds, never a
/// median that would keep the lucky samples.
/// </para>
/// <para>
/// Training stays bit-identical and resume exact: the copy has its own parameters and optimiser, the fixed batch is
/// read without advancing the run's stream, and torch's CPU generator is put back as it was after each measurement
/// (the copy's init and dropout draw from it). The copy is built at the first measurement and freed with
/// <see cref="Dispose"/>.
/// </para>
/// </summary>
public sealed class Calibration(ModelConfig model, TrainConfig config, Device device, Func<Batch> fixedBatch, double minSeconds = Calibration.MinSeconds) : IDisposable
{
    public const double MinSeconds = 0.05;

    /// <summary>
    /// What the rate measures, written into every run's manifest (<c>results.calibration</c>): rates of different
    /// workloads are not comparable, so wall time is normalised only for runs of this kind. Runs without the field timed
    /// 8 big matmuls, which did not slow as a step does (reports/performance.md).
    /// </summary>
    public const string Kind = "full-depth training step";
    const long InitSeed = 20240117;   // the copy's own init seed, the same in every run
    TrainingSession? copy;
    Batch? batch;

    /// <summary>Counted FLOPs of one calibration step (0 before the first measurement).</summary>
    public double StepFlops { get; private set; }

    /// <summary>Steps timed by the last measurement.</summary>
    public int LastSteps { get; private set; }

    /// <summary>The machine's rate on the workload now, GFLOP/s: FLOPs of the whole steps run in at least <see cref="MinSeconds"/> over their seconds.</summary>
    public double Measure()
    {
        var generator = torch.Generator.Default;
        using var saved = generator.get_state();
        try
        {
            if (copy is null)
            {
                var net = LanguageModel.Create(model, InitSeed);
                net.to(device);
                copy = new TrainingSession(net, config, device);
                var cpuBatch = fixedBatch();
                batch = cpuBatch.To(device);
                if (!ReferenceEquals(batch, cpuBatch)) cpuBatch.Dispose();
                StepFlops = net.StepFlops(model.Layers, batch.BatchSize, batch.SeqLen, batch.PredictedTokens).Total;
                Step();   // warm-up, untimed: the optimiser's moments are allocated here
            }
            int steps = 0;
            var clock = Stopwatch.StartNew();
            do { Step(); steps++; } while (clock.Elapsed.TotalSeconds < minSeconds);
            clock.Stop();
            LastSteps = steps;
            return steps * StepFlops / clock.Elapsed.TotalSeconds / 1e9;
        }
        finally
        {
            generator.set_state(saved);
        }
    }

    /// <summary>One step on the copy; reading the gradient norm and a weight waits for the device.</summary>
    void Step()
    {
        using var scope = torch.NewDisposeScope();
        var s = copy!;
        s.Model.train();
        s.Optimizer.ZeroGrad();
        // The batch is built again every step, as the trainer builds each of its own (the run's data path, masking included).
        using var fresh = fixedBatch();
        var onDevice = fresh.To(device);
        var output = s.TrainingForward(s.Model, onDevice, LanguageModel.IdentityPlan(model.Layers), 0, "calibration");
        output.Loss.item<float>();   // the trainer reads every micro-batch's loss
        output.Loss.backward();
        s.Optimizer.ClipGradNorm(config.ClipNorm);
        s.Optimizer.Step(config.LearningRate);
        s.Optimizer.ZeroGrad();
        if (!ReferenceEquals(onDevice, fresh)) onDevice.Dispose();
        if (device.type != DeviceType.CPU) torch.cuda.synchronize(device);
    }

    public void Dispose()
    {
        copy?.Optimizer.Dispose();
        copy?.Model.Dispose();
        batch?.Dispose();
        copy = null;
        batch = null;
    }
}
