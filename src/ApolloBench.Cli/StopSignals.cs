using System.Runtime.InteropServices;

namespace ApolloBench.Cli;

/// <summary>
/// A clean stop for the commands that train (<c>train</c>, <c>reproduce</c>), as a CI runner's cancel or a Ctrl+C asks for
/// it: the first SIGINT or SIGTERM cancels <see cref="Token"/>, so the run finishes the step under way, writes a checkpoint
/// and stops, and the command says where it stopped and how to continue, exiting 130 (SIGINT) or 143 (SIGTERM). A second
/// signal stops the process at once with the same code: its newest checkpoint stays, whole, for <c>--resume</c>.
/// Commands that do not train keep the default (a signal ends them).
/// </summary>
sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource source = new();
    readonly PosixSignalRegistration[] registrations;
    readonly TextWriter error;
    readonly string continueCommand;
    int exitCode;   // 0 until the first signal

    public StopSignals(TextWriter error, string continueCommand)
    {
        this.error = error;
        this.continueCommand = continueCommand;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first signal.</summary>
    public CancellationToken Token => source.Token;

    /// <summary>130 after a SIGINT, 143 after a SIGTERM (128 + the signal's number, as a shell reports it).</summary>
    public int ExitCode => exitCode == 0 ? 130 : exitCode;

    /// <summary>The command line to continue with.</summary>
    public string ContinueCommand => continueCommand;

    void Handle(PosixSignalContext context)
    {
        context.Cancel = true;   // never the runtime's default: this process decides when and how it ends
        var name = context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT";
        if (Interlocked.CompareExchange(ref exitCode, context.Signal == PosixSignal.SIGTERM ? 143 : 130, 0) == 0)
        {
            error.WriteLine($"{name}: finishing the current step, then saving a checkpoint and stopping (send it again to stop at once)");
            source.Cancel();
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
