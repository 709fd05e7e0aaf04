using System.Diagnostics;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Downstream;

/// <summary>What a fine-tuning run did: optimizer steps, mean training loss per epoch, seconds.</summary>
public sealed record FinetuneTrace(long Steps, IReadOnlyList<double> EpochLosses, double Seconds);

/// <summary>
/// The fine-tuning loop and prediction. AdamW (the suite's, with BERT's no-decay rule for biases and LayerNorm),
/// linear warmup then linear decay to 0 over all steps, gradient-norm clipping, a fresh example order per
/// epoch from <c>Rng.For(seed, "finetune-order", epoch)</c> and dropout from its own seeded stream.
/// One dispose scope per step.
/// </summary>
public static class Finetuner
{
    /// <summary>A batch of model inputs: ids (B, T) int64, padding mask (B, T) bool, targets.</summary>
    public sealed record Batch(Tensor Ids, Tensor Mask, Tensor Targets, Tensor? EndTargets) : IDisposable
    {
        public void Dispose() { Ids.Dispose(); Mask.Dispose(); Targets.Dispose(); EndTargets?.Dispose(); }
    }

    /// <summary>Linear warmup to the peak over <paramref name="warmup"/> steps, then linear decay to 0 at <paramref name="total"/>.</summary>
    public static double LearningRate(double peak, long step, long warmup, long total)
    {
        if (step < warmup) return peak * (step + 1) / warmup;
        return peak * Math.Max(0, total - step) / Math.Max(1, total - warmup);
    }

    /// <summary>Pads <paramref name="rows"/> with [PAD] to the longest, with the mask true on real tokens.</summary>
    public static (Tensor Ids, Tensor Mask) Pad(IReadOnlyList<int[]> rows)
    {
        int t = rows.Max(r => r.Length);
        var ids = new long[rows.Count * t];
        var mask = new bool[rows.Count * t];
        for (int b = 0; b < rows.Count; b++)
            for (int i = 0; i < rows[b].Length; i++)
            {
                ids[b * t + i] = rows[b][i];
                mask[b * t + i] = true;
            }
        return (torch.tensor(ids, [rows.Count, t]), torch.tensor(mask, [rows.Count, t]));
    }

