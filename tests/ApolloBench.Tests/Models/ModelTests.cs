using ApolloBench.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Models;

public class ModelTests
{
    static ModelConfig Tiny(Architecture arch, int layers = 12) => new(arch, layers, Hidden: 32, Heads: 4, Vocab: 64, SeqLen: 16);

    [Fact]
    public void Bert_parameter_names_match_hugging_face()
    {
        using var m = LanguageModel.Create(Tiny(Architecture.Bert), 1);
        var names = m.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var expected in new[]
                 {
                     "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
                     "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
                     "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.11.attention.self.value.bias",
                     "bert.encoder.layer.3.attention.output.dense.weight", "bert.encoder.layer.3.attention.output.LayerNorm.bias",
                     "bert.encoder.layer.5.intermediate.dense.weight", "bert.encoder.layer.5.output.dense.weight",
                     "bert.encoder.layer.5.output.LayerNorm.weight", "cls.predictions.bias",
                     "cls.predictions.transform.dense.weight", "cls.predictions.transform.LayerNorm.weight",
                 })
            Assert.Contains(expected, names);
        Assert.Equal(5 + 16 * 12 + 5, names.Count); // embeddings 5, 16 per layer, head 5 (decoder tied)
    }

    [Fact]
    public void Gpt_parameter_names_and_conv1d_layout_match_hugging_face()
    {
        using var m = LanguageModel.Create(Tiny(Architecture.Gpt), 1);
        var p = m.named_parameters().ToDictionary(x => x.name, x => x.parameter.shape);
        Assert.Equal(new long[] { 32, 96 }, p["transformer.h.0.attn.c_attn.weight"]);   // [in, out] like GPT-2's Conv1D
        Assert.Equal(new long[] { 128, 32 }, p["transformer.h.11.mlp.c_proj.weight"]);
        foreach (var n in new[] { "transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight", "transformer.h.7.ln_2.bias", "transformer.h.7.attn.c_proj.bias" })
            Assert.Contains(n, p.Keys);
        Assert.Equal(2 + 12 * 12 + 2, p.Count);
    }

    /// <summary>
    /// A model of 6 used weights and a plain 12-layer model holding the same values, layer i a copy of weight floor(i / 2)
    /// (the 6-to-12 interpolation), both in eval mode, torch on one thread.
    /// </summary>
    static (LanguageModel Shared, LanguageModel Plain) InterpolatedPair(Architecture arch)
    {
        torch.set_num_threads(1);
        var shared = LanguageModel.Create(Tiny(arch), 7);
        var plain = LanguageModel.Create(Tiny(arch), 8);
        using (torch.no_grad())
        {
            foreach (var (src, dst) in shared.SharedParameters().Zip(plain.SharedParameters())) dst.copy_(src);
            for (int i = 0; i < 12; i++)
                foreach (var (src, dst) in shared.LayerParameters(i / 2).Zip(plain.LayerParameters(i))) dst.copy_(src);
        }
        shared.eval(); plain.eval();
        return (shared, plain);
    }

    /// <summary>The interpolation mapping from 6 weights to 12 layers, SPEC.md section 2: floor(i * 6 / 12).</summary>
    static readonly int[] Interpolation6To12 = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5];

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Six_weights_through_the_interpolation_plan_equal_twelve_duplicated_layers(Architecture arch)
    {
        var (shared, plain) = InterpolatedPair(arch);
        using var _s = shared; using var _p = plain;
        torch.manual_seed(3);
        using var ids = torch.randint(0, 64, [2, 16], dtype: int64);
        using var labels = ids.clone();
        var a = shared.Forward(ids, labels, Interpolation6To12, withLogits: true);
        var b = plain.Forward(ids, labels, LanguageModel.IdentityPlan(12), withLogits: true);
        Assert.True(a.Logits!.equal(b.Logits!).all().item<bool>());
        Assert.Equal(a.Loss.item<float>(), b.Loss.item<float>());
    }

    /// <summary>
    /// Apollo's shared-weight stages are only as sound as their gradients: a weight used at two depths must receive the sum
    /// of what two separate copies of it would receive. Checked for both models through the 6-to-12 interpolation plan
    /// (the GPT Apollo runs trail Scratch at cpu scale, so GPT's shared execution is held to this, not only BERT's).
    /// </summary>
    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void A_shared_weights_gradient_is_the_sum_over_its_duplicated_layers(Architecture arch)
    {
        var (shared, plain) = InterpolatedPair(arch);
        using var _s = shared; using var _p = plain;
        torch.manual_seed(5);
        using var ids = torch.randint(0, 64, [2, 16], dtype: int64);
        using var labels = ids.clone();
        shared.Forward(ids, labels, Interpolation6To12).Loss.backward();
        plain.Forward(ids, labels, LanguageModel.IdentityPlan(12)).Loss.backward();
        for (int j = 0; j < 6; j++)
            foreach (var ((s, a), b) in shared.LayerParameters(j).Zip(plain.LayerParameters(2 * j)).Zip(plain.LayerParameters(2 * j + 1)))
            {
                using var expected = a.grad!.add(b.grad!);
                double scale = expected.abs().max().item<float>() + 1e-12;
                double error = s.grad!.sub(expected).abs().max().item<float>() / scale;
                Assert.True(error < 1e-4, $"{arch}: weight {j}: shared gradient differs from the sum of its two copies' by {error:E2} of its size");
            }
        foreach (var (s, p) in shared.SharedParameters().Zip(plain.SharedParameters()))
        {
            if (s.grad is null) { Assert.Null(p.grad); continue; }
            double scale = p.grad!.abs().max().item<float>() + 1e-12;
            Assert.True(s.grad.sub(p.grad).abs().max().item<float>() / scale < 1e-4, $"{arch}: an embedding or head gradient differs");
        }
    }

    [Fact]
    public void Weight_sharing_accumulates_gradient_over_every_use()
    {
        using var m = LanguageModel.Create(Tiny(Architecture.Gpt), 2);
        torch.manual_seed(4);
        using var ids = torch.randint(0, 64, [2, 16], dtype: int64);
        m.Forward(ids, ids, [0, 0, 0]).Loss.backward();
        Assert.NotNull(m.LayerParameters(0)[0].grad);
        Assert.Null(m.LayerParameters(1)[0].grad);   // unused weights get no gradient at all
    }

    [Fact]
    public void Bert_flops_equal_a_hand_count()
    {
        // L=12 allocated, depth 3 executed, h=32, f=128, T=16, B=2, V=64, 5 masked positions.
        // per layer per sequence: 8*16*32*32 + 4*16*32*128 + 4*16*16*32 = 131072 + 262144 + 32768 = 425984
        // 3 layers: 1277952; embeddings 2*16*32 = 1024; per sequence 1278976; 2 sequences: 2557952
        // head: 5 * (2*32*32 + 2*32*64) = 5 * 6144 = 30720; forward = 2588672; step = 3 * forward = 7766016
        using var m = LanguageModel.Create(new ModelConfig(Architecture.Bert, 12, 32, 4, 64, 16), 1);
        Assert.Equal(2588672.0, m.ForwardFlops(3, 2, 16, 5));
        Assert.Equal(7766016.0, m.StepFlops(3, 2, 16, 5).Total);
    }

    [Fact]
    public void Gpt_flops_equal_a_hand_count()
    {
        // depth 12, h=48, f=192, T=8, B=3, V=100, every position predicted (24).
        // per layer per sequence: 8*8*48*48 + 4*8*48*192 + 2*8*9*48 (causal) = 147456 + 294912 + 6912 = 449280
        // 12 layers: 5391360; embeddings 8*48 = 384; per sequence 5391744; 3 sequences: 16175232
        // head: 24 * 2*48*100 = 230400; forward = 16405632; step = 49216896
        using var m = LanguageModel.Create(new ModelConfig(Architecture.Gpt, 12, 48, 4, 100, 8), 1);
        Assert.Equal(16405632.0, m.ForwardFlops(12, 3, 8, 24));
        Assert.Equal(49216896.0, m.StepFlops(12, 3, 8, 24).Total);
    }

    [Fact]
    public void Bert_loss_runs_the_head_only_on_masked_positions_and_agrees_with_full_logits()
    {
        using var m = LanguageModel.Create(Tiny(Architecture.Bert), 5);
        m.eval();
        torch.manual_seed(6);
        using var ids = torch.randint(0, 64, [2, 16], dtype: int64);
        using var labels = torch.full([2, 16], ApolloBench.Data.Batch.IgnoreIndex, dtype: int64);
        labels[0, 3] = ids[0, 3]; labels[1, 7] = ids[1, 7]; labels[1, 9] = ids[1, 9];
        var masked = m.Forward(ids, labels, LanguageModel.IdentityPlan(12)).Loss.item<float>();
        var full = m.Forward(ids, labels, LanguageModel.IdentityPlan(12), withLogits: true).Loss.item<float>();
        Assert.Equal(full, masked, 5);
    }

    [Fact]
    public void Bert_padding_mask_hides_padding_from_real_tokens()
    {
        torch.set_num_threads(1);
        using var m = LanguageModel.Create(Tiny(Architecture.Bert), 9);
        m.eval();
        using var _ = torch.no_grad();
        torch.manual_seed(10);
        using var real = torch.randint(6, 64, [1, 10], dtype: int64);
        using var padded = torch.cat([real, torch.zeros([1, 6], dtype: int64)], 1);
        using var mask = torch.cat([torch.ones([1, 10], dtype: ScalarType.Bool), torch.zeros([1, 6], dtype: ScalarType.Bool)], 1);
        var plan = LanguageModel.IdentityPlan(12);
        var alone = m.Encode(real, plan);
        var withPad = m.Encode(padded, plan, mask).slice(1, 0, 10, 1);
        Assert.True(alone.allclose(withPad, rtol: 1e-4, atol: 1e-5));
        var unmasked = m.Encode(padded, plan).slice(1, 0, 10, 1);
        Assert.False(alone.allclose(unmasked, rtol: 1e-4, atol: 1e-5));
    }
}
