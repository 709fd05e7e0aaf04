using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;

namespace ApolloBench.Tests.Training;

public class CollapseDetectorTests
{
    [Theory]
    [InlineData(Architecture.Bert, "bert.encoder.layer.11.output.LayerNorm")]
    [InlineData(Architecture.Gpt, "transformer.ln_f")]
    public void An_encoder_that_outputs_one_vector_for_every_token_is_flagged_and_a_fresh_one_is_not(Architecture arch, string lastNorm)
    {
        var trainer = TrainingFixtures.Trainer(arch, new Scratch(), TrainingFixtures.Train(10));
        var plan = LanguageModel.IdentityPlan(12);
        var fresh = trainer.Evaluate(plan).HiddenSpread;
        Assert.True(fresh > 0.1, $"a freshly initialised encoder spreads its tokens ({fresh})");
        Assert.False(CollapseDetector.IsCollapsed(1.0));

        // The last LayerNorm with gain 0 and bias c outputs c for every token: the collapsed encoder, by construction.
        using (torch.no_grad())
            foreach (var (name, p) in trainer.Session.Model.named_parameters())
                if (name == lastNorm + ".weight") p.zero_();
                else if (name == lastNorm + ".bias") p.fill_(0.5);
        var collapsed = trainer.Evaluate(plan).HiddenSpread;
        Assert.True(CollapseDetector.IsCollapsed(collapsed / fresh), $"spread {collapsed / fresh} of the fresh model's");
        Assert.Equal(0, collapsed, 6);
    }

    [Fact]
    public void A_run_records_the_spread_relative_to_its_initial_model_at_every_evaluation()
    {
        var result = TrainingFixtures.Trainer(Architecture.Bert, new Scratch(), TrainingFixtures.Train(20)).Run();
        Assert.True(result.InitialHiddenSpread > 0);
        Assert.All(result.Evals, e => Assert.InRange(e.HiddenSpread, 0.05, 100));
        Assert.All(result.Evals, e => Assert.True(e.MachineSpeed > 0));
        Assert.Null(CollapseDetector.FirstCollapse(result.Evals));
        var rows = RunFiles.CurveRows(result).Where(r => r.ValidLoss is not null).ToList();
        Assert.Equal(result.Evals.Select(e => (double?)e.HiddenSpread), rows.Select(r => r.HiddenSpread));
    }
}
