using ApolloBench.Benchmarks;
using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Benchmarks;

/// <summary>The bench's bridge to libtorch's own profiler, and how the per-phase anchor reads what it records.</summary>
public class LibtorchProfilerTests
{
    [Fact]
    public void The_profiler_records_the_operators_a_forward_and_backward_called_with_their_nesting()
    {
        torch.set_num_threads(1);
        using var a = torch.randn(64, 64).requires_grad_();
        using var b = torch.randn(64, 64);
        var events = LibtorchProfiler.Record(() =>
        {
            using var scope = torch.NewDisposeScope();
            a.mm(b).relu().sum().backward();
        });
        var top = LibtorchProfiler.TopLevel(events);
        var names = top.Select(t => t.Op.Name).ToList();
        Assert.Contains("aten::mm", names);
        Assert.Contains("aten::relu", names);
        Assert.Contains("autograd::engine::evaluate_function: MmBackward0", names);
        Assert.All(events, e => Assert.True(e.DurationUs >= 0 && e.StartUs >= 0, $"{e.Name}: start {e.StartUs}, duration {e.DurationUs}"));
        // Nested calls belong to the call that encloses them, which lasts at least as long.
        Assert.All(top, t => Assert.All(t.Children, c => Assert.True(c.StartUs >= t.Op.StartUs && c.EndUs <= t.Op.EndUs + 1)));
        a.grad?.Dispose();
    }

    [Fact]
    public void Top_level_calls_enclose_their_nested_ones_per_thread()
    {
        var events = LibtorchProfiler.Parse("""
            [{"name": "aten::linear", "ph": "X", "ts": 0, "dur": 10, "tid": 1, "pid": "CPU Functions", "args": {}},
             {"name": "aten::addmm", "ph": "X", "ts": 1, "dur": 8, "tid": 1, "pid": "CPU Functions", "args": {}},
             {"name": "aten::gelu", "ph": "X", "ts": 11, "dur": 3, "tid": 1, "pid": "CPU Functions", "args": {}},
             {"name": "aten::fill_", "ph": "X", "ts": 2, "dur": 1, "tid": 2, "pid": "CPU Functions", "args": {}}]
            """);
        var top = LibtorchProfiler.TopLevel(events);
        Assert.Equal(["aten::linear", "aten::fill_", "aten::gelu"], top.Select(t => t.Op.Name));
        Assert.Equal(["aten::addmm"], top[0].Children.Select(c => c.Name));
    }

    [Fact]
    public void Attention_dropout_is_told_from_other_dropout_forward_and_backward()
    {
        static (OpEvent, List<OpEvent>) Op(string name, double start, double duration, params OpEvent[] children) => (new OpEvent(name, 1, start, duration), children.ToList());
        const string Node = "autograd::engine::evaluate_function: ";
        var forward = new List<(OpEvent, List<OpEvent>)>
        {
            Op("aten::linear", 0, 5),
            Op("aten::scaled_dot_product_attention", 5, 20, new OpEvent("aten::dropout", 1, 10, 7), new OpEvent("aten::bernoulli_", 1, 10, 6)),
            Op("aten::dropout", 25, 3),
            Op("aten::layer_norm", 28, 2),
        };
        var kinds = PhaseAnchor.Classify(0, forward).GroupBy(k => PhaseAnchor.Kinds[k.Kind]).ToDictionary(g => g.Key, g => g.Sum(k => k.Us));
        Assert.Equal(7, kinds["attention dropout"]);
        Assert.Equal(13, kinds["attention (scores, softmax, weighted sum)"]);
        Assert.Equal(3, kinds["dropout elsewhere (embeddings, residual branches)"]);
        Assert.Equal(5, kinds["matmuls of the linear layers"]);

        var backward = new List<(OpEvent, List<OpEvent>)>
        {
            Op(Node + "MulBackward0", 0, 4),                 // residual dropout: feeds the linear layer's backward
            Op(Node + "ViewBackward0", 4, 1),
            Op(Node + "MmBackward0", 5, 10),
            Op(Node + "BmmBackward0", 15, 6),
            Op(Node + "MulBackward0", 21, 5),                // attention dropout: feeds the softmax's backward
            Op(Node + "SafeSoftmaxBackward0", 26, 2),
        };
        kinds = PhaseAnchor.Classify(3, backward).GroupBy(k => PhaseAnchor.Kinds[k.Kind]).ToDictionary(g => g.Key, g => g.Sum(k => k.Us));
        Assert.Equal(5, kinds["attention dropout"]);
        Assert.Equal(4, kinds["dropout elsewhere (embeddings, residual branches)"]);
        Assert.Equal(8, kinds["attention (scores, softmax, weighted sum)"]);
        Assert.Equal(10, kinds["matmuls of the linear layers"]);
    }

    /// <summary>
    /// On a real step the classification must find libtorch's own operator names: if a libtorch update renamed them, the
    /// anchor's kinds would silently fall into "views, copies, casts".
    /// </summary>
    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void A_profiled_smoke_step_with_dropout_finds_every_kind_of_operator(Architecture arch)
    {
        torch.set_num_threads(1);
        var config = new ModelConfig(arch, 2, Hidden: 32, Heads: 2, Vocab: 64, SeqLen: 16);
        using var h = new StepHarness(config, 4, dropout: 0.1);
        var plan = LanguageModel.IdentityPlan(2);
        var r = PhaseAnchor.Measure(h, plan, timedSteps: 1, profiledSteps: 1);
        foreach (var kind in PhaseAnchor.Kinds.Where(k => k != "residual adds, bias gradients" || arch == Architecture.Bert))
            Assert.True(r.Kind(Array.IndexOf(PhaseAnchor.Kinds, kind)) > 0, $"{arch}: no time for '{kind}'");
        Assert.True(r.ForwardMs[Array.IndexOf(PhaseAnchor.Kinds, "attention dropout")] > 0, "no attention dropout forward");
        Assert.True(r.BackwardMs[Array.IndexOf(PhaseAnchor.Kinds, "attention dropout")] > 0, "no attention dropout backward");
        Assert.All(r.OpsMs, ms => Assert.True(ms > 0));
    }
}
