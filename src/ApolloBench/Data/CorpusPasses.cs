using System.Globalization;

namespace ApolloBench.Data;

/// <summary>
/// How many times a run goes over its corpus: the tokens it trains on (steps x sequences per step x sequence length)
/// over the tokens of the corpus's training split. The one place this is counted; every command that trains warns
/// through <see cref="Warning"/>, and a run's manifest records <see cref="Passes"/>.
/// <para>Counted in model positions (T per sequence): the batch stream's windows are T+1 tokens (GPT) or T-2 (BERT,
/// beside [CLS] and [SEP]), so its own epoch count differs from this by those few tokens per sequence.</para>
/// </summary>
public sealed record CorpusPasses(long TrainedTokens, long CorpusTokens)
{
    /// <summary>More passes than this repeat the data enough that the model can learn it by heart: the held-out loss then
    /// stops measuring what the method does (and a saving to the training loss measures memorising).</summary>
    public const double Limit = 10;

    /// <summary>The passes of a run of <paramref name="steps"/> steps of <paramref name="batchSize"/> x
    /// <paramref name="accumulation"/> sequences of <paramref name="seqLen"/> tokens over <paramref name="corpusTokens"/> training tokens.</summary>
    public static CorpusPasses Of(long steps, int batchSize, int accumulation, int seqLen, long corpusTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(accumulation, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(corpusTokens, 1);
        return new CorpusPasses(checked(steps * batchSize * accumulation * seqLen), corpusTokens);
    }

    public double Passes => (double)TrainedTokens / CorpusTokens;

    public bool TooMany => Passes > Limit;

    /// <summary>The training tokens a corpus needs for this run to stay within <see cref="Limit"/> passes.</summary>
    public long TokensForLimit => (long)Math.Ceiling(TrainedTokens / Limit);

    /// <summary>"6.2", "24,378.9" (one decimal, invariant culture): how passes are written everywhere.</summary>
    public string PassesText => Passes.ToString("#,0.0", CultureInfo.InvariantCulture);

    /// <summary>
    /// One line, <c>warning: RUN: N.N passes over CORPUS (...)</c>, when the run makes more than <see cref="Limit"/> passes;
    /// null otherwise. Commands print it as the first line of a run's output.
    /// </summary>
    public string? Warning(string run, string corpus) => !TooMany ? null : string.Create(CultureInfo.InvariantCulture,
        $"warning: {run}: {PassesText} passes over {corpus} ({CorpusTokens:N0} tokens of training text for {TrainedTokens:N0} tokens of training); " +
        $"more than {Limit:0} repeats the data until the model can learn it by heart, and its losses then measure memorising, not the method: " +
        $"pass --corpus with at least {TokensForLimit:N0} tokens of training text, or train fewer steps");
}