    public static FinetuneTrace Train(FinetuneModel model, int examples, Func<int[], Batch> makeBatch, FinetuneHyper hyper, long seed,
        Action<string>? log = null)
    {
        if (examples == 0) throw new UsageException("fine-tuning: the training set is empty");
        long perEpoch = (examples + hyper.BatchSize - 1) / hyper.BatchSize;
        long total = perEpoch * hyper.Epochs;
        long warmup = (long)Math.Floor(hyper.WarmupFraction * total);
        var named = model.NamedParameters().ToList();
        using var opt = new AdamW(named, new AdamW.Settings(WeightDecay: hyper.WeightDecay));
        torch.manual_seed(Rng.For(seed, "finetune-dropout").NextSeed());
        model.train();
        var clock = Stopwatch.StartNew();
        var epochLosses = new List<double>();
        long step = 0;
        for (int epoch = 0; epoch < hyper.Epochs; epoch++)
        {
            var order = Rng.For(seed, "finetune-order", epoch).Permutation(examples);
            double sum = 0;
            int batches = 0;
            for (int from = 0; from < examples; from += hyper.BatchSize)
            {
                using var scope = torch.NewDisposeScope();
                var idx = order[from..Math.Min(examples, from + hyper.BatchSize)];
                using var batch = makeBatch(idx);
                var loss = model.Loss(batch.Ids, batch.Mask, batch.Targets, batch.EndTargets);
                loss.backward();
                if (hyper.ClipNorm > 0) opt.ClipGradNorm(hyper.ClipNorm);
                opt.Step(LearningRate(hyper.LearningRate, step, warmup, total));
                opt.ZeroGrad();
                sum += loss.item<float>();
                batches++;
                step++;
            }
            epochLosses.Add(sum / batches);
            log?.Invoke($"  epoch {epoch + 1}/{hyper.Epochs}: mean training loss {sum / batches:F4} ({step} steps, {clock.Elapsed.TotalSeconds:F1} s)");
        }
        model.eval();
        return new FinetuneTrace(step, epochLosses, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Sequence-task outputs, one row per input: class logits, or a single regression value.</summary>
    public static float[][] PredictSequence(FinetuneModel model, IReadOnlyList<int[]> inputs, int batchSize = 64)
    {
        model.eval();
        var result = new List<float[]>(inputs.Count);
        using var _ = torch.no_grad();
        for (int from = 0; from < inputs.Count; from += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var rows = inputs.Skip(from).Take(batchSize).ToList();
            var (ids, mask) = Pad(rows);
            var logits = model.Classify(ids, mask);
            if (logits.dim() == 1) logits = logits.unsqueeze(1);
            var flat = logits.to(ScalarType.Float32).data<float>().ToArray();
            int width = (int)logits.shape[1];
            for (int b = 0; b < rows.Count; b++) result.Add(flat.AsSpan(b * width, width).ToArray());
        }
        return [.. result];
    }

    /// <summary>Span-task outputs: per window, the start and end logits of its real positions.</summary>
    public static (float[] Start, float[] End)[] PredictSpans(FinetuneModel model, IReadOnlyList<SpanFeature> features, int batchSize = 64)
    {
        model.eval();
        var result = new List<(float[], float[])>(features.Count);
        using var _ = torch.no_grad();
        for (int from = 0; from < features.Count; from += batchSize)
        {
            using var scope = torch.NewDisposeScope();
            var rows = features.Skip(from).Take(batchSize).ToList();
            var (ids, mask) = Pad(rows.Select(f => f.Ids).ToList());
            var (s, e) = model.Spans(ids, mask);
            int t = (int)s.shape[1];
            var sf = s.to(ScalarType.Float32).data<float>().ToArray();
            var ef = e.to(ScalarType.Float32).data<float>().ToArray();
            for (int b = 0; b < rows.Count; b++)
            {
                int n = rows[b].Ids.Length;
                result.Add((sf.AsSpan(b * t, n).ToArray(), ef.AsSpan(b * t, n).ToArray()));
            }
        }
        return [.. result];
    }

    /// <summary>
    /// The answer text of each example, as BERT's SQuAD post-processing picks it: over its windows, the best
    /// start + end logit among the <see cref="FeatureBuilder.BestCandidates"/> top starts and ends that lie in
    /// the context, end &gt;= start, at most <see cref="FeatureBuilder.MaxAnswerTokens"/> tokens; the span's
    /// characters are cut from the context and trimmed. The null score is the smallest [CLS] start + end over the
    /// windows; with <paramref name="allowNoAnswer"/> (v2.0) the answer is "" when the null score is higher
    /// than the best span's (threshold 0).
    /// </summary>
    public static string[] Answers(IReadOnlyList<SquadExample> examples, IReadOnlyList<SpanFeature> features,
        IReadOnlyList<(float[] Start, float[] End)> logits, bool allowNoAnswer)
    {
        var best = new (double Score, string Text)[examples.Count];
        var nullScore = new double[examples.Count];
        Array.Fill(best, (double.NegativeInfinity, ""));
        Array.Fill(nullScore, double.PositiveInfinity);
        for (int f = 0; f < features.Count; f++)
        {
            var feat = features[f];
            var (s, e) = logits[f];
            int ex = feat.Example;
            nullScore[ex] = Math.Min(nullScore[ex], s[0] + e[0]);
            int lo = feat.ContextStart, hi = feat.ContextStart + feat.ContextLength; // context positions [lo, hi)
            var starts = TopIndices(s, lo, hi, FeatureBuilder.BestCandidates);
            var ends = TopIndices(e, lo, hi, FeatureBuilder.BestCandidates);
            foreach (var i in starts)
                foreach (var j in ends)
                {
                    if (j < i || j - i + 1 > FeatureBuilder.MaxAnswerTokens) continue;
                    double score = s[i] + e[j];
                    if (score <= best[ex].Score) continue;
                    int c0 = feat.CharStart[i - lo], c1 = feat.CharEnd[j - lo];
                    var text = c1 > c0 ? examples[ex].Context[c0..c1].Trim() : "";
                    best[ex] = (score, text);
                }
        }
        var answers = new string[examples.Count];
        for (int i = 0; i < examples.Count; i++)
            answers[i] = allowNoAnswer && (double.IsNegativeInfinity(best[i].Score) || nullScore[i] > best[i].Score) ? "" : best[i].Text;
        return answers;
    }

    static IEnumerable<int> TopIndices(float[] values, int lo, int hi, int k)
        => Enumerable.Range(lo, Math.Max(0, hi - lo)).OrderByDescending(i => values[i]).ThenBy(i => i).Take(k);
}
