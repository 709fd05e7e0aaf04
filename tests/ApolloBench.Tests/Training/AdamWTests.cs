using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Training;

public class AdamWTests
{
    [Fact]
    public void Matches_torchsharps_builtin_adamw_on_the_same_gradients()
    {
        torch.manual_seed(1);
        using var a = nn.Linear(5, 3);
        using var b = nn.Linear(5, 3);
        using (torch.no_grad()) { b.weight!.copy_(a.weight!); b.bias!.copy_(a.bias!); }
        // Weight decay on every parameter here, as torch's AdamW does.
        var ours = new AdamW(a.named_parameters().Select(p => ("w." + p.name.Replace("bias", "b"), p.parameter)), new AdamW.Settings(WeightDecay: 0.1));
        using var theirs = optim.AdamW(b.parameters(), lr: 0.01, weight_decay: 0.1);
        for (int i = 0; i < 5; i++)
        {
            using var x = torch.randn(7, 5);
            ours.ZeroGrad(); theirs.zero_grad();
            a.forward(x).pow(2).sum().backward();
            b.forward(x).pow(2).sum().backward();
            ours.Step(0.01);
            theirs.step();
        }
        Assert.True(a.weight!.allclose(b.weight!, rtol: 1e-5, atol: 1e-6));
        Assert.True(a.bias!.allclose(b.bias!, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Parameters_without_gradient_get_no_update_and_no_decay()
    {
        var p = new TorchSharp.Modules.Parameter(torch.ones(3));
        var q = new TorchSharp.Modules.Parameter(torch.ones(3));
        var opt = new AdamW([("a.weight", p), ("b.weight", q)], new AdamW.Settings(WeightDecay: 0.5));
        p.sum().backward();
        opt.Step(0.1);
        Assert.False(p.equal(torch.ones(3)).all().item<bool>());
        Assert.True(q.equal(torch.ones(3)).all().item<bool>());
        Assert.Null(opt.StateOf(q));
    }
}
