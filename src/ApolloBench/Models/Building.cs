using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ApolloBench.Models;

/// <summary>
/// A parameter-free node that only gives its children names, so parameter paths match
/// Hugging Face's checkpoints (e.g. <c>encoder.layer.3.attention.self.query.weight</c>) while the
/// forward code keeps typed fields.
/// </summary>
internal sealed class Named : nn.Module
{
    public Named(params (string Name, nn.Module Child)[] children) : base(nameof(Named))
    {
        foreach (var (name, child) in children) register_module(name, child);
    }
}

/// <summary>GPT-2's Conv1D: a linear map whose weight is stored [in, out], as in its checkpoints.</summary>
internal sealed class Conv1D : nn.Module<Tensor, Tensor>
{
    readonly Parameter weight;
    readonly Parameter bias;

    public Conv1D(long inFeatures, long outFeatures) : base(nameof(Conv1D))
    {
        weight = new Parameter(torch.empty(inFeatures, outFeatures));
        bias = new Parameter(torch.zeros(outFeatures));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    // (..., in) -> (..., out)
    public override Tensor forward(Tensor x) => torch.addmm(bias, x.flatten(0, -2), weight, 1, 1).unflatten(0, x.shape[..^1]);
}

internal static class Init
{
    /// <summary>Hugging Face's initialisation: N(0, 0.02) for matrices and embeddings, zero biases, unit LayerNorm.</summary>
    public static void Standard(nn.Module module, double std = 0.02)
    {
        using var _ = torch.no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            var leaf = name[(name.LastIndexOf('.') + 1)..];
            var isNorm = name.Contains("LayerNorm") || name.Contains("ln_");
            if (isNorm) { if (leaf == "weight") p.fill_(1.0); else p.zero_(); }
            else if (leaf == "bias") p.zero_();
            else nn.init.normal_(p, 0, std);
        }
    }
}
