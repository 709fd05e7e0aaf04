using ApolloBench.Core;
using ApolloBench.Data;
using TorchSharp;

namespace ApolloBench.Tests.Data;

public class BatchStreamTests
{
    const int S = VocabTokenizer.SpecialCount;

    /// <summary>Token i is S + i mod (V - S): every window is recognisable by its first token.</summary>
    static int[] Counting(int n, int vocab) => Enumerable.Range(0, n).Select(i => S + i % (vocab - S)).ToArray();

    static int[] RandomIds(int n, int vocab, long seed)
    {
        var rng = Rng.For(seed, "test-ids");
        return Enumerable.Range(0, n).Select(_ => S + rng.NextInt(vocab - S)).ToArray();
    }

    static long[] Row(long[] flat, int row, int t) => flat[(row * t)..((row + 1) * t)];

    [Fact]
    public void Gpt_labels_are_the_inputs_shifted_by_one()
    {
        var ids = Counting(10_000, 100_000);
        var s = new BatchStream(ids, Objective.CausalLm, 4, 16, 100_000, 1);
        using var batch = s.Next();

        Assert.Equal(new long[] { 4, 16 }, batch.InputIds.shape);
        Assert.Equal(torch.ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal(torch.ScalarType.Int64, batch.Labels.dtype);
        Assert.Equal(64, batch.PredictedTokens);
        var input = batch.InputIds.data<long>().ToArray();
        var labels = batch.Labels.data<long>().ToArray();
        for (int r = 0; r < 4; r++)
        {
            var x = Row(input, r, 16);
            var y = Row(labels, r, 16);
            Assert.Equal(x[1..], y[..^1]);
            Assert.Equal(x[^1] + 1, y[^1]); // the 17th token of the window
            Assert.Equal(0, (x[0] - S) % 17); // windows start at multiples of T+1
        }
    }

    [Fact]
    public void Each_epoch_visits_every_window_once_in_a_seeded_order()
    {
        var ids = Counting(17 * 10 + 5, 100_000); // 10 windows of T+1 = 17, 5 tokens of tail
        var s = new BatchStream(ids, Objective.CausalLm, 3, 16, 100_000, 9);
        Assert.Equal(10, s.WindowsPerEpoch);

        var starts = new List<long>();
        for (int step = 0; step < 10; step++) // 30 windows = 3 epochs
        {
            var (input, _, _) = s.Arrays(step);
            for (int r = 0; r < 3; r++) starts.Add((input[r * 16] - S) / 17);
        }
        for (int e = 0; e < 3; e++)
        {
            var epoch = starts.Skip(e * 10).Take(10).ToList();
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), epoch.Order());
            Assert.Equal(Rng.For(9, "data-order", e).Permutation(10).Select(i => (long)i), epoch);
        }
    }

    [Fact]
    public void Bert_sequences_are_cls_window_sep_and_labels_only_at_selected_positions()
    {
        const int V = 500, T = 32;
        var ids = RandomIds(20_000, V, 1);
        ids[100] = VocabTokenizer.Eos;
        ids[101] = VocabTokenizer.Unk;
        var s = new BatchStream(ids, Objective.MaskedLm, 8, T, V, 5);

        for (int step = 0; step < 50; step++)
        {
            var (input, labels, predicted) = s.Arrays(step);
            int count = 0;
            for (int r = 0; r < 8; r++)
            {
                var x = Row(input, r, T);
                var y = Row(labels, r, T);
                Assert.Equal(VocabTokenizer.Cls, x[0]);
                Assert.Equal(VocabTokenizer.Sep, x[^1]);
                Assert.Equal(Batch.IgnoreIndex, y[0]);
                Assert.Equal(Batch.IgnoreIndex, y[^1]);
                int selectedInRow = 0;
                for (int t = 0; t < T; t++)
                {
                    if (y[t] == Batch.IgnoreIndex) continue;
                    selectedInRow++;
                    Assert.True(y[t] >= S, "a special token was selected for prediction");
                    Assert.True(x[t] == VocabTokenizer.Mask || x[t] >= S);
                }
                Assert.True(selectedInRow >= 1);
                count += selectedInRow;
            }
            Assert.Equal(count, predicted);
        }
    }

    [Fact]
    public void Bert_masking_rates_match_15_80_10_10()
    {
        const int V = 1000, T = 128, B = 64, Steps = 20;
        var ids = RandomIds(200_000, V, 2);
        var s = new BatchStream(ids, Objective.MaskedLm, B, T, V, 11);
        long eligible = 0, selected = 0, masked = 0, replaced = 0, kept = 0;
        for (int step = 0; step < Steps; step++)
        {
            var (input, labels, predicted) = s.Arrays(step);
            Assert.Equal(labels.Count(l => l != Batch.IgnoreIndex), predicted);
            for (int i = 0; i < input.Length; i++)
            {
                int t = i % T;
                if (t == 0 || t == T - 1) continue;
                eligible++;
                if (labels[i] == Batch.IgnoreIndex) continue;
                selected++;
                if (input[i] == VocabTokenizer.Mask) masked++;
                else if (input[i] == labels[i]) kept++;
                else { replaced++; Assert.InRange(input[i], S, V - 1); }
            }
        }
        // eligible = 161,280: sd of the 15% rate is 0.0009; selected ~24,000: sd of 80% is 0.0026, of 10% is 0.0019.
        Assert.Equal(B * (T - 2) * Steps, eligible);
        Assert.InRange((double)selected / eligible, 0.145, 0.155);
        Assert.InRange((double)masked / selected, 0.785, 0.815);
        Assert.InRange((double)replaced / selected, 0.09, 0.11);
        Assert.InRange((double)kept / selected, 0.09, 0.11);
    }

    [Theory]
    [InlineData(Objective.CausalLm)]
    [InlineData(Objective.MaskedLm)]
    public void Same_seed_gives_identical_batches_and_seek_jumps_straight_to_a_step(Objective objective)
    {
        var ids = RandomIds(5_000, 300, 3);
        var a = new BatchStream(ids, objective, 4, 24, 300, 77);
        var b = new BatchStream(ids, objective, 4, 24, 300, 77);
        var c = new BatchStream(ids, objective, 4, 24, 300, 78);

        var drawn = new List<(long[] X, long[] Y, int P)>();
        for (int k = 0; k < 120; k++) // 120 * 4 windows > 2 epochs of 52
        {
            using var ba = a.Next();
            using var bb = b.Next();
            var xa = ba.InputIds.data<long>().ToArray();
            Assert.Equal(xa, bb.InputIds.data<long>().ToArray());
            Assert.Equal(ba.Labels.data<long>().ToArray(), bb.Labels.data<long>().ToArray());
            Assert.Equal(ba.PredictedTokens, bb.PredictedTokens);
            drawn.Add((xa, ba.Labels.data<long>().ToArray(), ba.PredictedTokens));
        }
        Assert.Equal(120, a.Step);
        Assert.NotEqual(drawn[0].X, c.Arrays(0).Input);

        foreach (var k in new[] { 0, 1, 13, 52, 119 })
        {
            var fresh = new BatchStream(ids, objective, 4, 24, 300, 77);
            fresh.Seek(k);
            using var batch = fresh.Next();
            Assert.Equal(drawn[k].X, batch.InputIds.data<long>().ToArray());
            Assert.Equal(drawn[k].Y, batch.Labels.data<long>().ToArray());
            Assert.Equal(drawn[k].P, batch.PredictedTokens);
            Assert.Equal(k + 1, fresh.Step);
        }
    }

    [Theory]
    [InlineData(Objective.CausalLm, 4 * 17)]
    [InlineData(Objective.MaskedLm, 4 * 14)]
    public void Too_few_training_tokens_is_a_usage_error_saying_how_many_are_needed(Objective objective, int needed)
    {
        var ok = new BatchStream(Counting(needed, 100), objective, 4, 16, 100, 1);
        Assert.Equal(4, ok.WindowsPerEpoch);
        var e = Assert.Throws<UsageException>(() => new BatchStream(Counting(needed - 1, 100), objective, 4, 16, 100, 1));
        Assert.StartsWith("--corpus:", e.Message);
        Assert.Contains($"at least {needed} tokens", e.Message);
        Assert.Equal(needed, BatchStream.MinimumTokens(objective, 4, 16));
    }

    [Theory]
    [InlineData(Objective.CausalLm)]
    [InlineData(Objective.MaskedLm)]
    public void Evaluation_batches_are_the_first_windows_in_order_and_identical_every_call(Objective objective)
    {
        const int T = 16;
        int L = BatchStream.WindowLengthFor(objective, T);
        var valid = Counting(L * 10 + 3, 100_000); // 10 windows
        var first = BatchStream.EvaluationBatches(valid, objective, 4, T, 100_000, 5, 21);
        var second = BatchStream.EvaluationBatches(valid, objective, 4, T, 100_000, 5, 21);
        try
        {
            Assert.Equal([4, 4, 2], first.Select(b => b.BatchSize));
            for (int i = 0; i < first.Count; i++)
            {
                Assert.Equal(first[i].InputIds.data<long>().ToArray(), second[i].InputIds.data<long>().ToArray());
                Assert.Equal(first[i].Labels.data<long>().ToArray(), second[i].Labels.data<long>().ToArray());
                Assert.Equal(first[i].PredictedTokens, second[i].PredictedTokens);
                var labels = first[i].Labels.data<long>().ToArray();
                Assert.Equal(labels.Count(l => l != Batch.IgnoreIndex), first[i].PredictedTokens);
            }
            // window k starts at token k*L; for BERT position 1 holds it unless masked, so read the labels/inputs of GPT only
            if (objective == Objective.CausalLm)
            {
                var starts = first.SelectMany(b => Enumerable.Range(0, b.BatchSize).Select(r => b.InputIds[r, 0].item<long>())).ToList();
                Assert.Equal(Enumerable.Range(0, 10).Select(k => (long)valid[k * L]), starts);
            }
            else
            {
                var last = first[^1].InputIds.data<long>().ToArray();
                Assert.Equal(VocabTokenizer.Cls, last[0]);
                Assert.Equal(VocabTokenizer.Sep, last[T - 1]);
            }

            var capped = BatchStream.EvaluationBatches(valid, objective, 4, T, 100_000, 1, 21);
            Assert.Single(capped);
            Assert.Equal(first[0].InputIds.data<long>().ToArray(), capped[0].InputIds.data<long>().ToArray());
            foreach (var b in capped) b.Dispose();
        }
        finally
        {
            foreach (var b in first.Concat(second)) b.Dispose();
        }

        var e = Assert.Throws<UsageException>(() => BatchStream.EvaluationBatches(Counting(L - 1, 100), objective, 4, T, 100, 5, 21));
        Assert.StartsWith("--corpus:", e.Message);
    }

    [Fact]
    public void Ids_outside_the_vocabulary_are_rejected()
    {
        var ids = Counting(1000, 50);
        ids[10] = 50;
        Assert.Throws<ArgumentException>(() => new BatchStream(ids, Objective.CausalLm, 2, 8, 50, 1));
    }
}
