using System.Text.Json.Nodes;
using ApolloBench.Core;
using ApolloBench.Growth;

namespace ApolloBench.Experiments;

/// <summary>
/// The artifacts that need no training, computed from the code that training uses: the samplers'
/// exact distributions (<see cref="DepthSampler.Probabilities"/>) checked against draws
/// (<see cref="DepthSampler.Sample"/>), the layer mappings (<see cref="LayerMapping"/>) and the model
/// shapes of a scale (<see cref="ModelShapes"/>). Seconds, whatever the scale.
/// </summary>
public static class PureMath
{
    /// <summary>Draws per seed when a definition does not say.</summary>
    public const long DefaultDraws = 0;

    public static ArtifactResults Compute(Experiment e, ReportContext context)
    {
        if (e.NeedsTraining) throw new InvalidOperationException($"{e.Id} needs training runs; it is not a pure-math artifact");
        return new ArtifactResults
        {
            Id = e.Id,
            Fingerprint = e.Fingerprint(),
            Context = context,
            Definition = (JsonObject)JsonNode.Parse(e.DefinitionJson())!,
            Samplers = e.Definition.Depth is null ? [] : Samplers(e),
            Mappings = Mappings(e),
            Shapes = Shapes(e),
        };
    }

    public static List<SamplerResult> Samplers(Experiment e)
    {
        var (l, trained) = e.Depth;
        long draws = e.Definition.Draws ?? DefaultDraws;
        var results = new List<SamplerResult>();
        foreach (var (key, def) in e.Samplers)
        {
            var sampler = DepthSampler.Create(def.Sampler!, def.K);
            foreach (int n in trained)
            {
                var p = sampler.Probabilities(n, l);
                var check = draws > 0 ? Check(sampler, key, n, l, p, draws, e.SeedValues) : null;
                results.Add(new SamplerResult(key, def.Label ?? sampler.ToString(), sampler.Name, sampler.K, n, l, p, sampler.MeanDepth(n, l), check));
            }
        }
        return results;
    }

    /// <summary>Draws <paramref name="drawsPerSeed"/> depths for each seed from the stream (seed, "sampler-check:key", n) and pools the counts.</summary>
    static EmpiricalCheck Check(DepthSampler sampler, string key, int n, int l, double[] p, long drawsPerSeed, IReadOnlyList<long> seeds)
    {
        var counts = new long[p.Length];
        foreach (long seed in seeds)
        {
            var rng = Rng.For(seed, $"sampler-check:{key}", n);
            for (long i = 0; i < drawsPerSeed; i++) counts[sampler.Sample(n, l, rng) - n]++;
        }
        long total = drawsPerSeed * seeds.Count;
        var freq = counts.Select(c => (double)c / total).ToArray();
        double worst = 0, mean = 0;
        for (int i = 0; i < p.Length; i++)
        {
            mean += (n + i) * freq[i];
            double se = Math.Sqrt(p[i] * (1 - p[i]) / total);
            double dev = se > 0 ? Math.Abs(freq[i] - p[i]) / se : freq[i] == p[i] ? 0 : double.PositiveInfinity;
            worst = Math.Max(worst, dev);
        }
        return new EmpiricalCheck(total, freq, mean, worst);
    }

    public static List<MappingResult> Mappings(Experiment e) => e.Mappings.Select(kv =>
    {
        var kind = LayerMapping.Parse(kv.Value.Kind!);
        int from = kv.Value.From!.Value, to = kv.Value.To!.Value;
        var name = kind == MappingKind.Stack ? "stack" : "interpolate";
        return new MappingResult(kv.Key, kv.Value.Label ?? $"{name} {from} -> {to}", name, from, to, LayerMapping.Map(kind, from, to));
    }).ToList();

    public static List<ShapeResult> Shapes(Experiment e) => e.Shapes.Select(kv =>
    {
        var s = kv.Value;
        var config = ModelShapes.Resolve(e.Scale, ModelShapes.Parse(s.Model!), s.Layers ?? 12, s.HeadsRatio ?? 1);
        return new ShapeResult(kv.Key, s.Label ?? kv.Key, s.Model!, config.Layers, config.Hidden, config.Heads, config.Vocab, config.SeqLen);
    }).ToList();
}
