using ApolloBench.Core;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using BenchmarkDotNet.Attributes;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Benchmarks;

/// <summary>Depth samplers and layer mappings: per-micro-batch decisions that must cost nothing next to a step.</summary>
[MemoryDiagnoser]
public class SamplerAndMappingBenchmarks
{
    readonly DepthSampler lvps = DepthSampler.Create("lvps", null), es = DepthSampler.Create("es", null), code = DepthSampler.Create("lvps-code", null);
    readonly Rng rng = new(1);

    [Benchmark] public int LvpsDraw() => lvps.Sample(3, 12, rng);
    [Benchmark] public int EsDraw() => es.Sample(3, 12, rng);
    [Benchmark] public int LvpsCodeDraw() => code.Sample(3, 12, rng);
    [Benchmark] public double[] LvpsExactDistribution() => lvps.Probabilities(3, 12);
    [Benchmark] public int[] Interpolate3To11() => LayerMapping.Interpolate(3, 11);
    [Benchmark] public int[] Stack3To11() => LayerMapping.Stack(3, 11);
}

/// <summary>The analytic FLOPs counter, called once per micro-batch by the trainer.</summary>
public class FlopsBenchmarks : IDisposable
{
    readonly LanguageModel model = LanguageModel.Create(Scale.Parse("smoke").ModelFor(Architecture.Bert), 0);
    [Benchmark] public double StepFlops() => model.StepFlops(7, 16, 128, 300).Total;
    public void Dispose() => model.Dispose();
}

/// <summary>cl100k tokenization plus the remap into the run's vocabulary.</summary>
[MemoryDiagnoser]
public class TokenizationBenchmarks
{
    readonly string text = string.Concat(Enumerable.Repeat("The state of the Union is strong, and the Congress shall consider the measures. ", 200));
    [Benchmark] public int[] Cl100kEncode() => Data.VocabTokenizer.EncodeBase(text);
}

/// <summary>A cpu-scale training step at each executed depth (tokens/s = batch x 128 / time).</summary>
public class StepBenchmarks
{
    StepHarness harness = null!;
    [Params(Architecture.Bert, Architecture.Gpt)] public Architecture Model { get; set; }
    [Params(1, 3, 6, 9, 12)] public int Depth { get; set; }

    [GlobalSetup] public void Setup() { torch.set_num_threads(Environment.ProcessorCount); harness = new StepHarness(Scale.Parse("cpu").ModelFor(Model), Scale.Parse("cpu").TrainFor(Model).BatchSize); }
    [GlobalCleanup] public void Cleanup() => harness.Dispose();
    [Benchmark] public void TrainingStep() => harness.Step(LanguageModel.IdentityPlan(Depth));
}

/// <summary>The cost of weight sharing: Apollo's plan (3 weights interpolated to depth d) against a plain d-layer plan.</summary>
public class WeightSharingBenchmarks
{
    StepHarness harness = null!;
    [Params(6, 12)] public int Depth { get; set; }

    [GlobalSetup] public void Setup() { torch.set_num_threads(Environment.ProcessorCount); harness = new StepHarness(Scale.Parse("cpu").ModelFor(Architecture.Bert), Scale.Parse("cpu").TrainFor(Architecture.Bert).BatchSize); }
    [GlobalCleanup] public void Cleanup() => harness.Dispose();
    [Benchmark(Baseline = true)] public void PlainLayers() => harness.Step(LanguageModel.IdentityPlan(Depth));
    [Benchmark] public void SharedWeights() => harness.Step(LayerMapping.Interpolate(3, Depth));
}

/// <summary>The matmul reference against which model FLOPs utilisation is computed.</summary>
public class MatmulBenchmarks : IDisposable
{
    readonly Tensor a = torch.randn(2048, 2048), b = torch.randn(2048, 2048);
    [GlobalSetup] public void Setup() => torch.set_num_threads(Environment.ProcessorCount);
    [Benchmark(Description = "fp32 mm 2048 (17.2 GFLOP)")] public void Mm2048() { using var c = a.mm(b); }
    public void Dispose() { a.Dispose(); b.Dispose(); }
}
