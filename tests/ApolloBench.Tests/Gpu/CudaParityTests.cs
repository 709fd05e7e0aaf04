using ApolloBench.Data;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Tests.Experiments;
using ApolloBench.Tests.Training;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Gpu;

/// <summary>
/// BERT and GPT at smoke scale compute the same loss and gradients on CUDA as on the CPU from the same weights and
/// the same batch, in fp32 (TF32 off), under the identity plan and under an Apollo plan that shares weights.
/// </summary>
[Trait("Category", "Gpu")]
public class CudaParityTests
{
    /// <summary>
    /// Relative tolerances. Both devices compute in fp32 (eps 1.2e-7) but sum in different orders (MKL/oneDNN vs cuBLAS
    /// and CUDA's attention kernels); through 12 layers of width 32 that moves a loss of ~5.5 by about 1e-7 to 1e-6
    /// relative, and the gradient vector by about 1e-6 to 1e-5. The bounds leave a 100x margin over that and are still
    /// far below what a real device bug costs: a mask, position or label left on the wrong device, a missing causal mask
    /// or an unmoved buffer changes the loss by 1e-2 or more, and a dropped or doubled gradient path changes the gradient
    /// by O(1). TF32 is not left to the tolerance: it is switched off and the switch is checked.
    /// </summary>
    const double LossTolerance = 1e-4, GradientTolerance = 1e-3;

    [GpuTheory]
    [InlineData(Architecture.Bert, 12)]   // identity plan: weight i runs layer i
    [InlineData(Architecture.Bert, 3)]    // Apollo's second stage: 3 weights interpolated over 12 executed layers
    [InlineData(Architecture.Gpt, 12)]
    [InlineData(Architecture.Gpt, 3)]
    public void Smoke_scale_loss_and_gradients_on_cuda_equal_the_cpus_from_the_same_weights(Architecture arch, int weights)
    {
        var cuda = GpuEnvironment.RequireCuda();
        using var fp32 = GpuEnvironment.Fp32Only();
        Assert.False(torch.backends.cuda.matmul.allow_tf32, "TF32 is still on for cuBLAS matmuls");
        torch.set_num_threads(1);

        var config = Repo.Scales.Get("smoke").ModelFor(arch);
        var plan = LayerMapping.Map(MappingKind.Interpolate, weights, config.Layers);
        var objective = arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;
        var stream = new BatchStream(TrainingFixtures.Tokens(8000), objective, batchSize: 8, config.SeqLen, config.Vocab, seed: 42);
        using var batch = stream.Next();
        using var model = LanguageModel.Create(config, 42);

        var (cpuLoss, cpuGradient) = LossAndGradient(model, batch, plan);
        model.to(cuda);
        Assert.All(model.parameters(), p => Assert.Equal(DeviceType.CUDA, p.device_type));
        using var onCuda = batch.To(cuda);
        var (cudaLoss, cudaGradient) = LossAndGradient(model, onCuda, plan);

        Assert.True(double.IsFinite(cpuLoss) && cpuLoss > 0, $"cpu loss {cpuLoss}");
        double lossError = Math.Abs(cudaLoss - cpuLoss) / cpuLoss;
        Assert.True(lossError <= LossTolerance, $"{arch}, {weights} weights: loss cpu {cpuLoss:R} vs cuda {cudaLoss:R}, relative difference {lossError:E2} > {LossTolerance:E0}");

        double gradientError = GradientError.Relative(cudaGradient, cpuGradient);
        Assert.True(gradientError <= GradientTolerance, $"{arch}, {weights} weights: |g_cuda - g_cpu| / |g_cpu| = {gradientError:E2} > {GradientTolerance:E0}");
    }

    /// <summary>The loss of one forward pass and every parameter's gradient, flattened in parameter order (zeros where a weight got none); gradients are cleared after.</summary>
    static (double Loss, float[] Gradient) LossAndGradient(LanguageModel model, Batch batch, int[] plan)
    {
        model.train();
        foreach (var p in model.parameters()) Assert.Null(p.grad);
        double loss;
        using (var scope = torch.NewDisposeScope())
        {
            var output = model.Forward(batch.InputIds, batch.Labels, plan);
            output.Loss.backward();
            loss = output.Loss.item<float>();
        }
        var gradient = new List<float>();
        foreach (var p in model.parameters())
        {
            var g = p.grad;
            if (g is null)
            {
                gradient.AddRange(new float[p.numel()]);
                continue;
            }
            using (var onCpu = g.detach().cpu().contiguous()) gradient.AddRange(onCpu.data<float>().ToArray());
            p.grad = null;
            g.Dispose();
        }
        return (loss, gradient.ToArray());
    }
}
