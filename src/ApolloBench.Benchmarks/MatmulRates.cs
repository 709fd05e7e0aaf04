using System.Diagnostics;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ApolloBench.Benchmarks;

/// <summary>
/// Matmul rates in fp32 and bf16 for the shapes a model runs (its linear layers as <c>F.linear</c> calls them, its head, its
/// batched attention products) and for square matrices, the two precisions alternated batch by batch. Each rate is the best
/// of several timed batches: a peak, which is what model FLOPs utilisation is measured against.
/// </summary>
public static class MatmulRates
{
    /// <summary>A product of (Batch x) M x K by K x N. <paramref name="Linear"/>: <c>F.linear</c> with an [N, K] weight, as the layers run it.</summary>
    public sealed record Shape(string Name, string Where, long Batch, long M, long K, long N, bool Linear)
    {
        public double Flops => 2.0 * Batch * M * K * N;
    }

    public sealed record Rate(Shape Shape, double Fp32, double Bf16);

    /// <summary>The products of one training step of <paramref name="c"/> at batch <paramref name="batch"/> (BERT's head runs on <paramref name="predicted"/> rows), then squares.</summary>
    public static IReadOnlyList<Shape> Shapes(ModelConfig c, int batch, int predicted, IEnumerable<int> squares)
    {
        long rows = (long)batch * c.SeqLen, h = c.Hidden, f = c.Ffn, v = c.Vocab, t = c.SeqLen, d = c.Hidden / c.Heads, bh = (long)batch * c.Heads;
        var shapes = new List<Shape>
        {
            new($"{rows} x {h} x {h}", "BERT query, key, value, attention output; GPT attention output", 1, rows, h, h, true),
            new($"{rows} x {h} x {3 * h}", "GPT c_attn (query, key, value at once)", 1, rows, h, 3 * h, true),
            new($"{rows} x {h} x {f}", "feed-forward in", 1, rows, h, f, true),
            new($"{rows} x {f} x {h}", "feed-forward out", 1, rows, f, h, true),
            new($"{rows} x {h} x {v}", "GPT's tied head (every position)", 1, rows, h, v, true),
            new($"{predicted} x {h} x {v}", "BERT's tied MLM head (the ~15% masked positions)", 1, predicted, h, v, true),
            new($"{bh} x ({t} x {d} x {t})", "attention scores, batched over B·H", bh, t, d, t, false),
            new($"{bh} x ({t} x {t} x {d})", "attention-weighted values, batched over B·H", bh, t, t, d, false),
        };
        foreach (var n in squares) shapes.Add(new($"{n} x {n} x {n}", "square (for context)", 1, n, n, n, false));
        return shapes;
    }

    public static IReadOnlyList<Rate> Measure(IReadOnlyList<Shape> shapes, int rounds)
        => shapes.Select(s => Measure(s, rounds)).ToList();

    static Rate Measure(Shape s, int rounds)
    {
        using var fp32 = new Probe(s, bf16: false);
        using var bf16 = new Probe(s, bf16: true);
        double best32 = 0, best16 = 0;
        fp32.Gflops();   // warm-up
        bf16.Gflops();
        for (int r = 0; r < rounds; r++)
        {
            best32 = Math.Max(best32, fp32.Gflops());
            best16 = Math.Max(best16, bf16.Gflops());
        }
        return new Rate(s, best32, best16);
    }

    /// <summary>One product in one precision, ready to be timed again and again: each <see cref="Gflops"/> times a batch of about 20 ms at 100 GFLOP/s (at least 3 calls).</summary>
    public sealed class Probe : IDisposable
    {
        readonly Shape shape;
        readonly Tensor a, b;
        readonly int calls;

        public Probe(Shape s, bool bf16)
        {
            shape = s;
            torch.manual_seed(1);
            var type = bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
            a = (s.Batch == 1 ? torch.randn(s.M, s.K) : torch.randn(s.Batch, s.M, s.K)).to(type);
            b = (s.Linear ? torch.randn(s.N, s.K) : s.Batch == 1 ? torch.randn(s.K, s.N) : torch.randn(s.Batch, s.K, s.N)).to(type);
            calls = (int)Math.Max(3, Math.Ceiling(2e9 / s.Flops));
        }

        public double Gflops()
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++) (shape.Linear ? F.linear(a, b) : a.matmul(b)).Dispose();
            return shape.Flops * calls / clock.Elapsed.TotalSeconds / 1e9;
        }

        public void Dispose()
        {
            a.Dispose();
            b.Dispose();
        }
    }
}
