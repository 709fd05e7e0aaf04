using System.Diagnostics;

namespace ApolloBench.Runtime;

/// <summary>
/// The processor and accelerator a run trained on, by name, for the manifest and the published reports: the same step
/// time means different things on different chips. Best effort: null when the system does not say.
/// </summary>
public static class Hardware
{
    /// <summary>The CPU's model name (Linux: /proc/cpuinfo), e.g. "AMD EPYC 9654 96-Core Processor".</summary>
    public static string? CpuModel { get; } = ReadCpuModel();

    /// <summary>The GPU's name when <paramref name="device"/> is a cuda device (nvidia-smi), else null.</summary>
    public static string? GpuModel(string device)
    {
        if (!device.StartsWith("cuda", StringComparison.Ordinal)) return null;
        var index = device.Contains(':') ? device[(device.IndexOf(':') + 1)..] : "0";
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", $"--query-gpu=name --format=csv,noheader --id={index}")
                { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var name = p.StandardOutput.ReadToEnd().Trim();
            return p.WaitForExit(10_000) && p.ExitCode == 0 && name.Length > 0 ? name : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;   // no nvidia-smi
        }
    }

    static string? ReadCpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").Where(l => l.StartsWith("model name", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf(':') + 1)..].Trim()).FirstOrDefault(name => name.Length > 0);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
