using System.Diagnostics;
using ApolloBench.Experiments;
using ApolloBench.Tests.Experiments;

namespace ApolloBench.Tests.Cli;

/// <summary>
/// Where the CLI looks and writes when it is not told: the definitions of the checkout around the working folder (from
/// any folder inside it, --experiments still winning), reports in the git-ignored out/ (never the committed reports/
/// unless --out says so), named on the last line. Run as a new user would: the built program in a child process.
/// </summary>
[Collection("cli")]
public class CheckoutPathsTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ab-checkout-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>The built CLI, started in <paramref name="folder"/>: exit code, standard output, standard error.</summary>
    static (int Code, string Output, string Error) Cli(string folder, params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "ApolloBench.Cli.exe" : "ApolloBench.Cli");
        var psi = new ProcessStartInfo(exe) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var child = Process.Start(psi)!;
        var error = child.StandardError.ReadToEndAsync();
        var output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output, error.Result);
    }

    /// <summary>A checkout of the definitions alone: experiments/ (shared/ included) under a fresh root, and a subfolder to start from.</summary>
    string Checkout()
    {
        var experiments = Path.Combine(root, "repo", "experiments");
        foreach (var file in Directory.GetFiles(Repo.Experiments, "*.json", SearchOption.AllDirectories))
        {
            var to = Path.Combine(experiments, Path.GetRelativePath(Repo.Experiments, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        var sub = Path.Combine(root, "repo", "src", "deep");
        Directory.CreateDirectory(sub);
        return sub;
    }

    [Fact]
    public void The_definitions_are_found_from_any_folder_inside_the_checkout()
    {
        Assert.Equal(Repo.Experiments, Repository.FindExperiments(Path.Combine(Repo.Root, "src", "ApolloBench.Cli")));
        var (code, output, error) = Cli(Path.Combine(Repo.Root, "tests"), "list");
        Assert.True(code == 0, error);
        Assert.Contains("table4", output);
    }

    [Fact]
    public void Outside_a_checkout_list_is_one_line_naming_the_folder_and_experiments_still_wins()
    {
        var outside = Directory.CreateDirectory(Path.Combine(root, "elsewhere")).FullName;
        var (code, output, error) = Cli(outside, "list");
        Assert.Equal(2, code);
        Assert.Equal($"error: --experiments: no experiments/ folder (with scales.json) in '{outside}' or any folder above it; " +
                     "run inside the ApolloBench checkout or pass --experiments DIR", error.Trim());
        Assert.Equal("", output);

        (code, output, error) = Cli(outside, "list", "--experiments", Repo.Experiments);
        Assert.True(code == 0, error);
        Assert.Contains("table4", output);
    }

    [Fact]
    public void Reproduce_writes_to_the_ignored_out_folder_of_the_checkout_and_names_it_on_its_last_line()
    {
        var sub = Checkout();
        var (code, output, error) = Cli(sub, "reproduce", "fig2", "--scale", "smoke");
        Assert.True(code == 0, error + output);
        var written = Path.Combine(root, "repo", Repository.OutFolder, Repository.ReportsFolder);
        Assert.Equal($"reports: {written}", output.TrimEnd().Split('\n')[^1]);
        Assert.True(File.Exists(Path.Combine(written, "fig2", "smoke", "report.md")));
        Assert.False(Directory.Exists(Path.Combine(root, "repo", Repository.ReportsFolder)), "the committed reports are written only with --out reports");
        Assert.False(Directory.Exists(Path.Combine(sub, "out")));

        // report from the same folder finds the same checkout and the same out/.
        (code, output, error) = Cli(sub, "report", "fig2", "--scale", "smoke");
        Assert.True(code == 0, error + output);
        Assert.Equal($"reports: {written}", output.TrimEnd().Split('\n')[^1]);
    }
}
