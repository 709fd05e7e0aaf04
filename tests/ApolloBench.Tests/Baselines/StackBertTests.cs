using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Models;
using ApolloBench.Runs;
using ApolloBench.Training;
using TorchSharp;
using static ApolloBench.Tests.Baselines.BaselineFixtures;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Baselines;

[Collection(BaselinesCollection.Name)]
public class StackBertTests
{
    static List<List<Tensor>> Snapshot(LanguageModel m)
        => Enumerable.Range(0, m.Config.Layers).Select(i => m.LayerParameters(i).Select(p => p.detach().clone()).ToList()).ToList();

    static bool SameLayer(List<Tensor> a, IReadOnlyList<Tensor> b) => a.Zip(b).All(x => Same(x.First, x.Second));

    /// <summary>A few optimiser steps on the first <paramref name="depth"/> layers, so the optimiser holds moments.</summary>
    static void TrainALittle(TrainingSession s, int depth)
    {
        for (int i = 0; i < 2; i++)
        {
            using var scope = torch.NewDisposeScope();
            using var ids = Ids(i);
            s.Optimizer.ZeroGrad();
            s.Model.Forward(ids, ids, LanguageModel.IdentityPlan(depth)).Loss.backward();
            s.Optimizer.Step(1e-2);
        }
    }

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Doubling_maps_layer_i_to_i_and_i_plus_n_and_resets_the_optimizer(Architecture arch)
    {
        var method = new StackBert(StackBert.DefaultStageEnds);
        var trainer = Trainer(Large(arch), method, Train(40));
        var s = trainer.Session;
        method.Start(s);
        Assert.Equal([3, 6, 12], method.ScheduleFor(12).Layers);
        Assert.True(method.GrowsAt(5, s));      // 0.125 * 40
        Assert.True(method.GrowsAt(12, s));     // 0.30 * 40
        Assert.False(method.GrowsAt(6, s));

        foreach (var (step, n) in new[] { (5L, 3), (12L, 6) })
        {
            TrainALittle(s, n);
            Assert.Contains(s.Optimizer.Parameters, p => s.Optimizer.StateOf(p) is not null);
            var before = Snapshot(s.Model);
            var shared = s.Model.SharedParameters().Select(p => p.detach().clone()).ToList();
            Assert.Equal(($"{n} layers", $"{2 * n} layers"), method.Grow(step, s));
            for (int i = 0; i < n; i++)
            {
                Assert.True(SameLayer(before[i], s.Model.LayerParameters(i)), $"layer {i} changed");
                Assert.True(SameLayer(before[i], s.Model.LayerParameters(i + n)), $"layer {i + n} is not a copy of layer {i}");
            }
            for (int i = 2 * n; i < 12; i++) Assert.True(SameLayer(before[i], s.Model.LayerParameters(i)), $"unused layer {i} changed");
            Assert.True(shared.Zip(s.Model.SharedParameters()).All(x => Same(x.First, x.Second)));
            Assert.All(s.Optimizer.Parameters, p => Assert.Null(s.Optimizer.StateOf(p)));
            Assert.Equal(LanguageModel.IdentityPlan(2 * n), method.Plan(step, 0, s));
        }
    }

    [Fact]
    public void A_run_records_both_doublings_and_trains_L4_then_L2_then_L_layers()
    {
        var result = Trainer(Large(Architecture.Gpt), new StackBert(StackBert.DefaultStageEnds), Train(40)).Run();
        Assert.Equal([5L, 12L], result.Growths.Select(g => g.Step));
        Assert.Equal(["3 layers", "6 layers"], result.Growths.Select(g => g.From));
        Assert.Equal(["6 layers", "12 layers"], result.Growths.Select(g => g.To));
        Assert.All(result.Growths, g => Assert.True(double.IsFinite(g.LossBefore) && double.IsFinite(g.LossAfter)));
        Assert.Equal([3.0, 3.0, 6.0, 6.0, 12.0], new[] { 0, 4, 5, 11, 12 }.Select(i => result.Steps[i].Depth));
        Assert.Empty(result.Ledger);
    }

    [Theory]
    [InlineData("0.3,0.2")]
    [InlineData("0.125")]
    [InlineData("0.1,1.0")]
    [InlineData("a,b")]
    public void Bad_stage_ends_name_the_option(string value)
    {
        var e = Assert.Throws<UsageException>(() => MethodRegistry.Create("stackbert", new MethodOptions { StackBertStages = value }, 12));
        Assert.Contains("--stackbert-stages", e.Message);
    }
}
