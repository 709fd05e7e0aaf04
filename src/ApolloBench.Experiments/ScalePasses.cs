using ApolloBench.Data;
using ApolloBench.Models;
using ApolloBench.Runs;

namespace ApolloBench.Experiments;

/// <summary>One architecture at one scale on the scale's default corpus: how many times a 12-layer run goes over it.</summary>
public sealed record ScalePasses(string Scale, Architecture Arch, string Corpus, long Steps, int BatchSize, int Accumulation, int SeqLen, CorpusPasses Passes);

/// <summary>
/// The passes every scale makes over its default corpus (<see cref="Scale.Corpus"/>), each corpus tokenised as a run reads
/// it: what <c>scales --passes</c> writes into reports/scales.md. A corpus's training split has the same number of tokens
/// at every vocabulary size (each cl100k token becomes one id, [UNK] or not), so each corpus is tokenised once, at the
/// vocabulary of the first scale that uses it.
/// </summary>
public static class ScalePassesTable
{
    public static IReadOnlyList<ScalePasses> Compute(Scales scales, string cacheDir, Action<string>? log = null)
    {
        var trainTokens = new Dictionary<string, long>();
        var rows = new List<ScalePasses>();
        foreach (var scale in scales.All)
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            var model = scale.ModelFor(arch);
            var train = scale.TrainFor(arch);
            var key = Data.Corpus.Key(scale.Corpus);
            if (!trainTokens.TryGetValue(key, out var tokens))
                trainTokens[key] = tokens = RunExecutor.Tokens(scale.Corpus, model.Vocab, cacheDir, log).Train.Length;
            rows.Add(new ScalePasses(scale.Name, arch, Data.Corpus.Describe(scale.Corpus), train.Steps, train.BatchSize, train.Accumulation, model.SeqLen,
                RunSpec.Passes(train, model, tokens)));
        }
        return rows;
    }
}
