using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Gpu;

/// <summary>
/// A fact that needs CUDA. Where <c>torch.cuda.is_available()</c> is false (every CPU-only machine and CI, and any
/// build without <c>-p:TorchBackend=cuda</c>, which references TorchSharp-cpu) it is reported as skipped with the
/// reason, never run and passed. Put <c>[Trait("Category", "Gpu")]</c> on the class so
/// <c>dotnet test --filter Category=Gpu</c> selects it.
/// </summary>
public sealed class GpuFactAttribute : FactAttribute
{
    public GpuFactAttribute()
    {
        if (GpuEnvironment.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>The theory form of <see cref="GpuFactAttribute"/>: skipped, with the reason, without CUDA.</summary>
public sealed class GpuTheoryAttribute : TheoryAttribute
{
    public GpuTheoryAttribute()
    {
        if (GpuEnvironment.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>Whether this process can use CUDA, and the switches the GPU tests set.</summary>
public static class GpuEnvironment
{
    /// <summary>
    /// Set to 1 on a GPU runner (gpu.yml does): a missing GPU then fails every GPU test instead of skipping it, so a
    /// runner that lost its GPU, or a build that picked the cpu backend, cannot go green by skipping everything.
    /// </summary>
    public const string RequireVariable = "APOLLOBENCH_REQUIRE_GPU";

    static readonly Lazy<(bool Available, string Detail)> Probe = new(() =>
    {
        try
        {
            return torch.cuda.is_available()
                ? (true, $"{torch.cuda.device_count()} CUDA device(s)")
                : (false, "torch.cuda.is_available() is false (no GPU here, or a build with the default -p:TorchBackend=cpu, which references TorchSharp-cpu)");
        }
        catch (Exception e)   // the native library did not load at all: no CUDA either
        {
            return (false, $"TorchSharp could not be initialised ({e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})");
        }
    });

    public static bool CudaAvailable => Probe.Value.Available;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable)?.Trim() is "1" or "true";

    /// <summary>Why a GPU test is skipped here, or null when it runs (CUDA is available, or it is required and will fail).</summary>
    public static string? SkipReason => CudaAvailable || Required ? null
        : $"GPU test skipped: {Probe.Value.Detail}. It runs on a CUDA machine with " +
          $"`dotnet test ApolloBench.sln -c Release --filter Category=Gpu -p:TorchBackend=cuda` (.github/workflows/gpu.yml); set {RequireVariable}=1 there to fail instead of skip.";

    /// <summary>The CUDA device; fails the test, naming why, when there is none (reached only when <see cref="Required"/>).</summary>
    public static Device RequireCuda()
    {
        Assert.True(CudaAvailable, $"{RequireVariable} is set but CUDA is not available: {Probe.Value.Detail}");
        return torch.CUDA;
    }

    /// <summary>
    /// Turns TF32 off for cuBLAS matmuls (<c>torch.backends.cuda.matmul.allow_tf32</c>) and cuDNN
    /// (<c>torch.backends.cudnn.allow_tf32</c>) until disposed, then restores both: TF32 keeps 10 mantissa bits, so with
    /// it on a CUDA loss is no longer an fp32 computation and cannot be held to fp32 tolerances.
    /// </summary>
    public static IDisposable Fp32Only() => new Tf32Off();

    sealed class Tf32Off : IDisposable
    {
        readonly bool matmul = torch.backends.cuda.matmul.allow_tf32, cudnn = torch.backends.cudnn.allow_tf32;

        public Tf32Off()
        {
            torch.backends.cuda.matmul.allow_tf32 = false;
            torch.backends.cudnn.allow_tf32 = false;
        }

        public void Dispose()
        {
            torch.backends.cuda.matmul.allow_tf32 = matmul;
            torch.backends.cudnn.allow_tf32 = cudnn;
        }
    }
}
