using System.Diagnostics;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace ApolloBench.Benchmarks;

/// <summary>
/// What dropout costs at one scale, and what cheaper ways to draw the same masks would save (issue 14; the model code is
/// left as it is). On the CPU, <c>at::dropout</c> draws its mask with <c>bernoulli_(1 - p)</c> on a float tensor, which
/// libtorch runs serially, one double-precision uniform (two 32-bit Mersenne-Twister outputs) per element, whatever the
/// thread count (MKL's parallel generator is used only on Intel CPUs); it then divides by 1 - p and multiplies. The attention
/// probabilities' dropout also moves <c>scaled_dot_product_attention</c> off its fused CPU kernel onto the written-out math path.
/// </summary>
public static class DropoutCost
{
    /// <summary>One kind of dropout site: its mask's size, how many a step draws, and the milliseconds of one mask drawn three ways.</summary>
    public sealed record MaskRow(string Site, long Elements, int PerStep, double BernoulliMs, double UniformMs, double UniformTwoThreadsMs);

    /// <summary>Forward + backward milliseconds of one attention call (B, H, T, d) written four ways.</summary>
    public sealed record AttentionRow(string Variant, double Milliseconds);

    public static IReadOnlyList<MaskRow> Masks(ModelConfig c, int batch, double p, int repeats)
    {
        long probs = (long)batch * c.Heads * c.SeqLen * c.SeqLen, stream = (long)batch * c.SeqLen * c.Hidden;
        var rows = new List<MaskRow>();
        foreach (var (site, n, count) in new[] { ("attention probabilities (B, H, T, T)", probs, c.Layers), ("embeddings and residual branches (B, T, h)", stream, 2 * c.Layers + 1) })
        {
            var samples = new double[3][];
            for (int k = 0; k < 3; k++) samples[k] = new double[repeats];
            using var g1 = new Generator(1);
            using var g2 = new Generator(2);
            for (int r = -1; r < repeats; r++)   // round -1 warms up
                for (int k = 0; k < 3; k++)
                {
                    var clock = Stopwatch.StartNew();
                    using (var mask = Draw(k, n, 1 - p, g1, g2)) { }
                    if (r >= 0) samples[k][r] = clock.Elapsed.TotalMilliseconds;
                }
            rows.Add(new MaskRow(site, n, count, StepHarness.Median(samples[0]), StepHarness.Median(samples[1]), StepHarness.Median(samples[2])));
        }
        return rows;
    }

    /// <summary>
    /// A scaled keep-mask (0 or 1 / keep) of <paramref name="n"/> floats: 0 as <c>at::dropout</c> draws it; 1 from one float
    /// uniform per element (one 32-bit draw) compared with keep; 2 the same with each half of the tensor filled by its own
    /// generator on its own thread. All three are Bernoulli(keep) per element (1 and 2 to the float grid, 2^-24).
    /// </summary>
    static Tensor Draw(int how, long n, double keep, Generator g1, Generator g2)
    {
        var mask = torch.empty(n);
        switch (how)
        {
            case 0:
                mask.bernoulli_(keep);
                break;
            case 1:
                mask.uniform_(0, 1, g1).lt_(keep);
                break;
            default:
                using (var first = mask.narrow(0, 0, n / 2))
                using (var second = mask.narrow(0, n / 2, n - n / 2))
                    Parallel.Invoke(() => first.uniform_(0, 1, g1), () => second.uniform_(0, 1, g2));
                mask.lt_(keep);
                break;
        }
        return mask.div_(keep);
    }

    /// <summary>
    /// One attention call of the model's shape, forward and backward (median of <paramref name="repeats"/>, variants
    /// alternated): without dropout (the fused kernel), with dropout as the models call it, and written out (the math path's
    /// own operators) with the mask from <c>bernoulli_</c> and from one float uniform per element.
    /// </summary>
    public static IReadOnlyList<AttentionRow> Attention(ModelConfig c, int batch, double p, Runtime.Precision precision, int repeats)
    {
        bool causal = c.Arch == Architecture.Gpt;
        long d = c.Hidden / c.Heads;
        var shape = new long[] { batch, c.Heads, c.SeqLen, d };
        torch.manual_seed(3);
        using var q = torch.randn(shape).requires_grad_();
        using var k = torch.randn(shape).requires_grad_();
        using var v = torch.randn(shape).requires_grad_();
        using var grad = torch.randn(shape);
        using var future = causal ? torch.ones(c.SeqLen, c.SeqLen, dtype: ScalarType.Bool).triu(1) : null;
        using var g = new Generator(5);
        string[] names = ["scaled_dot_product_attention, no dropout (fused kernel)", $"scaled_dot_product_attention, dropout {p} (what the models run)",
                          "written out, mask from bernoulli_ (the math path's operators)", "written out, mask from one float uniform per element"];
        var samples = names.Select(_ => new double[repeats]).ToArray();
        for (int r = -1; r < repeats; r++)
            for (int variant = 0; variant < names.Length; variant++)
            {
                var clock = Stopwatch.StartNew();
                using (var scope = torch.NewDisposeScope())
                {
                    Tensor output;
                    using (Runtime.Autocast.Enter(torch.CPU, precision))
                        output = variant switch
                        {
                            0 => F.scaled_dot_product_attention(q, k, v, p: 0, is_casual: causal),
                            1 => F.scaled_dot_product_attention(q, k, v, p: p, is_casual: causal),
                            _ => WrittenOut(q, k, v, future, p, variant == 2 ? null : g),
                        };
                    output.backward([grad.to(output.dtype)]);
                }
                if (r >= 0) samples[variant][r] = clock.Elapsed.TotalMilliseconds;
                foreach (var t in new[] { q, k, v }) { t.grad?.Dispose(); t.grad = null; }
            }
        return names.Select((n, i) => new AttentionRow(n, StepHarness.Median(samples[i]))).ToList();
    }

    /// <summary>softmax(q kᵀ / sqrt(d) [causal]) with dropout, times v: the math path's formula, the mask drawn by <paramref name="uniform"/> when given.</summary>
    static Tensor WrittenOut(Tensor q, Tensor k, Tensor v, Tensor? future, double p, Generator? uniform)
    {
        var scores = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.Sqrt(q.shape[^1]));   // (B, H, T, T)
        if (future is not null) scores = scores.masked_fill(future, double.NegativeInfinity);
        var probs = scores.softmax(-1);
        Tensor dropped;
        if (uniform is null) dropped = F.dropout(probs, p, training: true);
        else
        {
            Tensor mask;
            using (torch.no_grad()) mask = torch.empty(probs.shape, dtype: probs.dtype).uniform_(0, 1, uniform).lt_(1 - p).div_(1 - p);
            dropped = probs.mul(mask);
        }
        return dropped.matmul(v);
    }
}
