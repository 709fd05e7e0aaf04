using ApolloBench.Growth;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Baselines;

/// <summary>
/// A model's parameters as a plain name -> tensor map (Hugging Face names, see <see cref="BertModel"/> and
/// <see cref="GptModel"/>), so that growth operators are pure functions from one map to another and a grown
/// model is built by loading a map into a freshly allocated model.
/// </summary>
public static class ModelState
{
    /// <summary>Detached copies of every parameter of <paramref name="model"/>, by name (no gradient, safe to keep).</summary>
    public static Dictionary<string, Tensor> Of(LanguageModel model)
    {
        using var _ = torch.no_grad();
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope());
    }

    /// <summary>
    /// Copies every tensor of <paramref name="state"/> into the parameter of the same name. Every parameter must be
    /// present with its exact shape and no name may be left over, so a growth operator cannot silently skip one.
    /// </summary>
    public static void Load(LanguageModel model, IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = torch.no_grad();
        var seen = new HashSet<string>();
        foreach (var (name, p) in model.named_parameters())
        {
            if (!state.TryGetValue(name, out var t)) throw new ArgumentException($"state has no tensor for parameter '{name}'", nameof(state));
            if (!t.shape.SequenceEqual(p.shape))
                throw new ArgumentException($"'{name}': state has shape [{string.Join(",", t.shape)}], model needs [{string.Join(",", p.shape)}]", nameof(state));
            p.copy_(t);
            seen.Add(name);
        }
        var extra = state.Keys.Where(k => !seen.Contains(k)).ToList();
        if (extra.Count > 0) throw new ArgumentException($"state has tensors the model does not: {string.Join(", ", extra.Take(5))}", nameof(state));
    }

    /// <summary>
    /// Depth growth by stacking (bert2BERT's depth step; SPEC section 2): layer <c>i</c> of the result is a copy of
    /// layer <c>LayerMapping.Stack(from, to)[i]</c>, i.e. cyclic repetition with a partial last block filled by the
    /// top layers. Shared parameters (embeddings, final norm, heads) are carried over unchanged.
    /// </summary>
    public static Dictionary<string, Tensor> StackDepth(IReadOnlyDictionary<string, Tensor> state, Architecture arch, int from, int to)
    {
        var g = LayerMapping.Stack(from, to);
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, t) in state)
        {
            var layout = ParameterLayout.Of(arch, name);
            if (layout.Layer is not int k) { result[name] = t; continue; }
            if (k >= from) throw new ArgumentException($"'{name}' lies beyond the {from} layers being stacked", nameof(state));
            for (int i = 0; i < to; i++)
                if (g[i] == k) result[ParameterLayout.LayerName(arch, i, layout.Local)] = t;
        }
        return result;
    }
}
