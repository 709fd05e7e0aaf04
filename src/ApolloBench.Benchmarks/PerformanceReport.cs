using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Benchmarks;

/// <summary>
/// The `bench` run: every speed and memory figure of reports/performance.md, measured in one
/// process so the figures can be compared as ratios (these machines are noisy, about +-8%).
/// </summary>
static class PerformanceReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        string outPath = Path.Combine("reports", "performance.md");
        int threads = Environment.ProcessorCount;
        bool quick = false;
        var widths = new List<int> { 256 };
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length: outPath = args[++i]; break;
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out var t) && t >= 1: threads = t; i++; break;
                case "--quick": quick = true; break;
                case "--widths" when i + 1 < args.Length:
                    var list = args[++i];
                    widths.Clear();
                    if (list != "none")
                        foreach (var item in list.Split(','))
                        {
                            if (!int.TryParse(item, NumberStyles.None, Inv, out var w) || w < 32 || w % Scale.Parse("cpu").ModelFor(Architecture.Bert).Heads != 0)
                            {
                                Console.Error.WriteLine($"error: --widths: '{item}' is not a hidden size >= 32 divisible by {Scale.Parse("cpu").ModelFor(Architecture.Bert).Heads} heads (or use 'none')");
                                return 2;
                            }
                            widths.Add(w);
                        }
                    break;
                default:
                    Console.Error.WriteLine($"error: {args[i]}: unknown or incomplete argument (valid: --out FILE, --threads N >= 1, --quick, --widths W[,W...]|none)");
                    return 2;
            }
        }
        torch.set_num_threads(threads);
        int warmup = quick ? 1 : 3, repeats = quick ? 3 : 10;
        var md = new StringBuilder();
        var now = DateTimeOffset.UtcNow;
        md.AppendLine("# Performance");
        md.AppendLine();
        md.AppendLine($"Measured {now:yyyy-MM-dd HH:mm} UTC by `bash src/ApolloBench.Benchmarks/bench.sh`, commit `{ApolloBench.Runtime.BuildInfo.ShortCommit}`, " +
                      $"{Environment.ProcessorCount} cores ({CpuName()}), {threads} torch threads, TorchSharp {typeof(torch).Assembly.GetName().Version}, device cpu. " +
                      $"Each time is the median of {repeats} steps after {warmup} warm-up steps; all ratios come from this one run.");
        md.AppendLine();

        // 1. Matmul peak (TorchSharp), PyTorch in a child process with the same thread count.
        var tsPeak = MatmulGflops();
        var unpatched = ApolloBench.Runtime.MklAmdDispatch.Active ? MatmulWithoutMklPatch(threads) : null;
        var cpu = Scale.Parse("cpu");
        var py = PyTorch(threads, cpu, quick);
        double peak = Math.Max(tsPeak, py?["matmul_gflops"]?.GetValue<double>() ?? 0);

        // 2. Depth-12 steps: tokens/s, MFU, against PyTorch.
        md.AppendLine("## Training step at cpu scale (12 layers, batch 16 x 128 tokens)");
        md.AppendLine();
        md.AppendLine($"Matmul reference (fp32 2048x2048): TorchSharp {tsPeak:F1} GFLOP/s" +
                      (py is null ? "; PyTorch not available (bench.sh installs Debian's python3-torch)." : $", PyTorch {py["torch"]} {py["matmul_gflops"]!.GetValue<double>():F1} GFLOP/s. Peak used for MFU: {peak:F1} GFLOP/s."));
        md.AppendLine();
        md.AppendLine($"MKL on AMD (`src/ApolloBench/Runtime/MklAmdDispatch.cs`): {ApolloBench.Runtime.MklAmdDispatch.Outcome}." +
                      (unpatched is { } u ? $" The same matmul in a child process with `{ApolloBench.Runtime.MklAmdDispatch.EnvironmentVariable}=off` (MKL's default path on AMD): {u:F1} GFLOP/s, so the patch buys {tsPeak / u:F2}x on it." : ""));
        md.AppendLine();
        md.AppendLine("| model | TorchSharp tokens/s | PyTorch tokens/s | TorchSharp / PyTorch | model GFLOP/s | MFU |");
        md.AppendLine("|---|---|---|---|---|---|");
        var perDepth = new Dictionary<Architecture, double[]>();
        var flopsPerDepth = new Dictionary<Architecture, double[]>();
        var parts = new Dictionary<Architecture, (StepParts One, StepParts Twelve)>();
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            using var h = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize);
            var times = h.SecondsByDepth(12, warmup, repeats);
            var flops = new double[13];
            for (int d = 1; d <= 12; d++) flops[d] = h.Flops(d).Total;
            perDepth[arch] = times;
            parts[arch] = (h.Parts(LanguageModel.IdentityPlan(1), 1, repeats), h.Parts(LanguageModel.IdentityPlan(12), 1, repeats));
            flopsPerDepth[arch] = flops;
            double tokS = h.TokensPerStep / times[12];
            double gflops = flops[12] / times[12] / 1e9;
            var pyTok = py?[arch == Architecture.Bert ? "bert" : "gpt"]?.GetValue<double>();
            md.AppendLine($"| {arch} | {tokS:N0} | {(pyTok is { } p ? p.ToString("N0", Inv) : "n/a")} | {(pyTok is { } q ? (tokS / q).ToString("F2", Inv) : "n/a")} | {gflops:F1} | {gflops / peak:P0} |");
        }
        md.AppendLine();

        // 3. Per-depth table and Apollo's wall/FLOPs saving ratio from it.
        md.AppendLine("## Step time by executed depth (plain d-layer plan)");
        md.AppendLine();
        md.AppendLine("| depth | BERT ms | BERT GFLOP/s | GPT ms | GPT GFLOP/s |");
        md.AppendLine("|---|---|---|---|---|");
        for (int d = 1; d <= 12; d++)
            md.AppendLine($"| {d} | {perDepth[Architecture.Bert][d] * 1e3:F1} | {flopsPerDepth[Architecture.Bert][d] / perDepth[Architecture.Bert][d] / 1e9:F1} | " +
                          $"{perDepth[Architecture.Gpt][d] * 1e3:F1} | {flopsPerDepth[Architecture.Gpt][d] / perDepth[Architecture.Gpt][d] / 1e9:F1} |");
        md.AppendLine();
        md.AppendLine("Apollo's expected saving over a whole budget (paper schedule [1,3,6,12] ending at 5/10/25/100%, LVPS k=0, interpolation), " +
                      "from this table: each stage's expected step time and FLOPs under the sampler's exact distribution, against Scratch's depth-12 step.");
        md.AppendLine();
        md.AppendLine("| model | FLOPs saving | wall-time saving | wall / FLOPs |");
        md.AppendLine("|---|---|---|---|");
        var savings = new Dictionary<Architecture, (double Flops, double Wall)>();
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            var (fs, ws) = savings[arch] = ExpectedSavings(perDepth[arch], flopsPerDepth[arch]);
            md.AppendLine($"| {arch} | {fs:P1} | {ws:P1} | {ws / fs:F3} |");
        }
        md.AppendLine();

        // 3b. Where the time goes: the fixed cost per step, and how it shrinks relative to the layers as width grows.
        var stepRows = new List<StepTime>();
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
            for (int d = 1; d <= 12; d++) stepRows.Add(new StepTime(arch.ToString(), cpu.ModelFor(arch).Hidden, d, perDepth[arch][d] * 1e3, flopsPerDepth[arch][d]));
        md.AppendLine("### Where a step's time goes");
        md.AppendLine();
        md.AppendLine("A straight-line fit of the table (time = fixed + per-layer x depth), and what the fixed part would cost if it ran at the layers' " +
                      "own FLOP rate: the rest of it is work the FLOPs count does not see (softmax and cross-entropy over the vocabulary, " +
                      "LayerNorm/GELU/residual passes, clipping, AdamW, framework overhead). Parts are medians of separately timed phases.");
        md.AppendLine();
        md.AppendLine("| model | fixed ms | per-layer ms | fixed at the layers' FLOP rate | FLOP-free part of the fixed ms | depth 1: fwd / bwd / clip / AdamW ms | depth 12: fwd / bwd / clip / AdamW ms |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            var (fixedMs, perLayerMs) = StepTimes.Fit(stepRows.Where(r => r.Model == arch.ToString()).ToList());
            double layerFlops = (flopsPerDepth[arch][12] - flopsPerDepth[arch][1]) / 11;
            double fixedFlops = flopsPerDepth[arch][1] - layerFlops;
            double expectedFixedMs = fixedFlops / layerFlops * perLayerMs;
            var (one, twelve) = parts[arch];
            md.AppendLine($"| {arch} | {fixedMs:F1} | {perLayerMs:F1} | {expectedFixedMs:F1} | {fixedMs - expectedFixedMs:F1} ({(fixedMs - expectedFixedMs) / fixedMs:P0}) | " +
                          $"{Parts(one)} | {Parts(twelve)} |");
        }
        md.AppendLine();
        if (widths.Count > 0)
        {
            var bert = cpu.ModelFor(Architecture.Bert);
            md.AppendLine("### Wall / FLOPs saving against width");
            md.AppendLine();
            md.AppendLine($"The same per-depth measurement at wider models (heads {bert.Heads}, vocabulary {bert.Vocab}, batch {cpu.TrainFor(Architecture.Bert).BatchSize} x {bert.SeqLen}; " +
                          $"{Math.Max(3, repeats / 2)} rounds): the layers grow with h² while the head grows with h, so the fixed cost's share, and with it the gap " +
                          "between Apollo's wall-time and FLOPs savings, should shrink towards the gpu and paper scales.");
            md.AppendLine();
            md.AppendLine("| model | hidden | depth-1 ms | depth-12 ms | FLOPs saving | wall-time saving | wall / FLOPs |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
            {
                var (fs0, ws0) = savings[arch];
                md.AppendLine($"| {arch} | {cpu.ModelFor(arch).Hidden} | {perDepth[arch][1] * 1e3:F1} | {perDepth[arch][12] * 1e3:F1} | {fs0:P1} | {ws0:P1} | {ws0 / fs0:F3} |");
                foreach (var width in widths)
                {
                    var config = cpu.ModelFor(arch) with { Hidden = width };
                    using var h = new StepHarness(config, cpu.TrainFor(arch).BatchSize);
                    var times = h.SecondsByDepth(12, 1, Math.Max(3, repeats / 2));
                    var flops = new double[13];
                    for (int d = 1; d <= 12; d++)
                    {
                        flops[d] = h.Flops(d).Total;
                        stepRows.Add(new StepTime(arch.ToString(), width, d, times[d] * 1e3, flops[d]));
                    }
                    var (fs, ws) = ExpectedSavings(times, flops);
                    md.AppendLine($"| {arch} | {width} | {times[1] * 1e3:F1} | {times[12] * 1e3:F1} | {fs:P1} | {ws:P1} | {ws / fs:F3} |");
                }
            }
            md.AppendLine();
        }
        var stepTimesPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, "step-times-cpu.csv");
        var violations = StepTimes.Violations(stepRows);
        md.AppendLine($"Every per-depth time above is in `{Path.GetFileName(stepTimesPath)}`; a test holds the committed table to rising with depth. " +
                      (violations.Count == 0 ? "This measurement passes that check." : $"**This measurement fails it** ({string.Join("; ", violations)}): re-run on a quiet machine."));
        md.AppendLine();

        // 4. Weight-sharing overhead: 3 weights interpolated to depth d against d plain layers.
        md.AppendLine("## Weight-sharing overhead (Apollo plan with 3 weights vs a plain d-layer plan, same depth)");
        md.AppendLine();
        md.AppendLine($"Steps alternate plain / shared, {(quick ? 5 : 21)} pairs; times are medians, the overhead is the median of the pairs' ratios.");
        md.AppendLine();
        md.AppendLine("| model | depth | plain ms | shared ms | overhead |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            using var h = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize);
            foreach (var d in new[] { 6, 12 })
            {
                // Alternate single steps and take the median of the pairwise ratios: drift and load bursts hit both sides alike.
                var (plain, shared, ratio) = h.PairedSeconds(LanguageModel.IdentityPlan(d), LayerMapping.Interpolate(3, d), warmup, quick ? 5 : 21);
                md.AppendLine($"| {arch} | {d} | {plain * 1e3:F1} | {shared * 1e3:F1} | {ratio - 1:+0.0%;-0.0%} |");
            }
        }
        md.AppendLine();

        // 5. Memory and leaks.
        md.AppendLine("## Memory");
        md.AppendLine();
        md.AppendLine("Each row is a fresh process (this program's `memory-probe`), so no row inherits another's peak: resident memory once torch is " +
                      "loaded, then the process's peak after building the model and running 5 depth-12 training steps.");
        md.AppendLine();
        md.AppendLine("| scale | model | parameters | RSS with torch loaded | peak RSS after 5 steps | the model's share |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var scale in new[] { Scale.Parse("smoke"), Scale.Parse("cpu") })
            foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
            {
                var probe = MemoryProbe(scale.Name, arch, threads);
                md.AppendLine(probe is { } m
                    ? $"| {scale.Name} | {arch} | {m.Parameters:N0} | {m.Baseline / 1048576.0:N0} MiB | {m.Peak / 1048576.0:N0} MiB | {(m.Peak - m.Baseline) / 1048576.0:N0} MiB |"
                    : $"| {scale.Name} | {arch} | - | probe failed | - | - |");
            }
        md.AppendLine();
        md.AppendLine("gpu and paper scales are measured on GPU runners (`--device cuda`), not here.");
        md.AppendLine();
        int leakSteps = quick ? 200 : 1000;
        using (var h = new StepHarness(Scale.Parse("smoke").ModelFor(Architecture.Bert), Scale.Parse("smoke").TrainFor(Architecture.Bert).BatchSize))
        {
            var rng = new Core.Rng(3);
            long liveAt100 = 0, rssAt100 = 0;
            for (int i = 0; i < leakSteps; i++)
            {
                h.Step(LayerMapping.Interpolate(3, 3 + rng.NextInt(10)));
                if (i == 99) { liveAt100 = Live(); rssAt100 = Rss(); }
            }
            md.AppendLine($"Leak check, {leakSteps} Apollo-style steps at smoke scale (random depth 3..12): live tensors {liveAt100} after 100 steps, " +
                          $"{Live()} after {leakSteps}; resident memory {rssAt100 / 1048576.0:N0} -> {Rss() / 1048576.0:N0} MiB.");
        }
        md.AppendLine();

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        StepTimes.Write(stepTimesPath, stepRows);
        RunFiles.Atomic(outPath, p => File.WriteAllText(p, md.ToString()));
        Console.WriteLine(md.ToString());
        Console.WriteLine($"written: {Path.GetFullPath(outPath)}");
        return 0;
    }

    static double? MatmulWithoutMklPatch(int threads)
    {
        var (exit, stdout, _) = RunSelf(ApolloBench.Runtime.MklAmdDispatch.EnvironmentVariable, "off", "matmul", threads.ToString(Inv));
        var m = System.Text.RegularExpressions.Regex.Match(stdout, @": ([0-9.]+) GFLOP/s");
        return exit == 0 && m.Success ? double.Parse(m.Groups[1].Value, Inv) : null;
    }

    /// <summary>Runs this program again in a fresh process (one environment variable set when named), for figures that
    /// must not inherit this process's state: its peak memory, or MKL's kernel choice.</summary>
    static (int Exit, string Stdout, string Stderr) RunSelf(string? variable, string? value, params string[] args)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(PerformanceReport).Assembly.Location);
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (variable is not null) psi.Environment[variable] = value;
        using var p = Process.Start(psi)!;
        var stderrTask = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        var stderr = stderrTask.Result;
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr);
    }

    /// <summary>`matmul [THREADS]`: the fp32 2048 matmul rate alone, for checking BLAS settings.</summary>
    public static int RunMatmul(string[] args)
    {
        int threads = Environment.ProcessorCount;
        if (args.Length > 1 || (args.Length == 1 && !(int.TryParse(args[0], NumberStyles.None, Inv, out threads) && threads >= 1)))
        {
            Console.Error.WriteLine($"error: matmul [THREADS]: '{string.Join(' ', args)}' is not one thread count >= 1");
            return 2;
        }
        ApolloBench.Runtime.MklAmdDispatch.EnsureApplied();
        torch.set_num_threads(threads);
        Console.WriteLine($"fp32 mm 2048, {threads} threads: {MatmulGflops():F1} GFLOP/s (MKL on AMD: {ApolloBench.Runtime.MklAmdDispatch.Outcome})");
        return 0;
    }

    /// <summary>
    /// `precision [SCALE] [THREADS] [PAIRS]`: one fp32 and one bf16 training step of the 12-layer BERT and GPT of a scale
    /// (dropout 0.1), alternated PAIRS times so a burst of load from elsewhere hits both alike; prints the median seconds
    /// of each and the median of the per-pair ratios.
    /// </summary>
    public static int RunPrecision(string[] args)
    {
        var scale = Scale.Parse(args.Length > 0 ? args[0] : "cpu");
        int threads = args.Length > 1 ? int.Parse(args[1], Inv) : Environment.ProcessorCount;
        int pairs = args.Length > 2 ? int.Parse(args[2], Inv) : 30;
        double dropout = args.Length > 3 ? double.Parse(args[3], Inv) : 0.1;
        ApolloBench.Runtime.MklAmdDispatch.EnsureApplied();
        torch.set_num_threads(threads);
        foreach (var arch in new[] { Architecture.Bert, Architecture.Gpt })
        {
            var batch = scale.TrainFor(arch).BatchSize;
            using var fp32 = new StepHarness(scale.ModelFor(arch), batch, precision: ApolloBench.Runtime.Precision.Fp32, dropout: dropout);
            using var bf16 = new StepHarness(scale.ModelFor(arch), batch, precision: ApolloBench.Runtime.Precision.Bf16, dropout: dropout);
            var plan = LanguageModel.IdentityPlan(12);
            for (int i = 0; i < 3; i++) { fp32.Step(plan); bf16.Step(plan); }
            var a = new double[pairs];
            var b = new double[pairs];
            var r = new double[pairs];
            for (int i = 0; i < pairs; i++)
            {
                a[i] = fp32.Seconds(plan);
                b[i] = bf16.Seconds(plan);
                r[i] = b[i] / a[i];
            }
            static double Median(double[] v) { var s = (double[])v.Clone(); Array.Sort(s); return s[s.Length / 2]; }
            Console.WriteLine(string.Create(Inv, $"{scale.Name} {arch} depth 12, dropout {dropout}, {threads} threads, {pairs} pairs: fp32 {Median(a):F4} s, bf16 {Median(b):F4} s, bf16/fp32 {Median(r):F3}"));
            foreach (var (name, h) in new[] { ("fp32", fp32), ("bf16", bf16) })
            {
                var parts = h.Parts(plan, 1, Math.Max(5, pairs / 3));
                Console.WriteLine(string.Create(Inv, $"  {name}: forward {parts.Forward:F1} ms, backward {parts.Backward:F1} ms, clip {parts.Clip:F1} ms, adamw {parts.Optimizer:F1} ms"));
            }
        }
        return 0;
    }

    /// <summary>The child side of <see cref="MemoryProbe"/>: prints "parameters baselineBytes peakBytes".</summary>
    public static int RunMemoryProbe(string[] args)
    {
        if (args.Length != 3 || !int.TryParse(args[2], out var threads) || !Enum.TryParse<Architecture>(args[1], true, out var arch))
        {
            Console.Error.WriteLine("error: memory-probe SCALE MODEL THREADS (e.g. memory-probe cpu bert 2)");
            return 2;
        }
        var scale = Scale.Parse(args[0]);
        torch.set_num_threads(threads);
        using (torch.ones(1)) { }
        long baseline = Rss();
        using var h = new StepHarness(scale.ModelFor(arch), scale.TrainFor(arch).BatchSize);
        for (int i = 0; i < 5; i++) h.Step(LanguageModel.IdentityPlan(12));
        var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"{h.Model.ParameterCount()} {baseline} {self.PeakWorkingSet64}");
        return 0;
    }

    static (long Parameters, long Baseline, long Peak)? MemoryProbe(string scale, Architecture arch, int threads)
    {
        var (exit, stdout, stderr) = RunSelf(null, null, "memory-probe", scale, arch.ToString(), threads.ToString(Inv));
        var parts = stdout.Trim().Split('\n')[^1].Split(' ');
        if (exit != 0 || parts.Length != 3)
        {
            Console.Error.WriteLine($"memory probe {scale} {arch} failed: {stderr.Trim()}");
            return null;
        }
        return (long.Parse(parts[0], Inv), long.Parse(parts[1], Inv), long.Parse(parts[2], Inv));
    }

    static string Parts(StepParts p) => $"{p.Forward:F0} / {p.Backward:F0} / {p.Clip:F0} / {p.Optimizer:F0}";

    static long Live() => DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount;
    static long Rss() { var p = Process.GetCurrentProcess(); p.Refresh(); return p.WorkingSet64; }

    /// <summary>Expected (FLOPs saving, wall saving) of Apollo over a whole budget, from per-depth costs.</summary>
    static (double Flops, double Wall) ExpectedSavings(double[] seconds, double[] flops)
    {
        var schedule = StageSchedule.Paper(12);
        var sampler = DepthSampler.Create("lvps", null);
        return (CostModel.Saving(schedule, sampler, flops), CostModel.Saving(schedule, sampler, seconds));
    }

    /// <summary>The best of three timed batches of ten 2048 matmuls: a peak, so the best batch is the right one to keep
    /// (right after `dotnet run` has built, the build server can still be busy for a few seconds).</summary>
    static double MatmulGflops()
    {
        using var a = torch.randn(2048, 2048);
        using var b = torch.randn(2048, 2048);
        a.mm(b).Dispose();
        double best = 0;
        for (int round = 0; round < 3; round++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 10; i++) a.mm(b).Dispose();
            best = Math.Max(best, 2.0 * Math.Pow(2048, 3) * 10 / sw.Elapsed.TotalSeconds / 1e9);
        }
        return best;
    }

    static JsonNode? PyTorch(int threads, Scale cpu, bool quick)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "pytorch_step.py");
        var m = cpu.ModelFor(Architecture.Bert);
        var cfg = new JsonObject
        {
            ["threads"] = threads, ["layers"] = 12, ["hidden"] = m.Hidden, ["heads"] = m.Heads, ["vocab"] = m.Vocab,
            ["seq"] = m.SeqLen, ["batch"] = cpu.TrainFor(Architecture.Bert).BatchSize, ["steps"] = quick ? 3 : 10, ["warmup"] = quick ? 1 : 3,
        };
        try
        {
            // Debian's PyTorch lives under the system interpreter, which a pyenv or venv python3 on PATH would hide.
            var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
            var psi = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(script);
            psi.ArgumentList.Add(cfg.ToJsonString());
            // OpenBLAS reads these; ENVIRONMENT.md: leave the machine's settings alone except for this comparison.
            psi.Environment.Remove("OPENBLAS_CORETYPE");
            psi.Environment.Remove("OPENBLAS_L2_SIZE");
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) { Console.Error.WriteLine($"pytorch comparison failed: {stderr.Trim().Split('\n').LastOrDefault()}"); return null; }
            return JsonNode.Parse(stdout.Trim().Split('\n')[^1]);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"pytorch comparison unavailable: {e.Message}");
            return null;
        }
    }

    static string CpuName()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
            return line is null ? "unknown cpu" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return "unknown cpu"; }
    }
}
