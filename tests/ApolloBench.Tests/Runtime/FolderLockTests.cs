using System.Diagnostics;
using ApolloBench.Core;

namespace ApolloBench.Tests.Runtime;

public class FolderLockTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ab-lock-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    string LockFile => Path.Combine(dir, "run", FolderLock.FileName);

    [Fact]
    public void A_held_lock_refuses_a_second_taker_naming_the_holder_and_is_free_again_once_released()
    {
        using (var first = FolderLock.TryAcquire(LockFile, out _))
        {
            Assert.NotNull(first);
            Assert.Null(FolderLock.TryAcquire(LockFile, out var holder));   // a second owner in the same process is refused too
            Assert.Equal(Environment.ProcessId, holder);
        }
        using var again = FolderLock.TryAcquire(LockFile, out _);
        Assert.NotNull(again);
        Assert.True(File.Exists(LockFile));   // the file stays: removing it would let a waiter lock a name no one else sees
    }

    [Fact]
    public void The_lock_of_a_killed_process_is_released_by_the_operating_system()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LockFile)!);
        // util-linux's flock(1) takes the same flock(2) lock and holds it while its command runs (--close: only flock holds it, not sleep).
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", "--close", LockFile, "sleep", "60"]) { UseShellExecute = false })!;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        FolderLock? taken;
        while ((taken = FolderLock.TryAcquire(LockFile, out _)) is { } early && DateTime.UtcNow < deadline)
        {
            early.Dispose();   // flock(1) has not locked yet
            Thread.Sleep(20);
        }
        Assert.Null(taken);
        holder.Kill(entireProcessTree: true);   // SIGKILL: no chance to unlock
        holder.WaitForExit();
        // The kernel drops the lock as it closes a dying process's files; kill(2) returns before that, so allow it a moment.
        FolderLock? after = null;
        for (var until = DateTime.UtcNow.AddSeconds(10); after is null && DateTime.UtcNow < until; Thread.Sleep(20))
            after = FolderLock.TryAcquire(LockFile, out _);
        using (after) Assert.NotNull(after);
    }

    [Fact]
    public async Task Acquire_waits_for_the_holder_saying_so_once_and_can_be_cancelled()
    {
        var lines = new List<string>();
        var first = FolderLock.TryAcquire(LockFile, out _)!;
        var release = Task.Run(() => { Thread.Sleep(600); first.Dispose(); });
        using (FolderLock.Acquire(LockFile, "runs/x", lines.Add)) { }
        await release;
        Assert.Equal([$"runs/x: process {Environment.ProcessId} holds it; waiting for it", "runs/x: the other process is done; going on"], lines);

        using (var stopped = new CancellationTokenSource())
        {
            stopped.Cancel();   // a stop request does not keep a free lock from being taken: only a wait is cut short
            using var free = FolderLock.Acquire(LockFile, "runs/x", cancel: stopped.Token);
        }
        using var held = FolderLock.TryAcquire(LockFile, out _);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        Assert.Throws<OperationCanceledException>(() => FolderLock.Acquire(LockFile, "runs/x", cancel: cancel.Token));
    }
}
