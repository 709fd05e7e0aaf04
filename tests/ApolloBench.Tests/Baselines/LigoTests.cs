using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Runs;
using TorchSharp;
using static ApolloBench.Tests.Baselines.BaselineFixtures;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Baselines;

[Collection(BaselinesCollection.Name)]
public class LigoTests
{
    static List<string> Locals(IReadOnlyDictionary<string, Tensor> state, Architecture arch)
        => state.Keys.Select(n => ParameterLayout.Of(arch, n)).Where(l => l.Layer == 0).Select(l => l.Local).ToList();

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void One_hot_depth_and_duplication_width_operators_materialise_the_fpi_widened_stacked_model(Architecture arch)
    {
        torch.set_num_threads(1);
        var (small, large) = (Small(arch, 3), Large(arch, 8));
        using var smallModel = Perturbed(small, 1);
        var state = ModelState.Of(smallModel);
        // Random maps: uneven copy counts, so the in-operator's 1/count really is exercised.
        var maps = WidthMaps.Random(small, large with { Layers = 3 }, Rng.For(8, "test"));
        using var op = LigoOperator.Duplication(small, large, maps, LayerMapping.Stack(3, 8), Locals(state, arch), noiseStd: 0);
        Dictionary<string, Tensor> materialised;
        using (torch.no_grad()) materialised = op.Materialise(state).State;

        var expected = ModelState.StackDepth(WidthGrowth.Widen(state, small, large with { Layers = 3 }, maps, WidthInit.Fpi), arch, 3, 8);
        Assert.Equal(expected.Keys.Order(), materialised.Keys.Order());
        foreach (var (name, e) in expected)
            Assert.True(materialised[name].allclose(e, rtol: 1e-6, atol: 1e-7), $"{name}: max |diff| {(materialised[name] - e).abs().max().item<float>()}");
    }

