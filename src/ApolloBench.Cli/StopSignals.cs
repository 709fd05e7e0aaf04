using System.CommandLine;
using ApolloBench.Core;
using System.Runtime.InteropServices;

namespace ApolloBench.Cli;

/// <summary>
/// A clean stop for the commands that train (<c>train</c>, <c>reproduce</c>), as a CI runner's cancel or a Ctrl+C asks for
/// it: the first SIGINT or SIGTERM cancels <see cref="Token"/>, so the run finishes the step under way, writes a checkpoint
/// and stops, and the command says where it stopped and how to continue, exiting 130 (SIGINT) or 143 (SIGTERM). A second
/// signal stops the process at once with the same code: its newest checkpoint stays, whole, for <c>--resume</c> (under
/// <c>dotnet run</c>, one that comes within <see cref="EchoWindow"/> of the first is taken as its echo).
/// <c>--stop-after MINUTES</c> asks for the same stop at a time set in advance (<see cref="StopAfter"/>), for a session or
/// CI job that ends at a known time, exiting <see cref="TimedStop"/>. Commands that do not train keep the default (a signal
/// ends them).
/// </summary>
public sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource source = new();
    readonly PosixSignalRegistration[] registrations;
    readonly TextWriter error;
    readonly string continueCommand;
    Timer? timer;
    int exitCode;   // 0 until the first signal or the --stop-after time
    long firstSignalAt;   // Environment.TickCount64 when the first signal came
    string? reason;
    readonly bool parentForwards = UnderDotnetRun();

    /// <summary>
    /// Under <c>dotnet run</c> a signal sent to the process group (<c>timeout</c>, a CI runner's cancel, <c>kill -- -PGID</c>)
    /// reaches this process twice: from the group, and again as <c>dotnet run</c> passes it on. A second signal this soon
    /// after the first is taken there as that echo, not as a request to stop at once (measured: the README's
    /// <c>reproduce</c> under <c>timeout</c> lost its clean stop so).
    /// </summary>
    public static readonly TimeSpan EchoWindow = TimeSpan.FromSeconds(1);

    /// <summary>Whether a second signal <paramref name="sinceFirst"/> after the first is the first one's echo (<see cref="EchoWindow"/>).</summary>
    public static bool IsEcho(bool parentForwards, TimeSpan sinceFirst) => parentForwards && sinceFirst < EchoWindow;

    /// <summary>Whether a parent process's command line (<c>/proc/PID/cmdline</c>'s words) is <c>dotnet run ...</c>.</summary>
    public static bool IsDotnetRun(IReadOnlyList<string> parentCommandLine)
        => parentCommandLine.Count > 1 && Path.GetFileName(parentCommandLine[0]) == "dotnet" && parentCommandLine.Skip(1).FirstOrDefault(w => !w.StartsWith('-')) == "run";

    /// <summary>Whether this process's parent is <c>dotnet run</c> (Linux's /proc; false wherever it cannot be read).</summary>
    static bool UnderDotnetRun()
    {
        try
        {
            var stat = File.ReadAllText("/proc/self/stat");
            var parent = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1];   // after "pid (comm) state": the parent's pid
            return IsDotnetRun(File.ReadAllText($"/proc/{parent}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The exit code of a stop asked for by <c>--stop-after</c>: 75, sysexits' EX_TEMPFAIL ("try again later"), so a
    /// script tells "stopped on time, continue it" from finished (0), bad input (2) and a signal (130/143).</summary>
    public const int TimedStop = 75;

    /// <summary>The <c>--stop-after</c> option of the commands that train.</summary>
    public static Option<double?> StopAfterOption() => new("--stop-after")
    {
        Description = "minutes: after this long, finish the current step, save a checkpoint and stop, as a SIGTERM does, exiting 75 " +
                      "(for a session or CI job that ends at a known time; --resume continues)",
    };

    /// <summary>Reads <c>--stop-after</c> (null when not given): a length of time in minutes (<see cref="Durations.Minutes"/>).</summary>
    public static TimeSpan? ReadStopAfter(double? minutes) => minutes is { } m ? Durations.Minutes("--stop-after", m) : null;

    public StopSignals(TextWriter error, string continueCommand)
    {
        this.error = error;
        this.continueCommand = continueCommand;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => source.Token;

    /// <summary>130 after a SIGINT, 143 after a SIGTERM (128 + the signal's number, as a shell reports it), 75 after <c>--stop-after</c>.</summary>
    public int ExitCode => exitCode == 0 ? 130 : exitCode;

    /// <summary>The command line to continue with.</summary>
    public string ContinueCommand => continueCommand;

    /// <summary>
    /// Asks for the first signal's stop <paramref name="after"/> from now, unless a signal came first. It says nothing
    /// when the time comes: a run under way stops at the end of its step and <see cref="Reason"/> heads the line that
    /// says where it stopped; if training has ended by then (a <c>reproduce</c> rendering its reports), nothing listens
    /// and the command ends as it would have, exiting 0.
    /// </summary>
    public void StopAfter(TimeSpan after)
    {
        var minutes = after.TotalMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);   // as given: 0.0001, 80
        timer = new Timer(_ =>
        {
            if (Interlocked.CompareExchange(ref exitCode, TimedStop, 0) != 0) return;
            reason = $"--stop-after {minutes} min reached";
            source.Cancel();
        }, null, after, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Why a stop asked for in advance happened ("--stop-after 80 min reached"); null for a signal's, said when it came.</summary>
    public string? Reason => Volatile.Read(ref reason);

    void Handle(PosixSignalContext context)
    {
        context.Cancel = true;   // never the runtime's default: this process decides when and how it ends
        var name = context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
        if (Interlocked.CompareExchange(ref exitCode, context.Signal == PosixSignal.SIGTERM ? 143 : 130, 0) == 0)
        {
            Volatile.Write(ref firstSignalAt, Environment.TickCount64);
            error.WriteLine($"{name}: finishing the current step, then saving a checkpoint and stopping (send it again to stop at once)");
            source.Cancel();
            return;
        }
        long first = Volatile.Read(ref firstSignalAt);
        if (first != 0 && IsEcho(parentForwards, TimeSpan.FromMilliseconds(Environment.TickCount64 - first)))
        {
            error.WriteLine($"{name} again within {EchoWindow.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)} s under dotnet run: " +
                            "taken as the first one passed on by dotnet run; the stop goes on (send it again to stop at once)");
            return;
        }
        error.WriteLine($"{name} again: stopped at once; the newest checkpoint stays; continue with:");
        error.WriteLine("  " + continueCommand);
        error.Flush();
        Console.Out.Flush();
        // At once, as a kill would: no exit handlers. Environment.Exit would run libtorch's static destructors while the
        // main thread may still be inside a torch kernel, and crash (SIGSEGV). Checkpoints are written atomically, so
        // stopping at any instant leaves the newest whole one in place.
        if (OperatingSystem.IsWindows()) Environment.Exit(ExitCode);
        _exit(ExitCode);
    }

    [DllImport("libc")] static extern void _exit(int status);

    public void Dispose()
    {
        timer?.Dispose();
        foreach (var r in registrations) r.Dispose();
        source.Dispose();
    }

    /// <summary>
    /// The command that continues this one: the program as it was started (the apphost, or <c>dotnet ApolloBench.Cli.dll</c>)
    /// and the same arguments, with <c>--resume</c> added, each quoted for a POSIX shell where it needs it.
    /// </summary>
    public static string ContinueWith(IReadOnlyList<string> args)
    {
        var program = Environment.ProcessPath ?? "ApolloBench.Cli";
        List<string> words = Path.GetFileNameWithoutExtension(program) == "dotnet" ? [program, typeof(StopSignals).Assembly.Location] : [program];
        words.AddRange(args);
        if (!args.Contains("--resume")) words.Add("--resume");
        return string.Join(' ', words.Select(Quote));
    }

    static string Quote(string word) => word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "_@%+=:,./-".Contains(c))
        ? word
        : "'" + word.Replace("'", "'\\''") + "'";
}
