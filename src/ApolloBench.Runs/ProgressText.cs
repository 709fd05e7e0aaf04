using System.Globalization;
using ApolloBench.Training;

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

    /// <summary>A loss as progress lines show it: "5.702", or "-" for NaN (no evaluation yet).</summary>
    public static string Loss(double loss) => double.IsNaN(loss) ? "-" : loss.ToString("F3", CultureInfo.InvariantCulture);

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

/// <summary>
/// The cadence of a plain (log) progress display: a line at every tenth of a run and at its last step, and between them
/// whenever <see cref="Interval"/> has passed since the last line (a tenth of a 24,000-step one-thread run is 40 min
/// to an hour), with the latest held-out loss and the rate of the steps this process trained (a resumed run starts
/// part-way, and its rate counts only what it trained itself).
/// </summary>
public sealed class TenthsProgress
{
    /// <summary>The longest a log goes without a progress line while steps finish.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    readonly long steps, every;
    readonly Func<TimeSpan> clock;
    TimeSpan started, lastLine;
    long first = -1;

    /// <param name="steps">The run's steps.</param>
    /// <param name="clock">Time since some fixed moment; a stopwatch started here unless a test supplies one.</param>
    public TenthsProgress(long steps, Func<TimeSpan>? clock = null)
    {
        this.steps = steps;
        every = Math.Max(1, steps / 10);
        if (clock is null)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            clock = () => watch.Elapsed;
        }
        this.clock = clock;
    }

    /// <summary>The latest held-out loss seen, NaN before the first evaluation.</summary>
    public double Valid { get; private set; } = double.NaN;

    /// <summary>The latest held-out loss as a line shows it: "5.702", or "-" before the first evaluation.</summary>
    public string ValidText => ProgressText.Loss(Valid);

    /// <summary>
    /// Takes one finished step; true when it ends a tenth of the run (or the run), or <see cref="Interval"/> has passed
    /// since the last line, and then <paramref name="rate"/> is <see cref="ProgressText.Rate"/>'s ", 2.9 steps/s, ~18 min
    /// left" (empty until a step has been timed).
    /// </summary>
    public bool Step(StepRecord s, EvalRecord? e, out string rate)
    {
        rate = "";
        if (e is not null) Valid = e.ValidLoss;
        var now = clock();
        if (first < 0) { first = s.Step + 1; started = lastLine = now; }   // the rate counts the steps after the first one seen
        bool tenth = (s.Step + 1) % every == 0 || s.Step + 1 == steps;
        if (!tenth && now - lastLine < Interval) return false;
        lastLine = now;
        rate = ProgressText.Rate(s.Step + 1 - first, now - started, steps - s.Step - 1);
        return true;
    }
}
