using System.Runtime.InteropServices;

namespace ApolloBench.Core;

/// <summary>
/// Flushes to the disk itself, not only to the page cache: a rename is durable only when the renamed file's data and the
/// folder that holds the new name have both been flushed (fsync), or a power cut can leave a whole-looking empty file.
/// </summary>
public static class Durable
{
    /// <summary>fsync of a file's data.</summary>
    public static void FlushFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>fsync of a folder, so the names created or renamed in it survive a power cut (no-op where folders cannot be opened).</summary>
    public static void FlushDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = open(path, ReadOnly | Directory);
        if (fd < 0) return;
        try { fsync(fd); }
        finally { close(fd); }
    }

    const int ReadOnly = 0, Directory = 0x10000;   // O_RDONLY, O_DIRECTORY (Linux x86-64)
    [DllImport("libc", SetLastError = true)] static extern int open(string path, int flags);
    [DllImport("libc", SetLastError = true)] static extern int fsync(int fd);
    [DllImport("libc")] static extern int close(int fd);
}
