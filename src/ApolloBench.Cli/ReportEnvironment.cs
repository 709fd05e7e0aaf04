using System.Diagnostics;
using System.Runtime.InteropServices;
using ApolloBench.Experiments;

namespace ApolloBench.Cli;

/// <summary>Facts about where the numbers are computed, for <see cref="ReportContext"/>.</summary>
public static class ReportEnvironment
{
    /// <summary>The short commit of HEAD, "+dirty" if files outside reports/ differ from it; "unknown" without git.</summary>
    public static string Commit()
    {
        var sha = Git("rev-parse --short=12 HEAD");
        if (sha is null) return "unknown";
        var status = Git("status --porcelain --untracked-files=no -- :/ :(top,exclude)reports");
        return status is { Length: > 0 } ? sha + "+dirty" : sha;
    }

    public static string Machine() => $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    static string? Git(string arguments)
    {
        try
        {
            var psi = new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
