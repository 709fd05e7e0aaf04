using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace ApolloBench.Tests.Faults;

/// <summary>How a CLI process ended: its exit code and everything it wrote.</summary>
public sealed record Exit(int Code, string Output, string Error)
{
    /// <summary>A stack trace or an unhandled exception in either stream: a crash, whatever the exit code.</summary>
    public bool HasStackTrace => (Output + Error).Contains("Unhandled exception", StringComparison.Ordinal)
                                 || (Output + Error).Split('\n').Any(l => l.TrimStart().StartsWith("at ApolloBench.", StringComparison.Ordinal)
                                                                         || l.TrimStart().StartsWith("at System.", StringComparison.Ordinal));

    /// <summary>Exit code 2 with exactly one line on stderr, an "error: " one: a refusal a user can act on.</summary>
    public bool IsOneLineRefusal => Code == 2 && !HasStackTrace && Error.Trim().Split('\n').Length == 1 && Error.StartsWith("error: ", StringComparison.Ordinal);

    public override string ToString() => $"exit {Code}\n--- stdout (tail) ---\n{Tail(Output)}\n--- stderr ---\n{Tail(Error)}";

    static string Tail(string s) => s.Length <= 3000 ? s : "..." + s[^3000..];
}

/// <summary>
/// The CLI as a child process (the apphost built beside the tests), the way a user or a CI runner starts it: so it can be
/// killed (SIGKILL), signalled (SIGINT, SIGTERM) and run twice at once, which no in-process call can show.
/// </summary>
public sealed class ChildCli : IDisposable
{
    public static string Program => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "ApolloBench.Cli.exe" : "ApolloBench.Cli");

    readonly Process process;
    readonly StringBuilder output = new(), error = new();
    readonly TaskCompletionSource outputClosed = new(), errorClosed = new();

    ChildCli(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is null) outputClosed.TrySetResult(); else lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is null) errorClosed.TrySetResult(); else lock (error) error.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;
    public bool HasExited => process.HasExited;

    /// <summary>Starts the CLI with <paramref name="args"/>; <paramref name="path"/> replaces PATH (a fake npm first).</summary>
    public static ChildCli Start(IEnumerable<string> args, string? path = null) => StartProgram(Program, args, path);

    /// <summary>Starts <paramref name="program"/> (the CLI, or the command a stopped run printed) with <paramref name="args"/>.</summary>
    public static ChildCli StartProgram(string program, IEnumerable<string> args, string? path = null)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (path is not null) psi.Environment["PATH"] = path;
        return new ChildCli(Process.Start(psi)!);
    }

    /// <summary>Runs the CLI to its end (at most <paramref name="timeout"/>, default 5 minutes).</summary>
    public static Exit Run(IEnumerable<string> args, TimeSpan? timeout = null, string? path = null)
    {
        using var child = Start(args, path);
        return child.WaitForExit(timeout);
    }

    public Exit WaitForExit(TimeSpan? timeout = null)
    {
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{Program} did not finish in time; it was killed.\n{Snapshot()}");
        }
        process.WaitForExit();   // the streams are drained
        Task.WaitAll([outputClosed.Task, errorClosed.Task], TimeSpan.FromSeconds(10));
        return Snapshot();
    }

    Exit Snapshot()
    {
        string o, e;
        lock (output) o = output.ToString();
        lock (error) e = error.ToString();
        return new Exit(process.HasExited ? process.ExitCode : -1, o, e);
    }

    /// <summary>Whether its standard error so far holds <paramref name="text"/>.</summary>
    public bool ErrorSoFarContains(string text)
    {
        lock (error) return error.ToString().Contains(text, StringComparison.Ordinal);
    }

    /// <summary>What it has written so far.</summary>
    public string OutputSoFar
    {
        get { lock (output) return output.ToString(); }
    }

    /// <summary>SIGKILL: no handler runs, nothing is flushed; only what is on disk survives.</summary>
    public Exit Kill()
    {
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { /* already gone */ }
        return WaitForExit();
    }

    public void Signal(int signal)
    {
        if (kill(process.Id, signal) != 0 && !process.HasExited)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed (errno {Marshal.GetLastPInvokeError()})");
    }

    public const int SigInt = 2, SigKill = 9, SigTerm = 15;

    [DllImport("libc", SetLastError = true)] static extern int kill(int pid, int sig);

    public void Dispose()
    {
        if (!process.HasExited)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            process.WaitForExit();
        }
        process.Dispose();
    }

    /// <summary>
    /// True when this process ignores SIGINT (a test host started in the background by a non-interactive shell): its
    /// children then inherit the ignored SIGINT, as POSIX says, and no SIGINT can reach them.
    /// </summary>
    public static bool SigIntIgnoredHere()
    {
        if (!OperatingSystem.IsLinux()) return false;
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (SigInt - 1))) != 0;
    }

    /// <summary>Splits a command line the CLI printed (words, some in POSIX single quotes) back into words.</summary>
    public static List<string> SplitCommand(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool inWord = false, quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '\'') quoted = false;
                else word.Append(c);
            }
            else if (c == '\'') { quoted = true; inWord = true; }
            else if (c == '\\' && i + 1 < line.Length) { word.Append(line[++i]); inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else { word.Append(c); inWord = true; }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }
}
