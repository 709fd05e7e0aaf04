using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Training;

public class TrainerTests
{
    [Theory]
    [InlineData(Architecture.Gpt)]
    [InlineData(Architecture.Bert)]
    public void Same_seed_and_thread_count_give_a_bit_identical_loss_curve(Architecture arch)
    {
        double[] Curve() => TrainingFixtures.Trainer(arch, TrainingFixtures.Apollo(), TrainingFixtures.Train(20)).Run()
            .Steps.Select(s => s.Loss).ToArray();
        var a = Curve();
        var b = Curve();
        Assert.Equal(a, b);
        Assert.Equal(20, a.Length);
    }

    /// <summary>
    /// A code check behind every Apollo result: with one stage that trains all L weights, every sampled depth is L and
    /// the mapping is the identity, so Apollo's training path (depth draws, plans, growth hooks, its optimiser slots)
    /// must add nothing to Scratch's. Any difference would be the code's, not the method's.
    /// </summary>
    [Theory]
    [InlineData(Architecture.Gpt)]
    [InlineData(Architecture.Bert)]
    public void Apollo_with_one_stage_of_all_layers_trains_bit_identically_to_scratch(Architecture arch)
    {
        var apollo = new Apollo(StageSchedule.Parse("12", "1", 12), MappingKind.Interpolate, DepthSampler.Create("lvps", null), MomentPolicy.Released);
        var train = TrainingFixtures.Train(12) with { Dropout = 0.1 };
        var a = TrainingFixtures.Trainer(arch, apollo, train);
        var b = TrainingFixtures.Trainer(arch, new Scratch(), train);
        var ra = a.Run();
        var rb = b.Run();
        Assert.Equal(rb.Steps.Select(s => s.Loss), ra.Steps.Select(s => s.Loss));
        Assert.Equal(rb.Evals.Select(e => e.ValidLoss), ra.Evals.Select(e => e.ValidLoss));
        var pa = a.Session.Model.parameters().ToList();
        var pb = b.Session.Model.parameters().ToList();
        Assert.Equal(pb.Count, pa.Count);
        for (int i = 0; i < pa.Count; i++) Assert.True(pa[i].equal(pb[i]).all().item<bool>(), $"parameter {i} differs");
    }

