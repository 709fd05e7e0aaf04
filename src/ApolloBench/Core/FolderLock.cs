using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ApolloBench.Core;

/// <summary>
/// One writer per folder: an exclusive lock (<c>flock</c>) on a lock file, held while this object lives. The operating
/// system drops the lock when the holder's process ends, however it ends, so a SIGKILL never leaves a stale lock; the
/// file itself stays (removing it would let a waiter lock a name no one else sees) and holds the holder's process id.
/// <para>Locks are advisory: they keep ApolloBench processes apart, nothing else. A process that asks twice for the same
/// file is refused like any other, so a second writer in the same process is caught too. The file is opened without
/// .NET's own FileShare locking (which would take a second, shared lock on it) and closed on exec, so a child process
/// (npm) never inherits it. Where there is no flock (Windows) an exclusive open of the file is the lock.</para>
/// </summary>
public sealed class FolderLock : IDisposable
{
    /// <summary>The name of a run folder's lock file (inside the folder; a finished run's manifest does not seal it).</summary>
    public const string FileName = ".lock";

    readonly SafeHandle handle;

    FolderLock(string path, SafeHandle handle)
    {
        Path = path;
        this.handle = handle;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>
    /// The lock file of a cache entry: <c>&lt;cacheDir&gt;/locks/&lt;name&gt;.lock</c>, apart from the data, so that a cache
    /// folder holds only what was cached.
    /// </summary>
    public static string InCache(string cacheDir, string name) => System.IO.Path.Combine(cacheDir, "locks", name + ".lock");

    /// <summary>The lock, or null when another process (or another owner in this one) holds it; <paramref name="holder"/> is then its process id if it wrote one.</summary>
    public static FolderLock? TryAcquire(string lockFile, out int? holder)
    {
        holder = null;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(lockFile))!);
        var handle = Native.Open(lockFile);
        if (!Native.TryLock(handle))
        {
            handle.Dispose();
            holder = Holder(lockFile);
            return null;
        }
        Native.WritePid(handle, Environment.ProcessId);
        return new FolderLock(lockFile, handle);
    }

    /// <summary>
    /// The lock, waiting while another process holds it: <paramref name="log"/> hears once who holds it
    /// (<c>"{what}: process 1234 holds it; waiting for it"</c>). Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancel"/> is cancelled while it waits; a free lock is taken whatever the token says (a stop request
    /// is for the work the lock guards to honour, at its next step).
    /// </summary>
    public static FolderLock Acquire(string lockFile, string what, Action<string>? log = null, CancellationToken cancel = default)
    {
        bool told = false;
        while (true)
        {
            if (TryAcquire(lockFile, out var holder) is { } taken)
            {
                if (told) log?.Invoke($"{what}: the other process is done; going on");
                return taken;
            }
            cancel.ThrowIfCancellationRequested();
            if (!told) log?.Invoke($"{what}: {Describe(holder)} holds it; waiting for it");
            told = true;
            cancel.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(250));
        }
    }

    /// <summary>"process 1234", or "another process" when the lock file names none.</summary>
    public static string Describe(int? holder) => holder is { } pid ? $"process {pid.ToString(CultureInfo.InvariantCulture)}" : "another process";

    /// <summary>The process id written in a lock file, if any (whether or not it still holds the lock).</summary>
    public static int? Holder(string lockFile)
    {
        var text = Native.ReadAll(lockFile);
        return int.TryParse(text?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }

    /// <summary>Releases the lock (closing the file releases it).</summary>
    public void Dispose() => handle.Dispose();

    /// <summary>flock on Unix, a FileShare.None stream elsewhere.</summary>
    static class Native
    {
        public static SafeHandle Open(string path)
        {
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            {
                try { return new StreamHandle(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)); }
                catch (IOException) { return new StreamHandle(null); }   // open elsewhere: held
            }
            int flags = ReadWrite | Create | (OperatingSystem.IsLinux() ? CloseOnExecLinux : CloseOnExecMac);
            int fd = open(path, flags, 0x1A4 /* 0644 */);
            if (fd < 0) throw new IOException($"{path}: cannot open the lock file (errno {Marshal.GetLastPInvokeError()})");
            return new FdHandle(fd);
        }

        public static bool TryLock(SafeHandle handle)
        {
            if (handle is StreamHandle s) return s.TryLock();
            if (flock((int)handle.DangerousGetHandle(), LockExclusive | LockNonBlocking) == 0) return true;
            int errno = Marshal.GetLastPInvokeError();
            if (errno is WouldBlockLinux or WouldBlockMac) return false;
            throw new IOException($"flock failed (errno {errno})");
        }

        public static void WritePid(SafeHandle handle, int pid)
        {
            var bytes = Encoding.ASCII.GetBytes(pid.ToString(CultureInfo.InvariantCulture) + "\n");
            if (handle is StreamHandle s)
            {
                s.Write(bytes);
                return;
            }
            int fd = (int)handle.DangerousGetHandle();
            if (ftruncate(fd, 0) != 0 || pwrite(fd, bytes, bytes.Length, 0) != bytes.Length)
                throw new IOException($"cannot write the lock file (errno {Marshal.GetLastPInvokeError()})");
        }

        public static string? ReadAll(string path)
        {
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            {
                try
                {
                    using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                    return new StreamReader(stream).ReadToEnd();
                }
                catch (IOException) { return null; }
            }
            int fd = open(path, 0 /* O_RDONLY */, 0);
            if (fd < 0) return null;
            try
            {
                var buffer = new byte[64];
                var n = pread(fd, buffer, buffer.Length, 0);
                return n <= 0 ? null : Encoding.ASCII.GetString(buffer, 0, (int)n);
            }
            finally { close(fd); }
        }

        const int ReadWrite = 2, Create = 0x40, CloseOnExecLinux = 0x80000, CloseOnExecMac = 0x1000000;
        const int LockExclusive = 2, LockNonBlocking = 4, WouldBlockLinux = 11, WouldBlockMac = 35;

        [DllImport("libc", SetLastError = true)] static extern int open(string path, int flags, int mode);
        [DllImport("libc", SetLastError = true)] static extern int flock(int fd, int operation);
        [DllImport("libc", SetLastError = true)] static extern int ftruncate(int fd, long length);
        [DllImport("libc", SetLastError = true)] static extern nint pwrite(int fd, byte[] buffer, nint count, long offset);
        [DllImport("libc", SetLastError = true)] static extern nint pread(int fd, byte[] buffer, nint count, long offset);
        [DllImport("libc")] static extern int close(int fd);

        sealed class FdHandle : SafeHandle
        {
            public FdHandle(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);
            public override bool IsInvalid => handle == -1;
            protected override bool ReleaseHandle() => close((int)handle) == 0;
        }

        /// <summary>Where there is no flock (Windows): a FileShare.None stream is itself the lock.</summary>
        sealed class StreamHandle(FileStream? stream) : SafeHandle(-1, ownsHandle: true)
        {
            public override bool IsInvalid => false;

            public bool TryLock() => stream is not null;

            public void Write(byte[] bytes)
            {
                stream!.SetLength(0);
                stream.Write(bytes);
                stream.Flush();
            }

            protected override bool ReleaseHandle()
            {
                stream?.Dispose();
                return true;
            }
        }
    }
}
