using ApolloBench.Core;
using ApolloBench.Data;

namespace ApolloBench.Tests.Data;

public class CorpusSplitTests
{
    static List<Document> Docs(int n) => Enumerable.Range(0, n).Select(i => new Document($"doc-{i:D3}", $"text {i}")).ToList();

    [Fact]
    public void Split_is_deterministic_disjoint_complete_and_keeps_corpus_order()
    {
        var docs = Docs(200);
        var a = CorpusSplit.ByDocument(docs, 0.1, 42);
        var b = CorpusSplit.ByDocument(Docs(200), 0.1, 42);

        Assert.Equal(a.Train, b.Train);
        Assert.Equal(a.Valid, b.Valid);
        Assert.Equal(20, a.Valid.Count);
        Assert.Empty(a.Train.Select(d => d.Id).Intersect(a.Valid.Select(d => d.Id)));
        Assert.Equal(docs.Select(d => d.Id).Order(), a.Train.Concat(a.Valid).Select(d => d.Id).Order());
        Assert.Equal(a.Train.Select(d => d.Id).Order(StringComparer.Ordinal), a.Train.Select(d => d.Id));
        Assert.Equal(a.Valid.Select(d => d.Id).Order(StringComparer.Ordinal), a.Valid.Select(d => d.Id));
    }

    [Fact]
    public void Split_depends_on_ids_and_seed_not_on_order()
    {
        var docs = Docs(100);
        var shuffled = docs.AsEnumerable().Reverse().ToList();
        var a = CorpusSplit.ByDocument(docs, 0.2, 7);
        var b = CorpusSplit.ByDocument(shuffled, 0.2, 7);
        var c = CorpusSplit.ByDocument(docs, 0.2, 8);

        Assert.Equal(a.Valid.Select(d => d.Id).Order(), b.Valid.Select(d => d.Id).Order());
        Assert.NotEqual(a.Valid.Select(d => d.Id), c.Valid.Select(d => d.Id));
    }

    [Fact]
    public void Split_is_pinned_across_machines()
    {
        // The rank key is SHA-256 based; if this changes, every cached split and run record changes with it.
        var valid = CorpusSplit.ByDocument(Docs(50), 0.1, 1234).Valid.Select(d => d.Id);
        Assert.Equal(SplitSnapshot, string.Join(",", valid));
    }

    const string SplitSnapshot = "doc-005,doc-020,doc-038,doc-041,doc-042";

    [Fact]
    public void Tiny_corpora_still_get_one_document_on_each_side()
    {
        var two = CorpusSplit.ByDocument(Docs(2), 0.01, 1);
        Assert.Single(two.Train);
        Assert.Single(two.Valid);

        var three = CorpusSplit.ByDocument(Docs(3), 0.99, 1);
        Assert.Single(three.Train);
        Assert.Equal(2, three.Valid.Count);

        var none = CorpusSplit.ByDocument(Docs(5), 0, 1);
        Assert.Equal(5, none.Train.Count);
        Assert.Empty(none.Valid);
    }

    [Fact]
    public void Bad_fractions_and_single_documents_are_usage_errors()
    {
        Assert.Throws<UsageException>(() => CorpusSplit.ByDocument(Docs(10), 1.0, 1));
        Assert.Throws<UsageException>(() => CorpusSplit.ByDocument(Docs(10), -0.1, 1));
        Assert.Throws<UsageException>(() => CorpusSplit.ByDocument(Docs(10), double.NaN, 1));
        var e = Assert.Throws<UsageException>(() => CorpusSplit.ByDocument(Docs(1), 0.1, 1));
        Assert.StartsWith("--corpus:", e.Message);
    }
}