    [Fact]
    public void Different_seeds_give_different_curves()
    {
        var a = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(5)).Run().Steps.Select(s => s.Loss).ToArray();
        var b = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(5) with { Seed = 7 }, initSeed: 7).Run().Steps.Select(s => s.Loss).ToArray();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Scratch_loss_falls_and_the_schedule_decays_to_zero_at_the_budget()
    {
        var result = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run();
        Assert.True(result.Evals[^1].ValidLoss < result.Evals[0].ValidLoss - 0.3, $"{result.Evals[0].ValidLoss} -> {result.Evals[^1].ValidLoss}");
        var sched = new LearningRateSchedule(1.0, 1, 40);
        Assert.True(result.Steps[^1].LearningRate < 0.01 * 2e-3);
        Assert.Equal(0.0, new LearningRateSchedule(1.0, 4, 100).At(100), 12);
        Assert.Equal(1.0, sched.At(1), 12);
    }

    [Fact]
    public void Weights_not_yet_in_use_stay_bit_identical_during_a_stage()
    {
        // 40 steps: stage 1 (1 weight) is steps 0-1, stage 2 (3 weights) 2-3, stage 3 (6 weights) 4-9.
        var trainer = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40) with { WeightDecay = 0.1 });
        var model = trainer.Session.Model;
        var initial = Enumerable.Range(0, 12).Select(i => model.LayerParameters(i).Select(p => p.detach().clone()).ToList()).ToList();
        var snapshots = new Dictionary<long, List<List<Tensor>>>();
        trainer.Run((s, _) =>
        {
            if (s.Step is 1 or 3 or 9)
                snapshots[s.Step] = Enumerable.Range(0, 12).Select(i => model.LayerParameters(i).Select(p => p.detach().clone()).ToList()).ToList();
        });
        static bool Same(List<Tensor> a, List<Tensor> b) => a.Zip(b).All(x => x.First.equal(x.Second).all().item<bool>());
        // End of stage 1: weights 1..11 untouched, weight 0 trained.
        Assert.False(Same(initial[0], snapshots[1][0]));
        for (int i = 1; i < 12; i++) Assert.True(Same(initial[i], snapshots[1][i]), $"weight {i} moved in stage 1");
        // End of stage 2: weights 3..11 untouched.
        for (int i = 3; i < 12; i++) Assert.True(Same(initial[i], snapshots[3][i]), $"weight {i} moved in stage 2");
        // End of stage 3: weights 6..11 untouched.
        for (int i = 6; i < 12; i++) Assert.True(Same(initial[i], snapshots[9][i]), $"weight {i} moved in stage 3");
    }

    [Theory]
    [InlineData(Architecture.Gpt, 3, 6)]
    [InlineData(Architecture.Bert, 3, 6)]
    [InlineData(Architecture.Gpt, 6, 12)]
    [InlineData(Architecture.Bert, 1, 3)]
    public void Growth_at_a_stage_boundary_preserves_the_function_for_integer_ratios(Architecture arch, int from, int to)
    {
        torch.set_num_threads(1);
        var apollo = TrainingFixtures.Apollo();
        var trainer = TrainingFixtures.Trainer(arch, apollo, TrainingFixtures.Train(40));
        var model = trainer.Session.Model;
        model.eval();
        torch.manual_seed(11);
        using var ids = torch.randint(0, TrainingFixtures.Vocab, [2, TrainingFixtures.SeqLen], dtype: int64);
        var before = model.Forward(ids, ids, LayerMapping.Interpolate(from, 12), withLogits: true).Logits!;
        apollo.GrowInPlace(trainer.Session, from, to);
        var after = model.Forward(ids, ids, LayerMapping.Interpolate(to, 12), withLogits: true).Logits!;
        Assert.True(before.equal(after).all().item<bool>());
    }

    [Fact]
    public void Growth_events_are_recorded_with_probe_losses()
    {
        var result = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40)).Run();
        Assert.Equal(new long[] { 2, 4, 10 }, result.Growths.Select(g => g.Step));
        Assert.Equal(["1 weights", "3 weights", "6 weights"], result.Growths.Select(g => g.From));
        // Interpolation with integer ratios preserves the function: the probe loss does not move.
        foreach (var g in result.Growths) Assert.Equal(g.LossBefore, g.LossAfter, 5);
        Assert.Equal([1, 1, 3, 3, 6, 6, 12], new[] { 0, 1, 2, 3, 4, 9, 10 }.Select(i => result.Steps[i].Weights));
    }

    [Fact]
    public void Flops_follow_the_executed_depth()
    {
        var trainer = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(40));
        var result = trainer.Run();
        var model = trainer.Session.Model;
        double expected = 0;
        foreach (var s in result.Steps) expected += model.StepFlops((int)s.Depth, 4, TrainingFixtures.SeqLen, 4 * TrainingFixtures.SeqLen).Total;
        Assert.Equal(expected, result.TotalFlops, 6);
        var scratch = TrainingFixtures.Trainer(Architecture.Gpt, new Scratch(), TrainingFixtures.Train(40)).Run();
        Assert.True(result.TotalFlops < scratch.TotalFlops);
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_fifty_steps()
    {
        var trainer = TrainingFixtures.Trainer(Architecture.Bert, TrainingFixtures.Apollo(), TrainingFixtures.Train(60) with { EvalEvery = 10 });
        var live = new List<long>();
        trainer.Run((s, _) =>
        {
            if (s.Step >= 10) live.Add(DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount);
        });
        Assert.Equal(50, live.Count);
        // After the last growth (step 15) optimiser state stops growing; from then the count must not move.
        var steady = live.Skip(10).ToList();
        Assert.True(steady.Max() - steady.Min() == 0, $"live tensors drifted: {string.Join(",", steady.Distinct())}");
    }
}
