using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Models;
using ApolloBench.Runs;
using TorchSharp;
using static ApolloBench.Tests.Baselines.BaselineFixtures;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Baselines;

[Collection(BaselinesCollection.Name)]
public class Bert2BertTests
{
    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Growth_widens_the_small_model_then_stacks_it_with_the_top_fill(Architecture arch)
    {
        torch.set_num_threads(1);
        var source = Source();
        var method = new Bert2Bert(WidthInit.Fpi, 0, smallLayers: 3, source);
        var trainer = Trainer(Large(arch, 8), method, Train(10));
        method.Start(trainer.Session);
        Assert.Equal(Small(arch, 3), trainer.Session.Model.Config);
        var (from, to) = method.Grow(0, trainer.Session);
        Assert.Equal("3x16 (1 heads)", from);
        Assert.StartsWith("8x32 (2 heads), fpi", to);
        var grown = trainer.Session.Model;
        Assert.Equal(Large(arch, 8), grown.Config);

        // Independent construction: the same maps, widen the source's small model, copy its layers by [0,1,2,0,1,2,1,2].
        using var small = source.Get(Small(arch, 3)).Model;
        var maps = WidthMaps.Random(Small(arch, 3), Large(arch, 3), Rng.For(42, "bert2bert-width"));
        using var wide3 = LanguageModel.Create(Large(arch, 3), 9);
        ModelState.Load(wide3, WidthGrowth.Widen(ModelState.Of(small), Small(arch, 3), Large(arch, 3), maps, WidthInit.Fpi));
        int[] topFill = [0, 1, 2, 0, 1, 2, 1, 2];
        Assert.True(wide3.SharedParameters().Zip(grown.SharedParameters()).All(x => Same(x.First, x.Second)));
        for (int i = 0; i < 8; i++)
            Assert.True(wide3.LayerParameters(topFill[i]).Zip(grown.LayerParameters(i)).All(x => Same(x.First, x.Second)), $"layer {i}");
        // A fresh optimiser over the grown model's parameters.
        Assert.Equal(grown.parameters().Count(), trainer.Session.Optimizer.Parameters.Count);
        Assert.All(trainer.Session.Optimizer.Parameters, p => Assert.Null(trainer.Session.Optimizer.StateOf(p)));
    }

    [Theory]
    [InlineData(Architecture.Bert, "aki")]
    [InlineData(Architecture.Gpt, "fpi")]
    public void A_run_records_the_growth_at_step_zero_and_reports_the_small_model_beside_the_run(Architecture arch, string init)
    {
        var method = MethodRegistry.Create("bert2bert", new MethodOptions { WidthInit = init }, 12, Source(flops: 1.5e9, seconds: 2.0));
        var trainer = Trainer(Large(arch), method, Train(6));
        var result = trainer.Run();
        var g = Assert.Single(result.Growths);
        Assert.Equal(0, g.Step);
        Assert.Equal("12x16 (1 heads)", g.From);
        Assert.Contains(init, g.To);
        Assert.True(double.IsFinite(g.LossBefore) && double.IsFinite(g.LossAfter));
        var small = Assert.Single(result.Ledger);
        Assert.False(small.CountedInRun);
        Assert.Equal((1.5e9, 2.0), (small.Flops, small.Seconds));
        // Not added to the run; reported with it.
        var model = trainer.Session.Model;
        double steps = result.Steps.Sum(s => model.StepFlops((int)s.Depth, 4, SeqLen, arch == Architecture.Gpt ? 4 * SeqLen : 0).Total);
        if (arch == Architecture.Gpt) Assert.Equal(steps, result.TotalFlops, 6);
        Assert.Equal(result.TotalFlops + 1.5e9, result.TotalFlopsWithExternal, 6);
        Assert.All(result.Steps, s => Assert.Equal(12, s.Depth));
    }

    [Fact]
    public void Two_stage_training_runs_bottom_sub_models_first_then_the_full_model()
    {
        Assert.Equal([3, 6, 9, 12], Bert2Bert.SubModelDepths(12));
        var method = new Bert2Bert(WidthInit.Aki, 0.5, null, Source());
        var result = Trainer(Large(Architecture.Gpt), method, Train(20)).Run();
        var first = result.Steps.Take(10).Select(s => (int)s.Depth).ToList();
        Assert.All(first, d => Assert.Contains(d, new[] { 3, 6, 9, 12 }));
        Assert.True(first.Distinct().Count() > 1, "the first stage should sample several depths");
        Assert.All(result.Steps.Skip(10), s => Assert.Equal(12, s.Depth));
        Assert.All(result.Evals, e => Assert.True(double.IsFinite(e.ValidLoss)));
    }

    [Theory]
    [InlineData("--width-init", "width-init")]
    [InlineData("--two-stage", "two-stage")]
    [InlineData("--small-layers", "small-layers")]
    public void Bad_options_name_the_option(string option, string which)
    {
        var o = which switch
        {
            "width-init" => new MethodOptions { WidthInit = "net2net" },
            "two-stage" => new MethodOptions { TwoStage = "1.5" },
            _ => new MethodOptions { SmallLayers = "zero" },
        };
        var e = Assert.Throws<UsageException>(() => MethodRegistry.Create("bert2bert", o, 12));
        Assert.Contains(option, e.Message);
        Assert.Equal(0.1, Bert2Bert.ParseTwoStage("on"));
        Assert.Equal(0.0, Bert2Bert.ParseTwoStage("off"));
    }
}
