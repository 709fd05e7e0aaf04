using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Runtime;

/// <summary>The arithmetic a run trains in.</summary>
public enum Precision
{
    /// <summary>Everything in fp32.</summary>
    Fp32,
    /// <summary>
    /// Mixed precision as PyTorch's <c>torch.autocast(dtype=torch.bfloat16)</c> (what the released scripts' <c>--bf16</c>
    /// turns on): fp32 master weights, gradients and AdamW moments; matmuls, linear layers and attention in bf16; LayerNorm
    /// on the fp32 residual stream; the loss in fp32.
    /// </summary>
    Bf16,
}

/// <summary>
/// libtorch's own autocast, switched on and off around a forward pass. TorchSharp 0.107 exposes no autocast, but
/// libtorch_cpu.so (which TorchSharp has loaded) exports the functions PyTorch's <c>torch.autocast</c> calls:
/// <c>at::autocast::set_autocast_enabled(DeviceType, bool)</c>, <c>set_autocast_dtype(DeviceType, ScalarType)</c> and
/// <c>clear_cache()</c>. With the autocast dispatch key on, every op TorchSharp calls goes through libtorch's autocast
/// policy exactly as in PyTorch: linear, addmm, matmul and scaled_dot_product_attention cast their inputs to bf16 (leaf
/// weights once per region, from a cache), other ops run in their inputs' type. The state is per thread, like
/// PyTorch's; a region covers the forward pass and the loss only (backward replays the casts in reverse).
/// </summary>
public static unsafe class Autocast
{
    const sbyte CpuDevice = 0, CudaDevice = 1;      // c10::DeviceType
    const sbyte BFloat16 = 15;                      // c10::ScalarType::BFloat16

    static readonly Lazy<Functions> Native = new(Resolve);

    sealed class Functions
    {
        public delegate* unmanaged<sbyte, byte, void> SetEnabled;
        public delegate* unmanaged<sbyte, byte> IsEnabled;
        public delegate* unmanaged<sbyte, sbyte, void> SetDtype;
        public delegate* unmanaged<void> ClearCache;
    }

    public static Precision Parse(string value, string option = "--precision") => value.Trim().ToLowerInvariant() switch
    {
        "fp32" => Precision.Fp32,
        "bf16" => Precision.Bf16,
        _ => throw new Core.UsageException($"{option}: unknown precision '{value}' (valid: fp32, bf16)"),
    };

    public static string Name(Precision p) => p == Precision.Bf16 ? "bf16" : "fp32";

    /// <summary>
    /// Enters an autocast region for <paramref name="device"/> when <paramref name="precision"/> asks for one; disposing it
    /// leaves the region and drops the cached bf16 copies of the weights (they go stale at the next optimiser step).
    /// Regions do not nest.
    /// </summary>
    public static Region Enter(Device device, Precision precision)
    {
        if (precision == Precision.Fp32) return default;
        var f = Native.Value;
        sbyte type = device.type == DeviceType.CUDA ? CudaDevice : CpuDevice;
        if (f.IsEnabled(type) != 0) throw new InvalidOperationException("autocast regions do not nest");
        f.SetDtype(type, BFloat16);
        f.SetEnabled(type, 1);
        return new Region(type);
    }

    /// <summary>True while an autocast region is open on this thread for <paramref name="device"/>.</summary>
    public static bool IsEnabled(Device device) => Native.Value.IsEnabled(device.type == DeviceType.CUDA ? CudaDevice : CpuDevice) != 0;

    public readonly struct Region : IDisposable
    {
        readonly sbyte device;
        readonly bool open;

        internal Region(sbyte device)
        {
            this.device = device;
            open = true;
        }

        public void Dispose()
        {
            if (!open) return;
            var f = Native.Value;
            f.SetEnabled(device, 0);
            f.ClearCache();
        }
    }

    static Functions Resolve()
    {
        InitializeDeviceType(DeviceType.CPU);       // loads libtorch_cpu.so
        var library = dlopen("libtorch_cpu.so", RtldNow | RtldNoload);
        if (library == IntPtr.Zero) throw new InvalidOperationException("bf16 autocast: libtorch_cpu.so is not loaded");
        IntPtr Symbol(string mangled, string readable)
        {
            var p = dlsym(library, mangled);
            return p != IntPtr.Zero ? p : throw new InvalidOperationException($"bf16 autocast: libtorch_cpu.so does not export {readable}");
        }
        return new Functions
        {
            SetEnabled = (delegate* unmanaged<sbyte, byte, void>)Symbol("_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb", "at::autocast::set_autocast_enabled"),
            IsEnabled = (delegate* unmanaged<sbyte, byte>)Symbol("_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE", "at::autocast::is_autocast_enabled"),
            SetDtype = (delegate* unmanaged<sbyte, sbyte, void>)Symbol("_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE", "at::autocast::set_autocast_dtype"),
            ClearCache = (delegate* unmanaged<void>)Symbol("_ZN2at8autocast11clear_cacheEv", "at::autocast::clear_cache"),
        };
    }

    const int RtldNow = 2, RtldNoload = 4;
    [DllImport("libc")] static extern IntPtr dlopen(string file, int mode);
    [DllImport("libc")] static extern IntPtr dlsym(IntPtr handle, string name);
}
