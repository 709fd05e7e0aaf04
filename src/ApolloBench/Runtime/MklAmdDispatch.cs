using System.Runtime.InteropServices;
using TorchSharp;

namespace ApolloBench.Runtime;

/// <summary>
/// libtorch's CPU build links Intel MKL statically, and MKL picks its matmul kernels by asking
/// <c>mkl_serv_intel_cpu_true()</c> whether the CPU is Intel's. On an AMD CPU the answer is no, and MKL
/// falls back to a generic path that ignores the AVX-512/AVX2 units the CPU reports: measured on this
/// project's AMD EPYC machines, a 2048 fp32 matmul on 2 threads runs at ~100-150 GFLOP/s instead of the
/// ~190-205 GFLOP/s of the same call with the fast path, or of OpenBLAS (reports/performance.md).
/// <para>
/// After libtorch is loaded, and before the first matmul, this overwrites that one exported function with
/// <c>mov eax, 1; ret</c>. MKL still checks the CPU's feature bits (cpuid) before using any instruction set,
/// so the kernels it then selects are ones the CPU executes; only the vendor test is bypassed (the same
/// effect as the widely used LD_PRELOAD override of this symbol, without a compiler or an environment
/// variable). Applied only on Linux x64 with an AMD CPU; <c>APOLLOBENCH_MKL_AMD=off</c> leaves MKL alone.
/// Never throws: when anything is missing the outcome says why and MKL keeps its default.
/// </para>
/// </summary>
public static class MklAmdDispatch
{
    public const string EnvironmentVariable = "APOLLOBENCH_MKL_AMD";
    const string Symbol = "mkl_serv_intel_cpu_true";
    static readonly byte[] ReturnOne = [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3];   // mov eax, 1; ret
    static readonly object Gate = new();
    static bool done;

    /// <summary>What <see cref="EnsureApplied"/> did, for the run manifest and the bench report.</summary>
    public static string Outcome { get; private set; } = "not run";

    /// <summary>True when MKL now takes its Intel code paths on this AMD CPU.</summary>
    public static bool Active { get; private set; }

    public static void EnsureApplied()
    {
        lock (Gate)
        {
            if (done) return;
            done = true;
            try { Outcome = Apply(); }
            catch (Exception e) { Outcome = "not applied: " + e.Message; }
        }
    }

    static string Apply()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return "not applied: not linux-x64";
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { } v && v.Trim().ToLowerInvariant() is "off" or "0" or "false")
            return $"not applied: {EnvironmentVariable}={v}";
        var vendor = CpuVendor();
        if (vendor != "AuthenticAMD") return $"not applied: cpu vendor {vendor ?? "unknown"} (only AMD needs it)";

        torch.InitializeDeviceType(DeviceType.CPU);   // loads libtorch_cpu.so; MKL chooses its kernels later, at the first BLAS call
        var library = dlopen("libtorch_cpu.so", RtldNow | RtldNoload);
        if (library == IntPtr.Zero) return "not applied: libtorch_cpu.so is not loaded";
        var function = dlsym(library, Symbol);
        if (function == IntPtr.Zero) return $"not applied: libtorch_cpu.so has no {Symbol} (no MKL inside)";

        long pageSize = Environment.SystemPageSize;
        long start = function.ToInt64() & ~(pageSize - 1);
        long length = function.ToInt64() + ReturnOne.Length - start;
        if (mprotect(new IntPtr(start), (nuint)length, ProtRead | ProtWrite | ProtExec) != 0)
            return $"not applied: mprotect refused write access (errno {Marshal.GetLastPInvokeError()})";
        Marshal.Copy(ReturnOne, 0, function, ReturnOne.Length);
        mprotect(new IntPtr(start), (nuint)length, ProtRead | ProtExec);
        Active = true;
        return $"applied: {Symbol} returns 1, so MKL uses its AVX-512/AVX2 kernels on this AMD CPU";
    }

    static string? CpuVendor()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("vendor_id", StringComparison.Ordinal));
            return line?[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Calls the (possibly patched) vendor test, for tests.</summary>
    public static unsafe int CallVendorTest()
    {
        var library = dlopen("libtorch_cpu.so", RtldNow | RtldNoload);
        var function = library == IntPtr.Zero ? IntPtr.Zero : dlsym(library, Symbol);
        if (function == IntPtr.Zero) throw new InvalidOperationException($"{Symbol} not found in a loaded libtorch_cpu.so");
        return ((delegate* unmanaged<int>)function)();
    }

    const int RtldNow = 0x2, RtldNoload = 0x4;
    const int ProtRead = 0x1, ProtWrite = 0x2, ProtExec = 0x4;

    [DllImport("libc", SetLastError = true)] static extern IntPtr dlopen(string file, int mode);
    [DllImport("libc")] static extern IntPtr dlsym(IntPtr handle, string name);
    [DllImport("libc", SetLastError = true)] static extern int mprotect(IntPtr address, nuint length, int protection);
}
