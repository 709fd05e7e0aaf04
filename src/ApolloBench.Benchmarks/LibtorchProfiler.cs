using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;

namespace ApolloBench.Benchmarks;

/// <summary>One operator call libtorch's profiler recorded: its name, thread, start and duration in microseconds.</summary>
public sealed record OpEvent(string Name, long Thread, double StartUs, double DurationUs)
{
    public double EndUs => StartUs + DurationUs;
}

/// <summary>
/// libtorch's own operator profiler, reached the way <see cref="Runtime.Autocast"/> reaches autocast: TorchSharp 0.107 exposes
/// no profiler, but libtorch_cpu.so exports <c>torch::autograd::profiler::RecordProfile</c>, the RAII object behind
/// PyTorch's legacy <c>torch.autograd.profiler</c>: its constructor (taking a file name) switches the profiler on for the
/// calling thread and the autograd work it starts, its destructor switches it off and writes every operator call
/// (name, thread, start, duration) to the file as a Chrome trace. Every op TorchSharp calls goes through libtorch's
/// dispatcher, so the trace holds exactly the operators a step ran, forward and backward, with the time libtorch spent
/// inside each: what a step would cost if nothing ran between the operators.
/// </summary>
public static unsafe class LibtorchProfiler
{
    static readonly Lazy<(IntPtr Construct, IntPtr Destruct)> Native = new(Resolve);

    /// <summary>Runs <paramref name="work"/> under the profiler and returns the operator calls it made, in start order.</summary>
    public static List<OpEvent> Record(Action work)
    {
        var (construct, destruct) = Native.Value;
        var path = Path.Combine(Path.GetTempPath(), $"apollobench-profile-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        var pathBytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        // A std::string (libstdc++'s C++11 ABI, 32 bytes: data pointer, length, then capacity or an inline buffer) that points
        // at our bytes: the constructor only reads it (it opens an ofstream on c_str()), so nothing ever frees that pointer.
        var text = Marshal.AllocHGlobal(pathBytes.Length);
        var str = Marshal.AllocHGlobal(32);
        var recorder = Marshal.AllocHGlobal(64);   // RecordProfile holds a unique_ptr<ofstream> and an ostream&: 16 bytes
        try
        {
            Marshal.Copy(pathBytes, 0, text, pathBytes.Length);
            var s = (long*)str;
            s[0] = (long)text;
            s[1] = pathBytes.Length - 1;
            s[2] = pathBytes.Length - 1;
            s[3] = 0;
            new Span<byte>((void*)recorder, 64).Clear();
            ((delegate* unmanaged<IntPtr, IntPtr, void>)construct)(recorder, str);
            try { work(); }
            finally { ((delegate* unmanaged<IntPtr, void>)destruct)(recorder); }
            return Parse(File.ReadAllText(path));
        }
        finally
        {
            Marshal.FreeHGlobal(recorder);
            Marshal.FreeHGlobal(str);
            Marshal.FreeHGlobal(text);
            File.Delete(path);
        }
    }

    /// <summary>The Chrome-trace array the recorder writes: <c>[{"name", "ph": "X", "ts", "dur", "tid", ...}, ...]</c>.</summary>
    public static List<OpEvent> Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var events = new List<OpEvent>();
        foreach (var e in doc.RootElement.EnumerateArray())
            events.Add(new OpEvent(e.GetProperty("name").GetString()!, e.GetProperty("tid").GetInt64(),
                e.GetProperty("ts").GetDouble(), e.GetProperty("dur").GetDouble()));
        events.Sort((a, b) => a.StartUs != b.StartUs ? a.StartUs.CompareTo(b.StartUs) : b.DurationUs.CompareTo(a.DurationUs));
        return events;
    }

    /// <summary>
    /// The calls no other call on the same thread encloses (what the caller asked libtorch for; the nested ones are
    /// their implementation), each with the calls it encloses.
    /// </summary>
    public static List<(OpEvent Op, List<OpEvent> Children)> TopLevel(IReadOnlyList<OpEvent> events)
    {
        var result = new List<(OpEvent, List<OpEvent>)>();
        foreach (var thread in events.GroupBy(e => e.Thread))
        {
            (OpEvent Op, List<OpEvent> Children)? open = null;
            foreach (var e in thread)   // sorted by start, outer first
            {
                if (open is { } o && e.StartUs < o.Op.EndUs) { o.Children.Add(e); continue; }
                open = (e, new List<OpEvent>());
                result.Add(open.Value);
            }
        }
        result.Sort((a, b) => a.Item1.StartUs.CompareTo(b.Item1.StartUs));
        return result;
    }

    static (IntPtr, IntPtr) Resolve()
    {
        torch.InitializeDeviceType(DeviceType.CPU);
        var library = dlopen("libtorch_cpu.so", RtldNow | RtldNoload);
        if (library == IntPtr.Zero) throw new InvalidOperationException("profiler: libtorch_cpu.so is not loaded");
        IntPtr Symbol(string mangled, string readable)
        {
            var p = dlsym(library, mangled);
            return p != IntPtr.Zero ? p : throw new InvalidOperationException($"profiler: libtorch_cpu.so does not export {readable}");
        }
        return (Symbol("_ZN5torch8autograd8profiler13RecordProfileC1ERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEE", "RecordProfile(const std::string&)"),
                Symbol("_ZN5torch8autograd8profiler13RecordProfileD1Ev", "~RecordProfile()"));
    }

    const int RtldNow = 2, RtldNoload = 4;
    [DllImport("libc")] static extern IntPtr dlopen(string file, int mode);
    [DllImport("libc")] static extern IntPtr dlsym(IntPtr handle, string name);
}
