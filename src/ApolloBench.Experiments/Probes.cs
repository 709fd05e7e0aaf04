using ApolloBench.Data;
using ApolloBench.Growth;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Experiments;

/// <summary>What a probe measured on one model (paper Tables 2-3, Fig. 5).</summary>
/// <param name="GradMean">mean |gradient| over every parameter element that received a gradient (plain units, not x1e-3).</param>
/// <param name="Activations">the output activations (every element of the final hidden states of every sequence).</param>
public sealed record ProbeMeasurement(int Samples, double Loss, double GradMean, double GradStd, long GradElements, float[] Activations);

/// <summary>
/// Measurements on a model over fixed held-out batches, as pure functions of the model and the batches (no
/// parameter changes, no randomness): the paper's Table 2/3 "loss" and "gradient (mean +- std)" and Fig. 5's
/// output-activation distribution, and the two ways of growing a trained model to more layers (paper Eq. 11-12).
/// </summary>
public static class Probes
{
    /// <summary>
    /// Loss: the mean over batches of each batch's mean loss, weighted by its sequences. Gradient: of that same mean
    /// loss (accumulated over the batches), then |g| over every element of every parameter that received one
    /// (weights outside <paramref name="plan"/> get none), mean and population standard deviation. Activations:
    /// the final hidden states under <paramref name="plan"/>, every element. The model is left in eval mode with
    /// its gradients cleared.
    /// </summary>
    public static ProbeMeasurement Measure(LanguageModel model, IReadOnlyList<int> plan, IReadOnlyList<Batch> batches)
    {
        if (batches.Count == 0) throw new ArgumentException("at least one batch is needed", nameof(batches));
        int samples = batches.Sum(b => b.BatchSize);
        model.eval();
        model.zero_grad();
        double loss = 0;
        var activations = new List<float>();
        foreach (var batch in batches)
        {
            using var scope = torch.NewDisposeScope();
            double weight = (double)batch.BatchSize / samples;
            var output = model.Forward(batch.InputIds, batch.Labels, plan);
            (output.Loss * weight).backward();
            loss += weight * output.Loss.item<float>();
            using var noGrad = torch.no_grad();
            activations.AddRange(model.Encode(batch.InputIds, plan).contiguous().data<float>().ToArray());
        }
        double sum = 0, sumSquares = 0;
        long count = 0;
        foreach (var p in model.parameters())
        {
            if (p.grad is not { } grad) continue;
            using var scope = torch.NewDisposeScope();
            var g = grad.abs().to(ScalarType.Float64);
            sum += g.sum().item<double>();
            sumSquares += g.square().sum().item<double>();
            count += g.numel();
        }
        model.zero_grad();
        double mean = count == 0 ? 0 : sum / count;
        double std = count == 0 ? 0 : Math.Sqrt(Math.Max(0, sumSquares / count - mean * mean));
        return new ProbeMeasurement(samples, loss, mean, std, count, [.. activations]);
    }

    /// <summary>
    /// A new model of <paramref name="layers"/> layers whose layer i is a copy of layer <c>g(i)</c> of
    /// <paramref name="source"/> (g: <see cref="LayerMapping.Map"/> from the source's layer count; stacking, Eq. 11,
    /// or interpolation, Eq. 12), with the shared parameters (embeddings, final norm, heads) copied unchanged.
    /// </summary>
    public static LanguageModel Grow(LanguageModel source, int layers, MappingKind mapping)
    {
        int from = source.Config.Layers;
        if (layers < from) throw new ArgumentOutOfRangeException(nameof(layers), layers, $"cannot shrink {from} layers");
        var g = LayerMapping.Map(mapping, from, layers);
        var grown = LanguageModel.Create(source.Config with { Layers = layers }, initSeed: 0);
        using var _ = torch.no_grad();
        LanguageModel.CopyParameters(source.SharedParameters(), grown.SharedParameters());
        for (int i = 0; i < layers; i++) LanguageModel.CopyParameters(source.LayerParameters(g[i]), grown.LayerParameters(i));
        return grown;
    }

    /// <summary>A density histogram of <paramref name="values"/> over [low, high] in <paramref name="bins"/> equal bins (values outside are clipped into the end bins).</summary>
    public static double[] Density(IReadOnlyList<float> values, double low, double high, int bins)
    {
        var counts = new double[bins];
        if (values.Count == 0 || !(high > low)) return counts;
        double width = (high - low) / bins;
        foreach (var v in values)
        {
            int b = (int)Math.Floor((v - low) / width);
            counts[Math.Clamp(b, 0, bins - 1)]++;
        }
        for (int i = 0; i < bins; i++) counts[i] /= values.Count * width;
        return counts;
    }
}
