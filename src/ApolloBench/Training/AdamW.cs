using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ApolloBench.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter 2019) with the update PyTorch's torch.optim.AdamW performs, written
/// out so that growth methods can see and move its per-parameter state: Apollo keeps moments
/// attached to parameter slots or copies them with the weights, StackBERT resets them.
/// A parameter whose gradient is null is skipped entirely: no update and no weight decay.
/// </summary>
public sealed class AdamW : IDisposable
{
    public sealed record Settings(double Beta1 = 0.9, double Beta2 = 0.999, double Eps = 1e-8, double WeightDecay = 0.01);

    /// <summary>First and second moments and the step count of one parameter.</summary>
    public sealed class State(Tensor expAvg, Tensor expAvgSq, long step) : IDisposable
    {
        public Tensor ExpAvg { get; } = expAvg;
        public Tensor ExpAvgSq { get; } = expAvgSq;
        public long Step { get; set; } = step;
        public State Clone() => new(ExpAvg.detach().clone().DetachFromDisposeScope(), ExpAvgSq.detach().clone().DetachFromDisposeScope(), Step);
        public void Dispose() { ExpAvg.Dispose(); ExpAvgSq.Dispose(); }
    }

    readonly List<(Parameter Param, bool Decay)> parameters;
    readonly Dictionary<IntPtr, State> state = new();
    public Settings Options { get; }

    /// <param name="named">Parameters by name; biases and LayerNorm weights get no weight decay (as BERT's and GPT-2's recipes).</param>
    public AdamW(IEnumerable<(string Name, Parameter Param)> named, Settings options)
    {
        Options = options;
        parameters = named.Select(p => (p.Param, !IsNoDecay(p.Name))).ToList();
    }

    public static bool IsNoDecay(string name) => name.EndsWith(".bias") || name == "bias" || name.Contains("LayerNorm") || name.Contains("ln_") || name.EndsWith("predictions.bias");

    public IReadOnlyList<Parameter> Parameters => parameters.Select(p => p.Param).ToList();

    public State? StateOf(Parameter p) => state.GetValueOrDefault(p.Handle);

    /// <summary>Replaces (a clone of <paramref name="source"/>) or clears the state of a parameter.</summary>
    public void SetState(Parameter p, State? source)
    {
        if (state.Remove(p.Handle, out var old)) old.Dispose();
        if (source is not null) state[p.Handle] = source.Clone();
    }

    /// <summary>Forgets every moment (StackBERT's --reset-optimizer).</summary>
    public void Reset()
    {
        foreach (var s in state.Values) s.Dispose();
        state.Clear();
    }

    public void ZeroGrad()
    {
        foreach (var (p, _) in parameters)
        {
            var g = p.grad;
            if (g is not null) { p.grad = null; g.Dispose(); }
        }
    }

    public void Step(double lr)
    {
        using var _ = torch.no_grad();
        var (b1, b2) = (Options.Beta1, Options.Beta2);
        foreach (var (p, decay) in parameters)
        {
            var g = p.grad;
            if (g is null) continue;
            if (!state.TryGetValue(p.Handle, out var s))
                state[p.Handle] = s = new State(torch.zeros_like(p).DetachFromDisposeScope(), torch.zeros_like(p).DetachFromDisposeScope(), 0); // outlives the step's scope
            s.Step++;
            if (decay && Options.WeightDecay != 0) p.mul_(1 - lr * Options.WeightDecay);
            s.ExpAvg.mul_(b1).add_(g, alpha: 1 - b1);
            s.ExpAvgSq.mul_(b2).addcmul_(g, g, value: 1 - b2);
            double bc1 = 1 - Math.Pow(b1, s.Step), bc2 = 1 - Math.Pow(b2, s.Step);
            using var denom = s.ExpAvgSq.sqrt().div_(Math.Sqrt(bc2)).add_(Options.Eps);
            p.addcdiv_(s.ExpAvg, denom, value: -lr / bc1);
        }
    }

    /// <summary>Clips the global gradient norm of the parameters that have gradients; returns the norm before clipping.</summary>
    public double ClipGradNorm(double maxNorm)
    {
        var withGrad = parameters.Where(p => p.Param.grad is not null).Select(p => p.Param).ToList();
        if (withGrad.Count == 0) return 0;
        return nn.utils.clip_grad_norm_(withGrad, maxNorm);
    }

    /// <summary>Writes every parameter's moments and step count, in parameter order, for a checkpoint.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(parameters.Count);
        foreach (var (p, _) in parameters)
        {
            var s = StateOf(p);
            writer.Write(s is not null);
            if (s is null) continue;
            writer.Write(s.Step);
            s.ExpAvg.Save(writer);
            s.ExpAvgSq.Save(writer);
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote, for the same parameters in the same order.</summary>
    public void Load(BinaryReader reader)
    {
        var count = reader.ReadInt32();
        if (count != parameters.Count) throw new InvalidDataException($"optimizer checkpoint holds {count} parameters, the model has {parameters.Count}");
        Reset();
        foreach (var (p, _) in parameters)
        {
            if (!reader.ReadBoolean()) continue;
            var step = reader.ReadInt64();
            var m = torch.zeros_like(p).DetachFromDisposeScope();
            var v = torch.zeros_like(p).DetachFromDisposeScope();
            m.Load(reader);
            v.Load(reader);
            state[p.Handle] = new State(m, v, step);
        }
    }

    public void Dispose() => Reset();
}

/// <summary>Linear warmup then cosine decay to zero at the end of the run's own budget.</summary>
public sealed record LearningRateSchedule(double Peak, long WarmupSteps, long TotalSteps)
{
    public double At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        var decaySteps = Math.Max(1, TotalSteps - WarmupSteps);
        var progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        return Peak * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
