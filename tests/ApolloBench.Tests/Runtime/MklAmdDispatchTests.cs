using ApolloBench.Runtime;
using TorchSharp;
using Xunit;

namespace ApolloBench.Tests.Runtime;

public class MklAmdDispatchTests
{
    static bool IsAmd => File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Any(l => l.StartsWith("vendor_id") && l.Contains("AuthenticAMD"));

    [Fact]
    public void Applied_exactly_on_amd_and_says_why_otherwise()
    {
        MklAmdDispatch.EnsureApplied();
        if (IsAmd && Environment.GetEnvironmentVariable(MklAmdDispatch.EnvironmentVariable) is null
            && !MklAmdDispatch.Outcome.StartsWith("not applied: mprotect refused"))   // a kernel that forbids writable code keeps MKL's default
        {
            Assert.True(MklAmdDispatch.Active, MklAmdDispatch.Outcome);
            Assert.StartsWith("applied", MklAmdDispatch.Outcome);
            Assert.Equal(1, MklAmdDispatch.CallVendorTest());
        }
        else
        {
            Assert.False(MklAmdDispatch.Active);
            Assert.StartsWith("not applied: ", MklAmdDispatch.Outcome);
        }
    }

    [Fact]
    public void Matmul_stays_correct_on_the_chosen_kernels()
    {
        MklAmdDispatch.EnsureApplied();
        using var a = torch.randn(300, 257, generator: new torch.Generator(7));
        using var b = torch.randn(257, 190, generator: new torch.Generator(8));
        using var fast = a.mm(b);
        using var exact = a.to(torch.float64).mm(b.to(torch.float64));
        double worst = fast.to(torch.float64).sub(exact).abs().max().item<double>();
        Assert.True(worst < 1e-3, $"fp32 matmul differs from the fp64 reference by {worst} (MKL: {MklAmdDispatch.Outcome})");
    }
}
