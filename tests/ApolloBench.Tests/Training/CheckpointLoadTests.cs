using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;

namespace ApolloBench.Tests.Training;

/// <summary>
/// Loading a checkpoint's weights writes into the model's own parameter tensors (the ones the optimiser holds) and leaves
/// torch's generator alone. The CUDA half of this (where TorchSharp's Module.load would swap the parameters out) is
/// <see cref="Gpu.CudaTrainingTests"/>.
/// </summary>
public class CheckpointLoadTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ab-ckload-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Weights_load_into_the_same_parameter_tensors_and_leave_the_generator_alone(Architecture arch)
    {
        var config = TrainingFixtures.Config(arch);
        using (var saved = LanguageModel.Create(config, 1)) saved.save(Path.Combine(dir, "model.bin"));
        using var model = LanguageModel.Create(config, 2);
        var before = model.parameters().Select(p => p.Handle).ToList();

        torch.manual_seed(77);
        using var expectedDraw = torch.rand(8);
        torch.manual_seed(77);
        Checkpoint.LoadWeights(dir, model);
        using var draw = torch.rand(8);

        Assert.Equal(before, model.parameters().Select(p => p.Handle));
        using var reference = LanguageModel.Create(config, 1);
        foreach (var ((name, p), (_, q)) in model.named_parameters().Zip(reference.named_parameters()))
            Assert.True(p.equal(q).all().item<bool>(), $"{name} differs from the saved weights");
        Assert.True(draw.equal(expectedDraw).all().item<bool>(), "loading weights moved torch's generator");
    }
}
