using System.Globalization;

namespace ApolloBench.Runtime;

/// <summary>
/// How long this process's threads have been ready to run but waiting for a CPU: the sum over its threads of the
/// second field of Linux's <c>/proc/self/task/*/schedstat</c> (run_delay, in nanoseconds; a thread that sleeps does not
/// accumulate it). A run on a machine whose cores are all its own waits almost never; one that shares its cores with
/// other runnable work waits in proportion. The trainer records the share of each evaluation interval its threads
/// waited (<see cref="Training.EvalRecord.CpuWait"/>): a direct, per-run measurement of an oversubscribed machine that
/// no calibration workload has to be lucky enough to sample.
/// </summary>
public static class CpuWait
{
    const string Tasks = "/proc/self/task";

    /// <summary>
    /// Total seconds the process's live threads have waited for a CPU, or null where schedstat is not available (not
    /// Linux, no such files, or a kernel built without schedstats, whose files read all zeros: a running process has
    /// run for more than 0 ns, so zeros are "not measured", never "did not wait").
    /// </summary>
    public static double? TotalSeconds()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists(Tasks)) return null;
        long waited = 0, ran = 0;
        bool any = false;
        foreach (var task in Directory.EnumerateDirectories(Tasks))
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(task, "schedstat")); }
            catch (IOException) { continue; }                // the thread ended while we looked
            catch (UnauthorizedAccessException) { continue; }
            if (Fields(text) is not { } f) continue;
            waited += f.RunDelay;
            ran += f.RunTime;
            any = true;
        }
        return any && ran > 0 ? waited / 1e9 : null;
    }

    /// <summary>The run_time and run_delay fields (ns) of one schedstat line "run_time run_delay timeslices", or null when malformed.</summary>
    public static (long RunTime, long RunDelay)? Fields(string schedstat)
    {
        var fields = schedstat.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields.Length >= 2 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var run)
               && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var delay) ? (run, delay) : null;
    }

    /// <summary>The run_delay field (ns) of one schedstat line, or null when malformed.</summary>
    public static long? Parse(string schedstat) => Fields(schedstat)?.RunDelay;

    /// <summary>
    /// The share of an interval of <paramref name="wallSeconds"/> that <paramref name="threads"/> working threads spent
    /// waiting, from two readings of <see cref="TotalSeconds"/>; NaN when either reading is missing or the interval is empty.
    /// </summary>
    public static double Share(double? before, double? after, double wallSeconds, int threads)
        => before is { } b && after is { } a && wallSeconds > 0 && threads > 0 ? Math.Max(0, a - b) / (wallSeconds * threads) : double.NaN;
}
