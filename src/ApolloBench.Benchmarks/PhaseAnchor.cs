namespace ApolloBench.Benchmarks;

/// <summary>
/// The suite measured against libtorch itself (issue 14, item 4): each part of a training step (<see cref="StepHarness.PhaseNames"/>)
/// timed as it runs, against the time libtorch spent inside the operators that part called (<see cref="LibtorchProfiler"/>,
/// the operators no other operator encloses). The difference is what runs between the operators: .NET, TorchSharp's calls
/// into the native library, dispose scopes, the autograd engine's scheduling. And the operators themselves, sorted into
/// what a transformer step is made of (<see cref="Kinds"/>), forward and backward.
/// </summary>
public static class PhaseAnchor
{
    /// <summary>What an operator does, in the order the report lists them.</summary>
    public static readonly string[] Kinds =
    [
        "matmuls of the linear layers", "attention (scores, softmax, weighted sum)", "attention dropout", "dropout elsewhere (embeddings, residual branches)",
        "LayerNorm", "GELU", "residual adds, bias gradients", "embeddings", "head and loss (projection to the vocabulary, softmax, cross-entropy)",
        "views, copies, casts, gradient accumulation", "clipping", "AdamW",
    ];

    /// <param name="WallMs">median milliseconds of each part as the step runs it (no profiler).</param>
    /// <param name="OpsMs">median milliseconds libtorch spent inside the part's operators (under the profiler).</param>
    /// <param name="ProfiledMs">median milliseconds of each part under the profiler (its own cost shows here).</param>
    /// <param name="OutsideMs">median over the profiled steps of each part's milliseconds outside libtorch's operators (its time less its operators').</param>
    /// <param name="ForwardMs">median milliseconds per step of each kind of operator in the forward parts, by <see cref="Kinds"/>.</param>
    /// <param name="BackwardMs">the same in the backward parts (clipping and AdamW count as backward).</param>
    public sealed record Result(double[] WallMs, double[] OpsMs, double[] ProfiledMs, double[] OutsideMs, double[] ForwardMs, double[] BackwardMs)
    {
        public double StepMs => WallMs.Sum();
        public double OpsTotalMs => OpsMs.Sum();
        public double ProfiledTotalMs => ProfiledMs.Sum();
        public double OutsideTotalMs => OutsideMs.Sum();
        public double Kind(int k) => ForwardMs[k] + BackwardMs[k];
    }

