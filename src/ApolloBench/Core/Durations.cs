using System.Globalization;

namespace ApolloBench.Core;

/// <summary>
/// Reads the command line's lengths of time (<c>--time-limit</c> and <c>--stop-after</c> in minutes,
/// <c>--checkpoint-every</c> in seconds) into a <see cref="TimeSpan"/>. What the option cannot mean (0 or less where it
/// needs a length, below 0 where 0 means "every time", not a number) and what no <see cref="TimeSpan"/> holds (an
/// infinite or astronomically long time, which <see cref="TimeSpan.FromMinutes(double)"/> would throw on, with a stack
/// trace) are bad input: a <see cref="UsageException"/> naming the option and the value given.
/// </summary>
public static class Durations
{
    // below TimeSpan.MaxValue's 2^63 - 1 ticks with room for a double's rounding
    const double MostTicks = 9e18;

    /// <summary>A length of time in minutes, more than 0.</summary>
    public static TimeSpan Minutes(string option, double minutes) => Read(option, minutes, TimeSpan.TicksPerMinute, "minutes", zeroAllowed: false);

    /// <summary>A length of time in seconds, at least 0 (0 where <paramref name="zeroAllowed"/>) or more than 0.</summary>
    public static TimeSpan Seconds(string option, double seconds, bool zeroAllowed) => Read(option, seconds, TimeSpan.TicksPerSecond, "seconds", zeroAllowed);

    static TimeSpan Read(string option, double value, long ticksPer, string unit, bool zeroAllowed)
    {
        var got = value.ToString(CultureInfo.InvariantCulture);
        if (!(zeroAllowed ? value >= 0 : value > 0))
            throw new UsageException($"{option}: must be {(zeroAllowed ? ">= 0" : "more than 0")} {unit} (got {got})");
        var most = MostTicks / ticksPer;
        if (!(value < most))
            throw new UsageException($"{option}: must be less than {most.ToString("0.##E+0", CultureInfo.InvariantCulture)} {unit}, the longest time this program holds (got {got})");
        return TimeSpan.FromTicks((long)(value * ticksPer));
    }
}
