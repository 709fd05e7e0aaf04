using ApolloBench.Baselines;
using ApolloBench.Core;
using ApolloBench.Models;
using TorchSharp;
using static ApolloBench.Tests.Baselines.BaselineFixtures;
using static TorchSharp.torch;

namespace ApolloBench.Tests.Baselines;

[Collection(BaselinesCollection.Name)]
public class WidthGrowthTests
{
    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Fpi_widened_model_computes_the_small_models_logits(Architecture arch)
    {
        torch.set_num_threads(1);
        var (small, large) = (Small(arch, 3), Large(arch, 3));
        using var smallModel = Perturbed(small, 1);
        // Even copy counts (16 -> 32, 1 -> 2 heads, 64 -> 128 FFN units): the case where FPI is exact.
        var widened = WidthGrowth.Widen(ModelState.Of(smallModel), small, large, WidthMaps.Cyclic(small, large), WidthInit.Fpi);
        using var largeModel = LanguageModel.Create(large, 2);
        ModelState.Load(largeModel, widened);

        using var ids = Ids();
        var expected = Logits(smallModel, ids);
        var actual = Logits(largeModel, ids);
        Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-5), $"max |diff| {(actual - expected).abs().max().item<float>()}");
        // Not vacuous: a randomly initialised model of the large shape computes something else.
        Assert.False(Logits(LanguageModel.Create(large, 2), ids).allclose(expected, rtol: 1e-2, atol: 1e-2));
    }

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Fpi_with_uneven_copy_counts_stays_close_to_the_small_model(Architecture arch)
    {
        // With random (uneven) maps the function is only approximately preserved (LayerNorm over the widened vector);
        // the logits stay close to the small model's, far closer than a fresh model's.
        torch.set_num_threads(1);
        var (small, large) = (Small(arch, 3), Large(arch, 3));
        using var smallModel = Perturbed(small, 1);
        var maps = WidthMaps.Random(small, large, Rng.For(3, "test"));
        Assert.Contains(WidthMaps.Counts(maps.Hidden, 16), c => c != 2);
        using var largeModel = LanguageModel.Create(large, 2);
        ModelState.Load(largeModel, WidthGrowth.Widen(ModelState.Of(smallModel), small, large, maps, WidthInit.Fpi));
        using var ids = Ids();
        var expected = Logits(smallModel, ids);
        double grownGap = (Logits(largeModel, ids) - expected).abs().mean().item<float>();
        double freshGap = (Logits(LanguageModel.Create(large, 2), ids) - expected).abs().mean().item<float>();
        Assert.True(grownGap < 0.5 * freshGap, $"grown {grownGap}, fresh {freshGap}");
    }

    [Theory]
    [InlineData(Architecture.Bert)]
    [InlineData(Architecture.Gpt)]
    public void Fpi_then_stacking_equals_stacking_the_widened_layers(Architecture arch)
    {
        // Stacking does not preserve the function; what must hold is that widening then stacking to 8 layers
        // builds exactly the model one gets by copying the widened layers by the top-fill map [0,1,2,0,1,2,1,2].
        torch.set_num_threads(1);
        var (small, wide3, wide8) = (Small(arch, 3), Large(arch, 3), Large(arch, 8));
        using var smallModel = Perturbed(small, 1);
        var maps = WidthMaps.Random(small, wide3, Rng.For(4, "test"));
        var widened = WidthGrowth.Widen(ModelState.Of(smallModel), small, wide3, maps, WidthInit.Fpi);
        using var grown = LanguageModel.Create(wide8, 3);
        ModelState.Load(grown, ModelState.StackDepth(widened, arch, 3, 8));

        using var widened3 = LanguageModel.Create(wide3, 4);
        ModelState.Load(widened3, widened);
        using var byHand = LanguageModel.Create(wide8, 5);
        int[] topFill = [0, 1, 2, 0, 1, 2, 1, 2];
        using (torch.no_grad())
        {
            foreach (var (src, dst) in widened3.SharedParameters().Zip(byHand.SharedParameters())) dst.copy_(src);
            for (int i = 0; i < 8; i++)
                foreach (var (src, dst) in widened3.LayerParameters(topFill[i]).Zip(byHand.LayerParameters(i))) dst.copy_(src);
        }
        foreach (var (a, b) in grown.parameters().Zip(byHand.parameters())) Assert.True(Same(a, b));
        using var ids = Ids();
        Assert.True(Same(Logits(grown, ids), Logits(byHand, ids)));
    }

    // ---- AKI: every expected entry is rebuilt here from the small tensors with plain loops. ----

    /// <summary>Expected widened 2-D weight: out axis (dim <paramref name="outDim"/>) by gOut with new units from <paramref name="next"/>, in axis by gIn divided by counts.</summary>
    static float[,] Expected(float[,] own, float[,]? next, int outDim, int[] gOut, bool[] isNew, int[] gIn, int inSource)
    {
        var counts = new int[inSource];
        foreach (var s in gIn) counts[s]++;
        int rows = outDim == 0 ? gOut.Length : gIn.Length, cols = outDim == 0 ? gIn.Length : gOut.Length;
        var e = new float[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int o = outDim == 0 ? r : c, i = outDim == 0 ? c : r;
                var src = isNew[o] && next is not null ? next : own;
                e[r, c] = outDim == 0 ? src[gOut[o], gIn[i]] / counts[gIn[i]] : src[gIn[i], gOut[o]] / counts[gIn[i]];
            }
        return e;
    }

    static float[,] Matrix(Tensor t)
    {
        var (r, c) = ((int)t.shape[0], (int)t.shape[1]);
        var f = Floats(t);
        var m = new float[r, c];
        for (int i = 0; i < r; i++) for (int j = 0; j < c; j++) m[i, j] = f[i * c + j];
        return m;
    }

    static void AssertMatrix(float[,] expected, Tensor actual, string what)
    {
        var a = Matrix(actual);
        Assert.Equal(expected.GetLength(0), a.GetLength(0));
        Assert.Equal(expected.GetLength(1), a.GetLength(1));
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++)
                Assert.True(Math.Abs(expected[i, j] - a[i, j]) <= 1e-6f, $"{what}[{i},{j}]: expected {expected[i, j]}, got {a[i, j]}");
    }

    [Fact]
    public void Aki_takes_new_units_from_layer_l_plus_1_and_the_top_layer_falls_back_to_fpi_bert()
    {
        var (small, large) = (Small(Architecture.Bert, 3), Large(Architecture.Bert, 3));
        using var smallModel = Perturbed(small, 1);
        var state = ModelState.Of(smallModel);
        var maps = WidthMaps.Random(small, large, Rng.For(5, "test"));
        var aki = WidthGrowth.Widen(state, small, large, maps, WidthInit.Aki);
        var fpi = WidthGrowth.Widen(state, small, large, maps, WidthInit.Fpi);
        string N(int l, string local) => $"bert.encoder.layer.{l}.{local}";
        // Attention units: head map expanded over the 16 units of each head.
        int[] Units(int l) => Enumerable.Range(0, 32).Select(j => maps.Heads[l][j / 16] * 16 + j % 16).ToArray();
        var newHidden = Enumerable.Range(0, 32).Select(j => j >= 16).ToArray();
        var newFfn = Enumerable.Range(0, 128).Select(j => j >= 64).ToArray();
        for (int l = 0; l < 3; l++)
        {
            bool top = l == 2;
            var next = top ? null : (Func<string, float[,]?>)(local => Matrix(state[N(l + 1, local)]));
            float[,]? Next(string local) => next?.Invoke(local);
            // FFN in: out = FFN units (new ones from layer l+1), in = hidden (divided by counts).
            AssertMatrix(Expected(Matrix(state[N(l, "intermediate.dense.weight")]), Next("intermediate.dense.weight"), 0, maps.Ffn[l], newFfn, maps.Hidden, 16),
                aki[N(l, "intermediate.dense.weight")], $"layer {l} intermediate");
            // Query: out = attention units, whole new heads from layer l+1.
            AssertMatrix(Expected(Matrix(state[N(l, "attention.self.query.weight")]), Next("attention.self.query.weight"), 0, Units(l), newHidden, maps.Hidden, 16),
                aki[N(l, "attention.self.query.weight")], $"layer {l} query");
            // FFN out: out = hidden (new units from layer l+1), in = FFN units of layer l (divided by layer l's counts).
            AssertMatrix(Expected(Matrix(state[N(l, "output.dense.weight")]), Next("output.dense.weight"), 0, maps.Hidden, newHidden, maps.Ffn[l], 64),
                aki[N(l, "output.dense.weight")], $"layer {l} output");
            // LayerNorm gain: copied (not divided); new entries from layer l+1.
            var gamma = Floats(state[N(l, "output.LayerNorm.weight")]);
            var nextGamma = top ? gamma : Floats(state[N(l + 1, "output.LayerNorm.weight")]);
            var actualGamma = Floats(aki[N(l, "output.LayerNorm.weight")]);
            for (int j = 0; j < 32; j++) Assert.Equal(j >= 16 ? nextGamma[maps.Hidden[j]] : gamma[j], actualGamma[j]);
            if (top)
                foreach (var name in aki.Keys.Where(k => k.StartsWith("bert.encoder.layer.2.")))
                    Assert.True(Same(aki[name], fpi[name]), $"top layer {name} is not FPI");
        }
        // Shared parameters are FPI under AKI.
        Assert.True(Same(aki["bert.embeddings.word_embeddings.weight"], fpi["bert.embeddings.word_embeddings.weight"]));
        // The new units really differ from FPI's (layer 0 takes layer 1's rows).
        Assert.False(Same(aki[N(0, "intermediate.dense.weight")], fpi[N(0, "intermediate.dense.weight")]));
    }

    [Fact]
    public void Aki_acts_per_head_block_inside_each_third_of_gpts_fused_qkv()
    {
        var (small, large) = (Small(Architecture.Gpt, 2), Large(Architecture.Gpt, 2));
        using var smallModel = Perturbed(small, 1);
        var state = ModelState.Of(smallModel);
        var maps = WidthMaps.Random(small, large, Rng.For(6, "test"));
        var aki = WidthGrowth.Widen(state, small, large, maps, WidthInit.Aki);
        // c_attn.weight is [in = hidden, out = q|k|v]; out unit (t, j) copies small unit (t, head map) of layer 1 when j is new.
        var own = Matrix(state["transformer.h.0.attn.c_attn.weight"]);
        var next = Matrix(state["transformer.h.1.attn.c_attn.weight"]);
        var actual = Matrix(aki["transformer.h.0.attn.c_attn.weight"]);
        var counts = WidthMaps.Counts(maps.Hidden, 16);
        Assert.Equal(32, actual.GetLength(0));
        Assert.Equal(96, actual.GetLength(1));
        for (int i = 0; i < 32; i++)
            for (int t = 0; t < 3; t++)
                for (int j = 0; j < 32; j++)
                {
                    int source = t * 16 + maps.Heads[0][j / 16] * 16 + j % 16;
                    float expected = (j >= 16 ? next : own)[maps.Hidden[i], source] / counts[maps.Hidden[i]];
                    Assert.True(Math.Abs(expected - actual[i, t * 32 + j]) <= 1e-6f, $"c_attn[{i},{t * 32 + j}]");
                }
        // mlp.c_proj is [in = FFN, out = hidden]: new hidden columns from layer 1, rows divided by layer 0's FFN counts.
        AssertMatrix(Expected(Matrix(state["transformer.h.0.mlp.c_proj.weight"]), Matrix(state["transformer.h.1.mlp.c_proj.weight"]), 1,
                maps.Hidden, Enumerable.Range(0, 32).Select(j => j >= 16).ToArray(), maps.Ffn[0], 64),
            aki["transformer.h.0.mlp.c_proj.weight"], "mlp.c_proj");
    }

    [Fact]
    public void The_final_norm_before_the_tied_decoder_is_divided_and_every_other_norm_copied()
    {
        var (small, large) = (Small(Architecture.Gpt, 1), Large(Architecture.Gpt, 1));
        using var smallModel = Perturbed(small, 1);
        var state = ModelState.Of(smallModel);
        var maps = WidthMaps.Random(small, large, Rng.For(7, "test"));
        var w = WidthGrowth.Widen(state, small, large, maps, WidthInit.Fpi);
        var counts = WidthMaps.Counts(maps.Hidden, 16);
        var lnF = Floats(state["transformer.ln_f.weight"]);
        var ln1 = Floats(state["transformer.h.0.ln_1.weight"]);
        var (wLnF, wLn1) = (Floats(w["transformer.ln_f.weight"]), Floats(w["transformer.h.0.ln_1.weight"]));
        for (int j = 0; j < 32; j++)
        {
            Assert.Equal(lnF[maps.Hidden[j]] / counts[maps.Hidden[j]], wLnF[j], 6);
            Assert.Equal(ln1[maps.Hidden[j]], wLn1[j]);
        }
    }

    [Fact]
    public void Small_model_width_keeps_the_head_dimension_and_scales_heads_by_eight_twelfths()
    {
        Assert.Equal((512, 8, 12), Shape(SmallModel.ConfigFor(new ModelConfig(Architecture.Bert, 12, 768, 12, 30522, 512))));
        Assert.Equal((96, 3, 12), Shape(SmallModel.ConfigFor(new ModelConfig(Architecture.Gpt, 12, 128, 4, 4096, 128))));
        Assert.Equal((16, 1, 12), Shape(SmallModel.ConfigFor(new ModelConfig(Architecture.Gpt, 12, 32, 2, 256, 32))));
        Assert.Equal((16, 1, 6), Shape(SmallModel.ConfigFor(new ModelConfig(Architecture.Gpt, 12, 32, 2, 256, 32), layers: 6)));
        var e = Assert.Throws<UsageException>(() => SmallModel.ConfigFor(new ModelConfig(Architecture.Gpt, 12, 32, 2, 256, 32), layers: 13));
        Assert.Contains("--small-layers", e.Message);
        static (int, int, int) Shape(ModelConfig c) => (c.Hidden, c.Heads, c.Layers);
    }
}
