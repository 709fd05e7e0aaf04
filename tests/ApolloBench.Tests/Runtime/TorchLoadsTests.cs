using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Runtime;

public class TorchLoadsTests
{
    [Fact]
    public void Torch_loads_and_an_optimizer_step_changes_the_weights()
    {
        torch.manual_seed(1);
        using var lin = nn.Linear(4, 1);
        var before = lin.weight!.detach().clone();
        using var opt = optim.AdamW(lin.parameters(), lr: 0.1);
        using var x = torch.randn(8, 4);
        using var loss = lin.forward(x).pow(2).mean();
        loss.backward();
        opt.step();
        Assert.False(before.equal(lin.weight!.detach()).all().item<bool>());
    }

    [Fact]
    public void Shim_fix_ran_and_is_idempotent()
    {
        ApolloBench.Runtime.TorchNativeFix.EnsureLoadable();
        Assert.NotEqual("not run", ApolloBench.Runtime.TorchNativeFix.Outcome);
        Assert.DoesNotContain("failed", ApolloBench.Runtime.TorchNativeFix.Outcome);
    }
}