    [Fact]
    public void Operator_gradients_reach_every_width_and_depth_parameter()
    {
        var arch = Architecture.Gpt;
        var (small, large) = (Small(arch, 2), Large(arch, 3));
        using var smallModel = Perturbed(small, 1);
        var state = ModelState.Of(smallModel);
        var maps = WidthMaps.Random(small, large with { Layers = 2 }, Rng.For(9, "test"));
        using var op = LigoOperator.Duplication(small, large, maps, LayerMapping.Stack(2, 3), Locals(state, arch), noiseStd: 0.01);
        var (weights, _) = op.Materialise(state);
        weights.Values.Where(w => w.requires_grad).Select(w => w.pow(2).sum()).Aggregate((a, b) => a + b).backward();
        foreach (var (name, p) in op.NamedParameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
    }

    [Fact]
    public void Operator_steps_are_counted_in_the_run_and_the_small_model_is_reported_beside_it()
    {
        var method = MethodRegistry.Create("ligo", new MethodOptions { LigoSteps = "3", LigoWarmup = "1" }, 12, Source(flops: 1.5e9, seconds: 2.0));
        var trainer = Trainer(Large(Architecture.Gpt), method, Train(4));
        var result = trainer.Run();

        Assert.Equal(2, result.Ledger.Count);
        var small = result.Ledger.Single(e => !e.CountedInRun);
        Assert.Equal((0L, 1.5e9, 2.0), (small.Step, small.Flops, small.Seconds));
        var op = result.Ledger.Single(e => e.CountedInRun);
        Assert.Equal(0, op.Step);
        Assert.True(op.Seconds > 0);

        // The counting rule, rebuilt by hand for GPT (h = 16 -> H = 32, f = 64 -> F = 128, 12 -> 12 layers, V = 64, T = 16):
        // per step, the large model's forward+backward on a batch of 4 plus 3 x the operator's matrix products.
        double h = 16, H = 32, f = 64, F = 128, V = 64, T = 16, L = 12, Ls = 12;
        double shared = 2 * V * h * H + 2 * T * h * H + 2 * (2 * h * H);                       // wte, wpe, ln_f weight+bias
        double perLayer = 4 * (2 * h * H)                                                        // ln_1, ln_2 weight+bias
            + (2 * h * 3 * h * H + 2 * H * 3 * h * H) + 2 * 3 * h * H                            // c_attn weight (in, then q|k|v out), bias
            + (2 * h * h * H + 2 * H * h * H) + 2 * h * H                                        // attn.c_proj weight, bias
            + (2 * h * f * H + 2 * H * f * F) + 2 * f * F                                        // c_fc weight, bias
            + (2 * f * h * F + 2 * F * h * H) + 2 * h * H;                                       // mlp.c_proj weight, bias
        double largeLayerNumel = 4 * H + (H * 3 * H + 3 * H) + (H * H + H) + (H * F + F) + (F * H + H);
        double materialise = shared + Ls * perLayer + 2 * L * Ls * largeLayerNumel;
        var model = trainer.Session.Model;
        double modelStep = model.StepFlops(12, 4, 16, 4 * 16).Total;
        Assert.Equal(3 * (modelStep + 3 * materialise), op.Flops, 6);

        // Counted: in the cumulative FLOPs from step 0 on; the small model is not.
        Assert.Equal(modelStep + op.Flops, result.Steps[0].Flops, 6);
        Assert.Equal(4 * modelStep + op.Flops, result.TotalFlops, 6);
        Assert.Equal(result.TotalFlops + 1.5e9, result.TotalFlopsWithExternal, 6);
        Assert.True(result.Steps[0].WallSeconds >= op.Seconds);
        Assert.Equal(result.TotalFlops, result.Evals[^1].Flops);

        var g = Assert.Single(result.Growths);
        Assert.Equal(("12x16 (1 heads)", 0L), (g.From, g.Step));
        var ligo = (Ligo)method;
        Assert.Equal(3, ligo.OperatorLosses.Count);
        Assert.Equal(3, ligo.Options["operatorSteps"]);
        Assert.Equal(1, ligo.Options["operatorWarmupSteps"]);
        Assert.Equal(2e-3, ligo.Options["operatorLearningRate"]);
    }

    [Fact]
    public void The_operators_batches_come_from_the_run_stream_before_the_main_steps()
    {
        var method = new Ligo(operatorSteps: 2, operatorLr: null, operatorWarmup: 0, smallLayers: null, Source());
        var train = Train(3) with { Accumulation = 2 };
        var stream = new ApolloBench.Data.BatchStream(Training.TrainingFixtures.Tokens(20000), ApolloBench.Data.Objective.CausalLm, train.BatchSize, SeqLen, Vocab, train.Seed);
        var eval = ApolloBench.Data.BatchStream.EvaluationBatches(Training.TrainingFixtures.Tokens(4000, seed: 2), ApolloBench.Data.Objective.CausalLm, train.BatchSize, SeqLen, Vocab, 1, 7);
        var result = new ApolloBench.Training.Trainer(LanguageModel.Create(Large(Architecture.Gpt), 42), method, train, stream, eval).Run();
        // 2 operator steps x 2 micro-batches, then 3 trainer steps x 2: the operator drew the stream's first 4 batches.
        Assert.Equal(4 + 6, stream.Step);
        Assert.Equal(3 * 2 * 4 * 16, result.Steps[^1].Tokens);   // the trainer counts its own tokens only
        Assert.Equal(2, method.OperatorLosses.Count);
    }

    [Theory]
    [InlineData("--ligo-steps")]
    [InlineData("--ligo-lr")]
    [InlineData("--ligo-warmup")]
    public void Bad_options_name_the_option(string option)
    {
        var o = option switch
        {
            "--ligo-steps" => new MethodOptions { LigoSteps = "-1" },
            "--ligo-lr" => new MethodOptions { LigoLr = "0" },
            _ => new MethodOptions { LigoWarmup = "x" },
        };
        var e = Assert.Throws<UsageException>(() => MethodRegistry.Create("ligo", o, 12));
        Assert.Contains(option, e.Message);
    }
}
