using ApolloBench.Models;
using ApolloBench.Tests.Training;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Models;

/// <summary>Pretraining dropout (Hugging Face's sites): active in training, absent in evaluation, seeded per micro-batch.</summary>
public class DropoutTests
{
    static (Tensor Ids, Tensor Labels) Batch()
    {
        torch.manual_seed(11);
        var ids = torch.randint(6, TrainingFixtures.Vocab, [2, TrainingFixtures.SeqLen], dtype: int64);
        return (ids, ids.clone());
    }

    static float Loss(LanguageModel m, Tensor ids, Tensor labels, long? seed = null)
    {
        if (seed is { } s) torch.manual_seed(s);
        using var _ = torch.no_grad();
        return m.Forward(ids, labels, LanguageModel.IdentityPlan(12)).Loss.item<float>();
    }

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Dropout_changes_training_forwards_only_and_the_same_seed_gives_the_same_masks(Architecture arch)
    {
        torch.set_num_threads(1);
        using var m = LanguageModel.Create(TrainingFixtures.Config(arch), 3);
        var (ids, labels) = Batch();
        m.train();
        var plain = Loss(m, ids, labels, seed: 1);           // DropoutRate 0: a model built outside training has none
        m.DropoutRate = 0.1;
        var a = Loss(m, ids, labels, seed: 1);
        var again = Loss(m, ids, labels, seed: 1);
        var other = Loss(m, ids, labels, seed: 2);
        Assert.NotEqual(plain, a);
        Assert.Equal(a, again);
        Assert.NotEqual(a, other);
        m.eval();
        Assert.Equal(plain, Loss(m, ids, labels, seed: 1));
        Assert.Equal(plain, Loss(m, ids, labels, seed: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => m.DropoutRate = 1);
    }

    [Fact]
    public void The_session_draws_new_masks_for_every_micro_batch_and_evaluation_has_none()
    {
        var trainer = TrainingFixtures.Trainer(Architecture.Bert, new Scratch(), TrainingFixtures.Train(10));
        var s = trainer.Session;
        var (ids, labels) = Batch();
        using var batch = new ApolloBench.Data.Batch(ids, labels, 30);
        var plan = LanguageModel.IdentityPlan(12);
        float At(long index) { using var _ = torch.no_grad(); return s.TrainingForward(s.Model, batch, plan, index).Loss.item<float>(); }
        Assert.Equal(At(5), At(5));
        Assert.NotEqual(At(5), At(6));
        Assert.Equal(0.1, s.Model.DropoutRate);
        var evaluation = trainer.Evaluate(plan);
        Assert.Equal(evaluation, trainer.Evaluate(plan));   // no randomness in evaluation
        s.Model.DropoutRate = 0;
        Assert.Equal(evaluation, trainer.Evaluate(plan));   // and no dropout either
    }

    [Fact]
    public void A_run_with_dropout_is_bit_identical_for_a_fixed_seed_and_counts_the_flops_of_one_without()
    {
        var a = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(30)).Run();
        var b = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(30)).Run();
        var none = TrainingFixtures.Trainer(Architecture.Gpt, TrainingFixtures.Apollo(), TrainingFixtures.Train(30) with { Dropout = 0 }).Run();
        Assert.Equal(a.Steps.Select(s => (s.Loss, s.GradNorm)), b.Steps.Select(s => (s.Loss, s.GradNorm)));
        Assert.NotEqual(a.Steps.Select(s => s.Loss), none.Steps.Select(s => s.Loss));
        Assert.Equal(a.Steps.Select(s => s.Flops), none.Steps.Select(s => s.Flops));
    }
}
