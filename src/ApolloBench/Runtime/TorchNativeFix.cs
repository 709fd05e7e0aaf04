using System.Runtime.CompilerServices;
using System.Text;

namespace ApolloBench.Runtime;

/// <summary>
/// TorchSharp 0.107's native shim (libLibTorchSharp.so) asks for libstdc++ symbol version
/// GLIBCXX_3.4.32 (GCC 13) although the only symbol carrying it is a marker nothing calls.
/// Debian 12 ships GCC 12's libstdc++ (up to 3.4.30), so the shim fails to load there.
/// Before the first torch call we mark that version-need entry WEAK in the copy of the shim
/// that sits beside the running program (never in the NuGet cache). Idempotent; a no-op when
/// the system libstdc++ already provides the version, or when the shim does not ask for it.
/// Every entry assembly (CLI, tests, benchmarks) calls <see cref="EnsureLoadable"/> from a module
/// initializer, so `dotnet run`, `dotnet test` and BenchmarkDotNet's child process all get it.
/// </summary>
public static class TorchNativeFix
{
    const string NeededVersion = "GLIBCXX_3.4.32";
    const ushort VerFlgWeak = 0x2;
    const uint ShtGnuVerneed = 0x6ffffffe;
    static readonly object Gate = new();
    static bool done;

    /// <summary>What the last call did, for diagnostics and the run manifest.</summary>
    public static string Outcome { get; private set; } = "not run";

#pragma warning disable CA2255 // deliberate: the patch must run before any torch call, however the code is started
    [ModuleInitializer]
    internal static void Init() => EnsureLoadable();
#pragma warning restore CA2255

    public static void EnsureLoadable()
    {
        lock (Gate)
        {
            if (done) return;
            done = true;
            try
            {
                Outcome = Apply();
            }
            catch (Exception e)
            {
                // Never fail here: if the shim still cannot load, torch's own error follows.
                Outcome = "patch failed: " + e.Message;
            }
            // Once torch can load: let MKL use the fast kernels on AMD CPUs (a no-op elsewhere; never throws).
            MklAmdDispatch.EnsureApplied();
        }
    }

    static string Apply()
    {
        if (!OperatingSystem.IsLinux()) return "not linux";
        if (SystemLibStdCxxHas(NeededVersion)) return "system libstdc++ provides " + NeededVersion;
        var shims = CandidateShims().Where(File.Exists).Distinct().ToList();
        if (shims.Count == 0) return "shim not found beside the program";
        var results = new List<string>();
        foreach (var shim in shims) results.Add(PatchFile(shim));
        return string.Join("; ", results);
    }

    static IEnumerable<string> CandidateShims()
    {
        foreach (var dir in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(TorchNativeFix).Assembly.Location) ?? "" })
        {
            if (string.IsNullOrEmpty(dir)) continue;
            yield return Path.Combine(dir, "libLibTorchSharp.so");
            yield return Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        }
    }

    static bool SystemLibStdCxxHas(string version)
    {
        string[] dirs = ["/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib"];
        foreach (var d in dirs)
        {
            var p = Path.Combine(d, "libstdc++.so.6");
            if (!File.Exists(p)) continue;
            var bytes = File.ReadAllBytes(p);
            return IndexOf(bytes, Encoding.ASCII.GetBytes(version + "\0")) >= 0;
        }
        return false;
    }

    /// <summary>Marks the GLIBCXX_3.4.32 version need weak in one ELF file. Public for tests.</summary>
    public static string PatchFile(string path)
    {
        var elf = File.ReadAllBytes(path);
        var offset = FindVersionNeedFlags(elf, NeededVersion);
        if (offset < 0) return $"{Path.GetFileName(path)}: does not need {NeededVersion}";
        var flags = BitConverter.ToUInt16(elf, offset);
        if ((flags & VerFlgWeak) != 0) return $"{Path.GetFileName(path)}: already weak";
        BitConverter.GetBytes((ushort)(flags | VerFlgWeak)).CopyTo(elf, offset);
        var tmp = path + ".patch-" + Environment.ProcessId;
        File.WriteAllBytes(tmp, elf);
        File.Move(tmp, path, overwrite: true);
        return $"{Path.GetFileName(path)}: marked {NeededVersion} weak";
    }

    /// <summary>Byte offset of vna_flags for the named version need, or -1.</summary>
    internal static int FindVersionNeedFlags(byte[] elf, string version)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != 'E' || elf[2] != 'L' || elf[3] != 'F') return -1;
        if (elf[4] != 2 || elf[5] != 1) return -1; // ELF64, little-endian only
        long shoff = BitConverter.ToInt64(elf, 0x28);
        int shentsize = BitConverter.ToUInt16(elf, 0x3A);
        int shnum = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int sh = checked((int)(shoff + (long)i * shentsize));
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;
            int secOff = checked((int)BitConverter.ToInt64(elf, sh + 0x18));
            int link = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int strSh = checked((int)(shoff + (long)link * shentsize));
            int strOff = checked((int)BitConverter.ToInt64(elf, strSh + 0x18));
            int vn = secOff;
            while (true)
            {
                int cnt = BitConverter.ToUInt16(elf, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int a = 0; a < cnt; a++)
                {
                    int name = (int)BitConverter.ToUInt32(elf, aux + 8);
                    if (CStringAt(elf, strOff + name) == version) return aux + 4;
                    int next = (int)BitConverter.ToUInt32(elf, aux + 12);
                    if (next == 0) break;
                    aux += next;
                }
                int vnNext = (int)BitConverter.ToUInt32(elf, vn + 12);
                if (vnNext == 0) break;
                vn += vnNext;
            }
        }
        return -1;
    }

    static string CStringAt(byte[] b, int at)
    {
        int end = at;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, at, end - at);
    }

    static int IndexOf(byte[] hay, byte[] needle)
    {
        return hay.AsSpan().IndexOf(needle);
    }
}