    public static Result Measure(StepHarness h, int[] plan, int timedSteps, int profiledSteps)
    {
        var wall = h.PhasedMilliseconds(plan, timedSteps);
        int parts = StepHarness.PhaseNames.Length;
        var ops = Enumerable.Range(0, parts).Select(_ => new double[profiledSteps]).ToArray();
        var profiled = Enumerable.Range(0, parts).Select(_ => new double[profiledSteps]).ToArray();
        var forward = Enumerable.Range(0, Kinds.Length).Select(_ => new double[profiledSteps]).ToArray();
        var backward = Enumerable.Range(0, Kinds.Length).Select(_ => new double[profiledSteps]).ToArray();
        for (int i = 0; i < profiledSteps; i++)
            h.PhasedStep(plan, (part, work) =>
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var events = LibtorchProfiler.Record(work);
                profiled[part][i] = clock.Elapsed.TotalMilliseconds;
                var top = LibtorchProfiler.TopLevel(events);
                ops[part][i] = top.Sum(t => t.Op.DurationUs) / 1e3;
                var into = part <= 1 ? forward : backward;
                foreach (var (kind, us) in Classify(part, top)) into[kind][i] += us / 1e3;
            });
        static double[] Medians(double[][] samples) => samples.Select(StepHarness.Median).ToArray();
        var outside = Enumerable.Range(0, parts).Select(k => Enumerable.Range(0, profiledSteps).Select(i => profiled[k][i] - ops[k][i]).ToArray()).ToArray();
        return new Result(wall, Medians(ops), Medians(profiled), Medians(outside), Medians(forward), Medians(backward));
    }

    static int K(string kind) => Array.IndexOf(Kinds, kind) is var i and >= 0 ? i : throw new ArgumentException(kind);
    static readonly int Matmul = K("matmuls of the linear layers"), Attention = K("attention (scores, softmax, weighted sum)"),
        AttentionDropout = K("attention dropout"), Dropout = K("dropout elsewhere (embeddings, residual branches)"), Norm = K("LayerNorm"),
        Gelu = K("GELU"), Adds = K("residual adds, bias gradients"), Embeddings = K("embeddings"),
        Head = K("head and loss (projection to the vocabulary, softmax, cross-entropy)"), Other = K("views, copies, casts, gradient accumulation"),
        Clip = K("clipping"), AdamW = K("AdamW");

    /// <summary>Each top-level operator of one part of a step as (kind, microseconds).</summary>
    public static IEnumerable<(int Kind, double Us)> Classify(int part, IReadOnlyList<(OpEvent Op, List<OpEvent> Children)> top)
    {
        switch (part)
        {
            case 1 or 2:
                foreach (var t in top) yield return (Head, t.Op.DurationUs);
                yield break;
            case 4:
                foreach (var t in top) yield return (Clip, t.Op.DurationUs);
                yield break;
            case 5:
                foreach (var t in top) yield return (AdamW, t.Op.DurationUs);
                yield break;
        }
        for (int i = 0; i < top.Count; i++)
        {
            var (op, children) = top[i];
            if (part == 0)
            {
                switch (op.Name)
                {
                    case "aten::scaled_dot_product_attention":
                        // The math path (taken whenever dropout is on) calls aten::dropout on the attention probabilities.
                        double dropout = children.Where(c => c.Name == "aten::dropout").Sum(c => c.DurationUs);
                        yield return (AttentionDropout, dropout);
                        yield return (Attention, op.DurationUs - dropout);
                        break;
                    default:
                        yield return (ForwardKind(op.Name), op.DurationUs);
                        break;
                }
            }
            else
            {
                var node = BackwardNode(op.Name);
                // Dropout's backward is a multiplication by its mask (MulBackward0); the one that feeds the softmax's backward
                // is the attention probabilities'.
                if (node == "MulBackward0")
                    yield return (NextComputeNode(top, i + 1) is { } next && next.Contains("Softmax") ? AttentionDropout : Dropout, op.DurationUs);
                else
                    yield return (BackwardKind(node), op.DurationUs);
            }
        }
    }

    static int ForwardKind(string name) => name switch
    {
        "aten::linear" or "aten::addmm" or "aten::mm" or "aten::matmul" => Matmul,
        "aten::dropout" or "aten::native_dropout" or "aten::feature_dropout" => Dropout,
        "aten::layer_norm" or "aten::native_layer_norm" => Norm,
        "aten::gelu" => Gelu,
        "aten::add" or "aten::add_" => Adds,
        "aten::embedding" => Embeddings,
        _ => Other,
    };

    static string BackwardNode(string name) => name.StartsWith("autograd::engine::evaluate_function: ", StringComparison.Ordinal)
        ? name["autograd::engine::evaluate_function: ".Length..] : name;

    static int BackwardKind(string node) => node switch
    {
        "MmBackward0" or "AddmmBackward0" => Matmul,
        "BmmBackward0" or "MulBackward1" or "DivBackward0" or "DivBackward1" => Attention,
        _ when node.Contains("Softmax") || node.Contains("ScaledDotProduct") || node.Contains("Attention") => Attention,
        "NativeLayerNormBackward0" => Norm,
        "GeluBackward0" => Gelu,
        "AddBackward0" => Adds,
        "EmbeddingBackward0" => Embeddings,
        _ => Other,
    };

    /// <summary>The next backward node that does arithmetic (not a view, copy or gradient accumulation), or null.</summary>
    static string? NextComputeNode(IReadOnlyList<(OpEvent Op, List<OpEvent> Children)> top, int from)
    {
        for (int j = from; j < top.Count; j++)
        {
            var node = BackwardNode(top[j].Op.Name);
            if (BackwardKind(node) != Other || node.StartsWith("Mul", StringComparison.Ordinal)) return node;
        }
        return null;
    }
}
