using System.Diagnostics;
using ApolloBench.Cli;
using ApolloBench.Training;

namespace ApolloBench.Tests.Cli;

/// <summary>A `train` process killed with SIGKILL mid-way and resumed ends with the uninterrupted run's results.</summary>
[Collection("cli")]
public class KillResumeTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-kill-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    string[] Args(string outDir, params string[] extra)
    {
        var corpus = Path.Combine(root, "corpus");
        if (!Directory.Exists(corpus))
        {
            Directory.CreateDirectory(corpus);
            string[] words = ["the", "union", "congress", "people", "nation", "state", "law", "war", "peace", "trade", "year", "public"];
            var rng = new ApolloBench.Core.Rng(9);
            for (int d = 0; d < 30; d++)
                File.WriteAllText(Path.Combine(corpus, $"d{d:D2}.txt"), string.Join(' ', Enumerable.Range(0, 400).Select(_ => words[rng.NextInt(words.Length)])));
        }
        return ["train", "--model", "gpt", "--method", "apollo", "--scale", "smoke", "--steps", "300", "--eval-every", "20", "--threads", "1",
            "--corpus", corpus, "--cache", Path.Combine(root, "cache"), "--out", outDir, .. extra];
    }

    [Fact]
    public void Sigkill_then_resume_gives_the_uninterrupted_results()
    {
        var straight = Path.Combine(root, "straight");
        Assert.Equal(0, CliApp.Run(Args(straight)));

        var killed = Path.Combine(root, "killed");
        var exe = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "ApolloBench.Cli.exe" : "ApolloBench.Cli");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in Args(killed, "--checkpoint-every", "0")) psi.ArgumentList.Add(arg);
        using (var child = Process.Start(psi)!)
        {
            child.OutputDataReceived += (_, _) => { };
            child.ErrorDataReceived += (_, _) => { };
            child.BeginOutputReadLine();
            child.BeginErrorReadLine();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (DateTime.UtcNow < deadline && !child.HasExited)
            {
                if (Checkpoint.NextStep(Path.Combine(killed, Checkpoint.Folder)) >= 60) break;
                Thread.Sleep(20);
            }
            Assert.False(child.HasExited, "the run finished before it could be killed");
            child.Kill(entireProcessTree: true);   // SIGKILL
            child.WaitForExit();
        }
        Assert.False(RunExecutor_IsComplete(killed));
        var resumedAt = Checkpoint.NextStep(Path.Combine(killed, Checkpoint.Folder));

        Assert.Equal(0, CliApp.Run(Args(killed, "--resume")));
        // the manifest says which process and build trained which steps: one stretch, or one per process
        Assert.Equal([(0L, ApolloBench.Runtime.BuildInfo.Commit)], Stretches(straight));
        Assert.Equal([(0L, ApolloBench.Runtime.BuildInfo.Commit), (resumedAt!.Value, ApolloBench.Runtime.BuildInfo.Commit)], Stretches(killed));
        var a = RunFiles.ReadCurve(straight);
        var b = RunFiles.ReadCurve(killed);
        Assert.Equal(a.Select(r => r with { WallSeconds = 0, MachineSpeed = null, CpuWait = null }), b.Select(r => r with { WallSeconds = 0, MachineSpeed = null, CpuWait = null }));   // timings differ, nothing else
        Assert.Equal(File.ReadAllText(Path.Combine(straight, RunFiles.Growth)), File.ReadAllText(Path.Combine(killed, RunFiles.Growth)));
        Assert.False(Checkpoint.Exists(Path.Combine(killed, Checkpoint.Folder)));   // removed once the run finished
    }

    static bool RunExecutor_IsComplete(string dir) => ApolloBench.Runs.RunExecutor.IsComplete(dir);

    static List<(long FromStep, string? Commit)> Stretches(string run)
    {
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(run, "manifest.json")))!;
        var stretches = manifest["stretches"]!.AsArray();
        Assert.All(stretches, t => Assert.True(DateTimeOffset.TryParse((string?)t!["started"], out _)));
        return stretches.Select(t => ((long)t!["fromStep"]!, (string?)t["commit"])).ToList();
    }
}
