using System.Globalization;

namespace ApolloBench.Runs;

/// <summary>The words every progress line and estimate uses for durations and rates, in one place for every project.</summary>
public static class ProgressText
{
    /// <summary>"~40 s", "~25 min", "~3.2 h", "~3 d"; "seconds" when there is no estimate.</summary>
    public static string Duration(TimeSpan? t)
    {
        if (t is not { } time) return "seconds";
        var c = CultureInfo.InvariantCulture;
        return time.TotalSeconds < 90 ? $"~{time.TotalSeconds.ToString("0", c)} s"
            : time.TotalMinutes < 90 ? $"~{time.TotalMinutes.ToString("0", c)} min"
            : time.TotalHours < 48 ? $"~{time.TotalHours.ToString("0.0", c)} h"
            : $"~{time.TotalDays.ToString("0", c)} d";
    }

    /// <summary>
    /// ", 2.9 steps/s, ~18 min left": the rate of the <paramref name="done"/> steps this process trained in
    /// <paramref name="elapsed"/>, and the <paramref name="left"/> steps at it (what a log shows where a bar cannot).
    /// </summary>
    public static string Rate(long done, TimeSpan elapsed, long left)
    {
        if (done <= 0 || elapsed.TotalSeconds <= 0) return "";
        double rate = done / elapsed.TotalSeconds;
        var text = rate >= 1 ? $", {rate.ToString("0.0", CultureInfo.InvariantCulture)} steps/s" : $", {(1 / rate).ToString("0.00", CultureInfo.InvariantCulture)} s/step";
        return left > 0 ? $"{text}, {Duration(TimeSpan.FromSeconds(left / rate))} left" : text;
    }
}
