using System.Runtime.CompilerServices;
using ApolloBench.Benchmarks;
using BenchmarkDotNet.Running;

// `report [--out FILE] [--threads N] [--quick] [--widths W,...|none] [--loss-steps N] [--cache DIR]`: the suite's own timing
// run that writes reports/performance.md. `walltime [...]`: the loaded-vs-quiet proof of normalised wall time (issue 16), a
// marked section of the same file. `calibration-probe`: step and calibration slowdowns under the same load, side by side.
// `matmul`, `precision`: single measurements; `memory-probe`, `load`: the bench's own children.
// Anything else goes to BenchmarkDotNet (e.g. `--filter *Sampler*`).
if (args.Length > 0 && args[0] == "report") return PerformanceReport.Run(args[1..]);
if (args.Length > 0 && args[0] == "matmul") return PerformanceReport.RunMatmul(args[1..]);
if (args.Length > 0 && args[0] == "precision") return PerformanceReport.RunPrecision(args[1..]);
if (args.Length > 0 && args[0] == "walltime") return WallTimeProof.Run(args[1..]);
if (args.Length > 0 && args[0] == "calibration-probe") return CalibrationProbe.Run(args[1..]);
if (args.Length > 0 && args[0] == "load") return WallTimeProof.RunLoad(args[1..]);
if (args.Length > 0 && args[0] == "memory-probe") return PerformanceReport.RunMemoryProbe(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(StepHarness).Assembly).Run(args);
return 0;

static class ShimInit
{
#pragma warning disable CA2255 // BenchmarkDotNet's child process starts here too: patch before any torch call
    [ModuleInitializer]
    internal static void Init() => ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();
#pragma warning restore CA2255
}
