using ApolloBench.Core;
using static TorchSharp.torch;

namespace ApolloBench.Data;

/// <summary>
/// Training batches as a pure function of (seed, step).
/// <para>The token array is cut into non-overlapping windows from offset 0 (the tail that does not fill
/// a window is never used): T+1 tokens for GPT, T-2 for BERT. Window number g = step*B + row is taken from
/// epoch g / W at position g % W of that epoch's permutation, <c>Rng.For(seed, "data-order", epoch)</c>, so a
/// batch may straddle two epochs and no window is dropped at an epoch's end.</para>
/// <para>GPT (<see cref="Objective.CausalLm"/>): input = window[0..T), labels = window[1..T]; every position is predicted.</para>
/// <para>BERT (<see cref="Objective.MaskedLm"/>): input = [CLS] window [SEP]. Each position holding a non-special id
/// (id &gt;= S, so never [CLS]/[SEP]/[EOS]/[UNK]) is selected with probability 0.15, and if none was selected in a row
/// one eligible position is chosen uniformly; of the selected, 80% become [MASK], 10% a uniform id in [S, V), 10% stay.
/// Labels hold the original id at selected positions and <see cref="Batch.IgnoreIndex"/> elsewhere. The draws come
/// from <c>Rng.For(seed, "mlm-mask", step)</c>.</para>
/// <para>Not thread-safe (it caches the current epoch's permutation); use one stream per thread.</para>
/// </summary>
public sealed class BatchStream
{
    public const double MaskProbability = 0.15;
    public const double MaskTokenShare = 0.8;
    public const double RandomTokenShare = 0.1;

    readonly int[] ids;
    readonly Dictionary<long, int[]> orders = [];

    public BatchStream(int[] ids, Objective objective, int batchSize, int seqLen, int vocabSize, long seed)
    {
        CheckShape(objective, batchSize, seqLen, vocabSize);
        CheckIds(ids, vocabSize);
        this.ids = ids;
        Objective = objective;
        BatchSize = batchSize;
        SeqLen = seqLen;
        VocabSize = vocabSize;
        Seed = seed;
        WindowLength = WindowLengthFor(objective, seqLen);
        WindowsPerEpoch = ids.Length / WindowLength;
        if (WindowsPerEpoch < batchSize)
        {
            long need = MinimumTokens(objective, batchSize, seqLen);
            throw new UsageException($"{Corpus.Option}: the training split has {ids.Length} tokens, too few for one batch: " +
                $"{batchSize} sequences of length {seqLen} ({objective}) need at least {need} tokens ({batchSize} windows of {WindowLength})");
        }
    }

    public Objective Objective { get; }
    public int BatchSize { get; }
    public int SeqLen { get; }
    public int VocabSize { get; }
    public long Seed { get; }
    /// <summary>Tokens of the corpus per sequence: T+1 (GPT) or T-2 (BERT).</summary>
    public int WindowLength { get; }
    public int WindowsPerEpoch { get; }
    /// <summary>How many batches have been drawn (the step of the next <see cref="Next"/>).</summary>
    public long Step { get; private set; }
    /// <summary>Epochs completed so far, fractional.</summary>
    public double Epoch => (double)Step * BatchSize / WindowsPerEpoch;

    public static int WindowLengthFor(Objective objective, int seqLen) => objective == Objective.CausalLm ? seqLen + 1 : seqLen - 2;

    /// <summary>The fewest training tokens that make one batch.</summary>
    public static long MinimumTokens(Objective objective, int batchSize, int seqLen) => (long)batchSize * WindowLengthFor(objective, seqLen);

    /// <summary>The batch at <see cref="Step"/>; then advances.</summary>
    public Batch Next()
    {
        var b = At(Step);
        Step++;
        return b;
    }

    /// <summary>Positions the stream so that the next <see cref="Next"/> returns the batch of <paramref name="step"/>.</summary>
    public void Seek(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        Step = step;
    }

    /// <summary>The batch of a step, without moving the stream.</summary>
    public Batch At(long step)
    {
        var (input, labels, predicted) = Arrays(step);
        return ToBatch(input, labels, predicted, BatchSize, SeqLen);
    }

    /// <summary>The batch of a step as flat [B*T] arrays (row-major), for tests and for callers without torch.</summary>
    public (long[] Input, long[] Labels, int Predicted) Arrays(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        int B = BatchSize, T = SeqLen;
        var input = new long[B * T];
        var labels = new long[B * T];
        for (int row = 0; row < B; row++)
        {
            long g = step * B + row;
            int window = Order(g / WindowsPerEpoch)[(int)(g % WindowsPerEpoch)];
            FillRow(ids, window * WindowLength, Objective, T, input.AsSpan(row * T, T), labels.AsSpan(row * T, T));
        }
        int predicted = Objective == Objective.CausalLm
            ? B * T
            : ApplyMask(input, labels, B, T, VocabSize, Rng.For(Seed, "mlm-mask", step));
        return (input, labels, predicted);
    }

