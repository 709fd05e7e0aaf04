using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Runtime;
using ApolloBench.Tests.Experiments;
using ApolloBench.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Gpu;

/// <summary>
/// The gpu and paper scales train in bf16 on cuda (issue 14, item 6): a bf16 mixed-precision step on CUDA must give the loss and
/// gradients of the CPU's fp32 step from the same weights and batch, within what bf16 rounding allows.
/// </summary>
[Trait("Category", "Gpu")]
public class CudaPrecisionTests
{
    /// <summary>
    /// The bounds of <see cref="MixedPrecisionTrainingTests"/> (bf16 against fp32 on the CPU), for the same reason: autocast rounds
    /// every operand of the matmuls, linear layers and attention to bf16 (relative error u = 2^-8) and accumulates in fp32, so
    /// the gradient vector moves by about u (measured on the CPU: 0.3-0.5%) and the loss, a mean over many tokens, by far
    /// less. On CUDA the same ops are cast (CUDA's autocast keeps softmax, LayerNorm and the loss in fp32 explicitly; attention
    /// runs a fused bf16 kernel with fp32 accumulation), and the device's different summation order adds about 1e-6
    /// (<see cref="CudaParityTests"/>), so bf16 rounding dominates and the CPU's bounds hold: loss 0.1%, gradient 4u = 1.5%.
    /// A device bug costs more: a mask or label on the wrong device moves the loss by 1e-2, a lost gradient path by O(1).
    /// TF32 is switched off so that whatever autocast leaves in fp32 is fp32.
    /// </summary>
    const double LossTolerance = 0.001, GradientTolerance = 0.015;

    [GpuTheory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void A_bf16_step_on_cuda_gives_the_cpu_fp32_loss_and_gradients_within_bf16_rounding(Architecture arch)
    {
        var cuda = GpuEnvironment.RequireCuda();
        using var fp32Only = GpuEnvironment.Fp32Only();
        torch.set_num_threads(1);

        var config = Repo.Scales.Get("smoke").ModelFor(arch);
        var objective = arch == Architecture.Bert ? Objective.MaskedLm : Objective.CausalLm;
        var stream = new BatchStream(TrainingFixtures.Tokens(8000), objective, batchSize: 8, config.SeqLen, config.Vocab, seed: 42);
        using var batch = stream.Next();
        using var model = LanguageModel.Create(config, 42);   // dropout 0: the two steps see the same network

        var (cpuLoss, cpuGradient) = Step(model, batch, torch.CPU, Precision.Fp32);
        model.to(cuda);
        using var onCuda = batch.To(cuda);
        var (cudaLoss, cudaGradient) = Step(model, onCuda, cuda, Precision.Bf16);

        Assert.True(double.IsFinite(cudaLoss), $"cuda bf16 loss {cudaLoss}");
        Assert.NotEqual(cpuLoss, cudaLoss);   // bf16 really ran
        double lossError = Math.Abs(cudaLoss - cpuLoss) / cpuLoss;
        Assert.True(lossError <= LossTolerance, $"{arch}: loss cpu fp32 {cpuLoss:R} vs cuda bf16 {cudaLoss:R}, relative difference {lossError:E2} > {LossTolerance}");
        double gradientError = GradientError.Relative(cudaGradient, cpuGradient);
        Assert.True(gradientError <= GradientTolerance, $"{arch}: |g_cuda,bf16 - g_cpu,fp32| / |g_cpu,fp32| = {gradientError:E2} > {GradientTolerance}");
    }

    /// <summary>
    /// One training forward (in an autocast region when bf16, as <c>TrainingSession.TrainingForward</c> opens it) and backward:
    /// the loss and every parameter's gradient in parameter order as fp32 (zeros where a weight got none); gradients are cleared after.
    /// </summary>
    static (double Loss, float[] Gradient) Step(LanguageModel model, Batch batch, Device device, Precision precision)
    {
        model.train();
        double loss;
        using (var scope = torch.NewDisposeScope())
        {
            Tensor output;
            using (Autocast.Enter(device, precision)) output = model.Forward(batch.InputIds, batch.Labels, LanguageModel.IdentityPlan(model.Config.Layers)).Loss;
            Assert.Equal(ScalarType.Float32, output.dtype);
            output.backward();
            loss = output.item<float>();
        }
        var gradient = new List<float>();
        foreach (var p in model.parameters())
        {
            Assert.Equal(ScalarType.Float32, p.dtype);   // fp32 master weights on both devices
            var g = p.grad;
            if (g is null)
            {
                gradient.AddRange(new float[p.numel()]);
                continue;
            }
            using (var onCpu = g.detach().cpu().@float().contiguous()) gradient.AddRange(onCpu.data<float>().ToArray());
            p.grad = null;
            g.Dispose();
        }
        return (loss, gradient.ToArray());
    }
}
