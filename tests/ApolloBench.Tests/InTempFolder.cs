namespace ApolloBench.Tests;

/// <summary>A test class that works in a fresh temporary folder of its own (<see cref="root"/>), deleted after each test.</summary>
public abstract class InTempFolder(string prefix) : IDisposable
{
    protected readonly string root = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>Settings whose runs and cache live in <see cref="root"/>.</summary>
    protected ApolloBench.Experiments.RunSettings TempSettings(int? threads = 1) => new() { Runs = Path.Combine(root, "runs"), Cache = Path.Combine(root, "cache"), Threads = threads };

    public void Dispose()
    {
        Directory.Delete(root, recursive: true);
        GC.SuppressFinalize(this);
    }
}