    int[] Order(long epoch)
    {
        if (orders.TryGetValue(epoch, out var p)) return p;
        if (orders.Count >= 4) orders.Clear();
        p = Rng.For(Seed, "data-order", epoch).Permutation(WindowsPerEpoch);
        orders[epoch] = p;
        return p;
    }

    /// <summary>Writes one sequence: GPT input/labels, or BERT [CLS] window [SEP] with labels left at IgnoreIndex.</summary>
    static void FillRow(int[] ids, int start, Objective objective, int T, Span<long> input, Span<long> labels)
    {
        if (objective == Objective.CausalLm)
        {
            for (int t = 0; t < T; t++)
            {
                input[t] = ids[start + t];
                labels[t] = ids[start + t + 1];
            }
            return;
        }
        input[0] = VocabTokenizer.Cls;
        for (int t = 0; t < T - 2; t++) input[t + 1] = ids[start + t];
        input[T - 1] = VocabTokenizer.Sep;
        labels.Fill(Batch.IgnoreIndex);
    }

    /// <summary>BERT masking in place over B rows of T; returns how many positions were selected.</summary>
    internal static int ApplyMask(long[] input, long[] labels, int B, int T, int vocabSize, Rng rng)
    {
        int S = VocabTokenizer.SpecialCount;
        int predicted = 0;
        for (int row = 0; row < B; row++)
        {
            int o = row * T;
            int selected = 0, eligible = 0;
            for (int t = o; t < o + T; t++)
            {
                if (input[t] < S) continue;
                eligible++;
                if (rng.NextDouble() < MaskProbability) { Select(t); selected++; }
            }
            if (selected == 0 && eligible > 0)
            {
                int k = rng.NextInt(eligible);
                for (int t = o; t < o + T; t++)
                {
                    if (input[t] < S) continue;
                    if (k-- == 0) { Select(t); selected++; break; }
                }
            }
            predicted += selected;
        }
        return predicted;

        void Select(int t)
        {
            labels[t] = input[t];
            double u = rng.NextDouble();
            if (u < MaskTokenShare) input[t] = VocabTokenizer.Mask;
            else if (u < MaskTokenShare + RandomTokenShare) input[t] = S + rng.NextInt(vocabSize - S);
        }
    }

    static Batch ToBatch(long[] input, long[] labels, int predicted, int rows, int T)
    {
        var dims = new long[] { rows, T };
        return new Batch(tensor(input, dims, dtype: ScalarType.Int64), tensor(labels, dims, dtype: ScalarType.Int64), predicted);
    }

    static void CheckIds(int[] ids, int vocabSize)
    {
        for (int i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocabSize)
                throw new ArgumentException($"token {i} is {ids[i]}, outside the vocabulary [0, {vocabSize})", nameof(ids));
    }

    static void CheckShape(Objective objective, int batchSize, int seqLen, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, objective == Objective.MaskedLm ? 3 : 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(vocabSize, VocabTokenizer.SpecialCount);
    }

    /// <summary>
    /// The fixed held-out set: the first windows of <paramref name="validIds"/> in order (same windowing as
    /// training), up to <paramref name="maxBatches"/> batches of <paramref name="batchSize"/>; the last batch has
    /// fewer rows when the windows run out. BERT masking uses <c>Rng.For(seed, "eval-mask", batchIndex)</c>, so
    /// every call returns identical batches. The caller disposes them.
    /// </summary>
    public static IReadOnlyList<Batch> EvaluationBatches(int[] validIds, Objective objective, int batchSize, int seqLen,
        int vocabSize, int maxBatches, long seed)
    {
        CheckShape(objective, batchSize, seqLen, vocabSize);
        CheckIds(validIds, vocabSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatches, 1);
        int L = WindowLengthFor(objective, seqLen);
        long windows = Math.Min(validIds.Length / L, (long)maxBatches * batchSize);
        if (windows == 0)
            throw new UsageException($"{Corpus.Option}: the validation split has {validIds.Length} tokens, too few for one " +
                $"evaluation sequence of length {seqLen} ({objective}), which needs {L}");
        var batches = new List<Batch>();
        for (int b = 0; (long)b * batchSize < windows; b++)
        {
            int rows = (int)Math.Min(batchSize, windows - (long)b * batchSize);
            var input = new long[rows * seqLen];
            var labels = new long[rows * seqLen];
            for (int r = 0; r < rows; r++)
                FillRow(validIds, (b * batchSize + r) * L, objective, seqLen, input.AsSpan(r * seqLen, seqLen), labels.AsSpan(r * seqLen, seqLen));
            int predicted = objective == Objective.CausalLm
                ? rows * seqLen
                : ApplyMask(input, labels, rows, seqLen, vocabSize, Rng.For(seed, "eval-mask", b));
            batches.Add(ToBatch(input, labels, predicted, rows, seqLen));
        }
        return batches;
    }
}
