using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using ApolloBench.Experiments;
using ApolloBench.Growth;
using ApolloBench.Models;
using ApolloBench.Runtime;
using ApolloBench.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace ApolloBench.Benchmarks;

/// <summary>
/// The `bench` run: every speed and memory figure of reports/performance.md, measured in one
/// process so the figures can be compared as ratios (these machines are noisy, about +-8%).
/// What is compared is alternated step by step (precisions, dropout, plans) or round-robin (depths), so a burst of load
/// from elsewhere lands on both sides alike.
/// </summary>
static class PerformanceReport
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    static readonly Architecture[] Models = [Architecture.Bert, Architecture.Gpt];
    static readonly Precision[] Precisions = [Precision.Fp32, Precision.Bf16];
    static readonly Stopwatch Clock = Stopwatch.StartNew();

    /// <summary>A difference with its sign always written (a value that rounds to zero is +0.000).</summary>
    static string Signed(double v, int decimals)
    {
        var r = Math.Round(v, decimals);
        return (r >= 0 ? "+" : "") + (r == 0 ? 0.0 : r).ToString("F" + decimals, Inv);
    }

    static void Progress(string section) => Console.Error.WriteLine($"bench: {Clock.Elapsed:hh\\:mm\\:ss} {section}");

    /// <summary>The paragraph that states the bench's evidence for the cpu scale's precision; the decision itself lives in reports/scales.md.</summary>
    public const string DecisionBegin = "<!-- precision decision: the bench's evidence begin -->", DecisionEnd = "<!-- precision decision: the bench's evidence end -->";

    public static int Run(string[] args)
    {
        string outPath = Path.Combine("reports", "performance.md");
        string cache = ReproduceOptions.DefaultCache();
        int threads = Environment.ProcessorCount, lossSteps = 200;
        bool quick = false;
        var widths = new List<int> { 256 };
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length: outPath = args[++i]; break;
                case "--cache" when i + 1 < args.Length: cache = args[++i]; break;
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out var t) && t >= 1: threads = t; i++; break;
                case "--loss-steps" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, Inv, out var s): lossSteps = s; i++; break;
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
                    Console.Error.WriteLine($"error: {args[i]}: unknown or incomplete argument (valid: --out FILE, --threads N >= 1, --quick, --widths W[,W...]|none, --loss-steps N (0: none), --cache DIR)");
                    return 2;
            }
        }
        MklAmdDispatch.EnsureApplied();
        torch.set_num_threads(threads);
        int warmup = quick ? 1 : 3, repeats = quick ? 3 : 10, pairs = quick ? 5 : 20;
        if (quick) lossSteps = Math.Min(lossSteps, 20);
        var cpu = Scale.Parse("cpu");
        double dropout = cpu.TrainFor(Architecture.Bert).Dropout;
        var md = new StringBuilder();
        var now = DateTimeOffset.UtcNow;
        var loadBefore = MachineLoad.Describe();
        Console.Error.WriteLine($"bench: {loadBefore}");
        md.AppendLine("# Performance");
        md.AppendLine();
        md.AppendLine($"Measured {now:yyyy-MM-dd HH:mm} UTC by `bash src/ApolloBench.Benchmarks/bench.sh`, commit `{BuildInfo.ShortCommit}`, " +
                      $"{Environment.ProcessorCount} cores ({CpuName()}), {threads} torch threads, TorchSharp {typeof(torch).Assembly.GetName().Version}, device cpu. " +
                      $"Training steps run as the cpu scale trains them: dropout {dropout.ToString("0.##", Inv)} (masks reseeded every step), AdamW, clipping; " +
                      $"fp32 or bf16 mixed precision (`--precision`, libtorch's own autocast: `src/ApolloBench/Runtime/Autocast.cs`). " +
                      $"Each time is a median over steps after warm-up; whatever is compared (precisions, dropout, plans, depths) is alternated step by step in this one " +
                      $"process, so load from elsewhere lands on both sides, and ratios are given with their interquartile range over the pairs. " +
                      $"This machine is shared: **niced long training runs and other developers' builds ran beside this measurement** (at the start: {loadBefore}; at the end: LOAD_AFTER).");
        md.AppendLine();

        Progress("matmul rates");
        // 1. Matmul rates in both precisions: the shapes the models run, squares for context. PyTorch's fp32 peak as a second opinion.
        var bertConfig = cpu.ModelFor(Architecture.Bert);
        int batch = cpu.TrainFor(Architecture.Bert).BatchSize;
        int bertPredicted;
        using (var probe = new StepHarness(bertConfig, batch)) bertPredicted = probe.Predicted;
        var rates = MatmulRates.Measure(MatmulRates.Shapes(bertConfig, batch, bertPredicted, [128, 256, 512, 1024, 2048]), quick ? 2 : 5);
        var unpatched = MklAmdDispatch.Active ? MatmulWithoutMklPatch(threads) : null;
        var py = PyTorch(threads, cpu, quick, dropout);
        double pyPeak = py?["matmul_gflops"]?.GetValue<double>() ?? 0;
        var peak = new Dictionary<Precision, double>
        {
            [Precision.Fp32] = Math.Max(rates.Max(r => r.Fp32), pyPeak),
            [Precision.Bf16] = rates.Max(r => r.Bf16),
        };
        md.AppendLine("## Matmul rates, fp32 and bf16");
        md.AppendLine();
        md.AppendLine($"The products one cpu-scale training step runs ((B·T) = {batch} x {bertConfig.SeqLen} rows, h = {bertConfig.Hidden}, 4h = {bertConfig.Ffn}, V = {bertConfig.Vocab}, " +
                      $"{bertConfig.Heads} heads of {bertConfig.Hidden / bertConfig.Heads}), as the layers call them (`F.linear` with an [out, in] weight; batched `matmul` for attention), " +
                      $"and square ones for context. bf16 is what autocast hands the kernels: both operands bf16, fp32 accumulation. Best of {(quick ? 2 : 5)} timed batches of about 20 ms, " +
                      "fp32 and bf16 alternated.");
        md.AppendLine();
        md.AppendLine("| product (M x K x N) | where | fp32 GFLOP/s | bf16 GFLOP/s | bf16 / fp32 |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var r in rates)
            md.AppendLine($"| {r.Shape.Name} | {r.Shape.Where} | {r.Fp32:F1} | {r.Bf16:F1} | {r.Bf16 / r.Fp32:F2} |");
        md.AppendLine();
        var best32 = rates.MaxBy(r => r.Fp32)!;
        var best16 = rates.MaxBy(r => r.Bf16)!;
        md.AppendLine($"Best measured matmul, the reference for model FLOPs utilisation (MFU) below: fp32 {peak[Precision.Fp32]:F1} GFLOP/s " +
                      (pyPeak > best32.Fp32 ? $"(PyTorch {py!["torch"]}'s 2048 square with OpenBLAS; TorchSharp's best is {best32.Fp32:F1}, {best32.Shape.Name})" : $"({best32.Shape.Name})") +
                      $", bf16 {peak[Precision.Bf16]:F1} GFLOP/s ({best16.Shape.Name}). " +
                      $"MKL on AMD (`src/ApolloBench/Runtime/MklAmdDispatch.cs`): {MklAmdDispatch.Outcome}." +
                      (unpatched is { } u ? $" The fp32 2048 square in a child process with `{MklAmdDispatch.EnvironmentVariable}=off` (MKL's default path on AMD): {u:F1} GFLOP/s." : ""));
        md.AppendLine();

        Progress("depth-12 steps, fp32 vs bf16");
        // 2. The depth-12 step in both precisions, alternated.
        md.AppendLine("## Training step at cpu scale (12 layers, batch 16 x 128 tokens), fp32 and bf16");
        md.AppendLine();
        md.AppendLine($"One fp32 step, a batch of the best fp32 matmul, one bf16 step and a batch of the best bf16 matmul, alternated: {pairs} rounds after {warmup} warm-up rounds. " +
                      "The bf16 / fp32 ratio is the median of the rounds' ratios (interquartile range in brackets). MFU is the step's counted FLOPs per second against the best " +
                      "measured matmul of the same precision, two ways: against the peak above (the best batch of the whole run), and against the batch timed beside each step " +
                      "(the median of the rounds' ratios: load from elsewhere slows the step and its matmul alike, so this one holds on a busy machine).");
        md.AppendLine();
        md.AppendLine("| model | precision | ms / step | tokens/s | model GFLOP/s | MFU against the peak | MFU against the matmul beside each step | bf16 / fp32 step time |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        var depth12 = new Dictionary<(Architecture, Precision), double>();
        var pairedMfu = new Dictionary<(Architecture, Precision), double>();
        var flops12 = new Dictionary<Architecture, double>();
        var precisionRatio = new Dictionary<Architecture, PairedTimes>();
        using (var probe32 = new MatmulRates.Probe(best32.Shape, bf16: false))
        using (var probe16 = new MatmulRates.Probe(best16.Shape, bf16: true))
            foreach (var arch in Models)
            {
                using var a = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: Precision.Fp32, dropout: dropout);
                using var b = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: Precision.Bf16, dropout: dropout);
                var plan = LanguageModel.IdentityPlan(12);
                flops12[arch] = a.Flops(12).Total;
                var rounds = StepHarness.Rounds(pairs, warmup, () => a.Seconds(plan), () => probe32.Gflops(), () => b.Seconds(plan), () => probe16.Gflops());
                var (t32, m32, t16, m16) = (rounds[0], rounds[1], rounds[2], rounds[3]);
                var paired = precisionRatio[arch] = StepHarness.PairedTimes(t32, t16);
                depth12[(arch, Precision.Fp32)] = paired.A;
                depth12[(arch, Precision.Bf16)] = paired.B;
                pairedMfu[(arch, Precision.Fp32)] = StepHarness.Median(t32.Select((t, i) => flops12[arch] / t / 1e9 / m32[i]).ToArray());
                pairedMfu[(arch, Precision.Bf16)] = StepHarness.Median(t16.Select((t, i) => flops12[arch] / t / 1e9 / m16[i]).ToArray());
                foreach (var p in Precisions)
                {
                    double seconds = depth12[(arch, p)], gflops = flops12[arch] / seconds / 1e9;
                    md.AppendLine($"| {arch} | {Autocast.Name(p)} | {seconds * 1e3:F1} | {a.TokensPerStep / seconds:N0} | {gflops:F1} | {gflops / peak[p]:P0} | {pairedMfu[(arch, p)]:P0} | " +
                                  (p == Precision.Bf16 ? $"{paired.Ratio:F3} ({paired.RatioQ1:F3}-{paired.RatioQ3:F3}) |" : "|"));
                }
            }
        md.AppendLine();
        if (py is not null)
        {
            md.AppendLine($"For reference, the same fp32 steps (dropout {dropout.ToString("0.##", Inv)} at the same sites) in Debian's PyTorch {py["torch"]} in a child process, same thread count: " +
                          $"BERT {py["bert"]!.GetValue<double>():N0} tokens/s, GPT {py["gpt"]!.GetValue<double>():N0} tokens/s. That build does not vectorise its elementwise kernels, " +
                          "so it is no fair anchor; the next sections measure the suite against libtorch itself instead.");
            md.AppendLine();
        }

        Progress("loss after the same number of steps");
        // 3. The loss after the same number of steps in both precisions, with a second fp32 seed for scale.
        if (lossSteps > 0) md.Append(LossSection(cpu, lossSteps, threads, cache, precisionRatio));

        Progress("per-phase anchor (libtorch profiler)");
        // 4. Against libtorch itself: each part of the step against the operators it ran, and the operators by kind.
        md.AppendLine("## Against libtorch itself: where a depth-12 step's time goes");
        md.AppendLine();
        md.AppendLine("No newer PyTorch can be installed here, so the anchor is libtorch's own time: the step in six parts (forward through the layers; the head and loss; " +
                      "backward through the head, then through the layers from the gradient the head left on the final hidden states (the chain rule split at one tensor: " +
                      "the same kernels as one backward call); clipping; AdamW), each timed as it runs, against the time libtorch spent inside the operators that part called, " +
                      "recorded by libtorch's own profiler (`torch::autograd::profiler::RecordProfile`, reached through its exported symbols: `src/ApolloBench.Benchmarks/LibtorchProfiler.cs`). " +
                      "\"Outside libtorch\" is the rest of the same profiled steps: .NET, TorchSharp's calls into the native library, dispose scopes, the autograd engine's scheduling " +
                      "between nodes (and the profiler's own bookkeeping, which the difference between the step and the step under the profiler bounds). " +
                      $"Medians of {repeats} timed and {(quick ? 2 : 5)} profiled steps; the kinds' shares are of the step under the profiler.");
        md.AppendLine();
        var anchors = new Dictionary<(Architecture, Precision), PhaseAnchor.Result>();
        foreach (var arch in Models)
            foreach (var p in Precisions)
            {
                using var h = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: p, dropout: dropout);
                var plan = LanguageModel.IdentityPlan(12);
                for (int i = 0; i < warmup; i++) h.Step(plan);
                anchors[(arch, p)] = PhaseAnchor.Measure(h, plan, repeats, quick ? 2 : 5);
            }
        foreach (var arch in Models)
        {
            md.AppendLine($"### {arch}: the step's parts against the operators they ran (ms)");
            md.AppendLine();
            md.AppendLine("| part | fp32 step | fp32 under the profiler | fp32 in libtorch's operators | fp32 outside libtorch | bf16 step | bf16 under the profiler | bf16 in libtorch's operators | bf16 outside libtorch |");
            md.AppendLine("|---|---|---|---|---|---|---|---|---|");
            var a = anchors[(arch, Precision.Fp32)];
            var b = anchors[(arch, Precision.Bf16)];
            string Cells(PhaseAnchor.Result r, int k) => $"{r.WallMs[k]:F1} | {r.ProfiledMs[k]:F1} | {r.OpsMs[k]:F1} | {r.OutsideMs[k]:F1}";
            for (int k = 0; k < StepHarness.PhaseNames.Length; k++)
                md.AppendLine($"| {StepHarness.PhaseNames[k]} | {Cells(a, k)} | {Cells(b, k)} |");
            string Total(PhaseAnchor.Result r) => $"**{r.StepMs:F1}** | **{r.ProfiledTotalMs:F1}** | **{r.OpsTotalMs:F1}** ({r.OpsTotalMs / r.ProfiledTotalMs:P0}) | **{r.OutsideTotalMs:F1}** ({r.OutsideTotalMs / r.ProfiledTotalMs:P0})";
            md.AppendLine($"| whole step | {Total(a)} | {Total(b)} |");
            md.AppendLine();
            md.AppendLine($"### {arch}: the operators by kind (ms per step, forward / backward)");
            md.AppendLine();
            md.AppendLine("| kind | fp32 forward | fp32 backward | fp32 share of the step | bf16 forward | bf16 backward | bf16 share of the step |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            for (int k = 0; k < PhaseAnchor.Kinds.Length; k++)
                md.AppendLine($"| {PhaseAnchor.Kinds[k]} | {a.ForwardMs[k]:F1} | {a.BackwardMs[k]:F1} | {a.Kind(k) / a.ProfiledTotalMs:P0} | {b.ForwardMs[k]:F1} | {b.BackwardMs[k]:F1} | {b.Kind(k) / b.ProfiledTotalMs:P0} |");
            md.AppendLine($"| outside libtorch (under the profiler) | | | {a.OutsideTotalMs / a.ProfiledTotalMs:P0} | | | {b.OutsideTotalMs / b.ProfiledTotalMs:P0} |");
            md.AppendLine();
        }
        md.AppendLine("Backward times are the autograd engine's per-node times: a node's time includes adding its output gradients into the buffers of the nodes it feeds " +
                      "(where a tensor is used more than once). A linear layer's backward is its matmuls (`MmBackward0`) plus its bias gradient (a sum, `AddBackward0`, counted with the adds). " +
                      "Attention dropout is told from other dropout by position: forward, the `aten::dropout` inside `scaled_dot_product_attention`; backward, the mask multiplication that feeds the softmax's backward.");
        md.AppendLine();
        md.Append(MfuSection(anchors, depth12, pairedMfu, flops12, peak));

        Progress("dropout");
        // 5. What dropout costs, and what cheaper masks would save.
        md.Append(DropoutSection(cpu, dropout, warmup, quick ? 4 : 12, repeats, anchors));

        Progress("step time by depth");
        // 6. Per-depth step times in both precisions, round-robin, and Apollo's expected savings from them.
        md.AppendLine("## Step time by executed depth (plain d-layer plan), fp32 and bf16");
        md.AppendLine();
        md.AppendLine($"Round-robin: every round times one step at every depth in both precisions ({repeats} rounds); medians. Dropout {dropout.ToString("0.##", Inv)}.");
        md.AppendLine();
        md.AppendLine("| depth | BERT fp32 ms | BERT bf16 ms | BERT fp32 GFLOP/s | BERT bf16 GFLOP/s | GPT fp32 ms | GPT bf16 ms | GPT fp32 GFLOP/s | GPT bf16 GFLOP/s |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        var perDepth = new Dictionary<(Architecture, Precision), double[]>();
        var flopsPerDepth = new Dictionary<Architecture, double[]>();
        foreach (var arch in Models)
        {
            using var a = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: Precision.Fp32, dropout: dropout);
            using var b = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: Precision.Bf16, dropout: dropout);
            var times = StepHarness.SecondsByDepth([a, b], 12, warmup, repeats);
            perDepth[(arch, Precision.Fp32)] = times[0];
            perDepth[(arch, Precision.Bf16)] = times[1];
            flopsPerDepth[arch] = Enumerable.Range(0, 13).Select(d => d == 0 ? 0 : a.Flops(d).Total).ToArray();
        }
        for (int d = 1; d <= 12; d++)
        {
            string Cells(Architecture arch) =>
                $"{perDepth[(arch, Precision.Fp32)][d] * 1e3:F1} | {perDepth[(arch, Precision.Bf16)][d] * 1e3:F1} | " +
                $"{flopsPerDepth[arch][d] / perDepth[(arch, Precision.Fp32)][d] / 1e9:F1} | {flopsPerDepth[arch][d] / perDepth[(arch, Precision.Bf16)][d] / 1e9:F1}";
            md.AppendLine($"| {d} | {Cells(Architecture.Bert)} | {Cells(Architecture.Gpt)} |");
        }
        md.AppendLine();
        md.AppendLine("Apollo's expected saving over a whole budget (paper schedule [1,3,6,12] ending at 5/10/25/100%, LVPS k=0, interpolation), " +
                      "from this table: each stage's expected step time and FLOPs under the sampler's exact distribution, against Scratch's depth-12 step.");
        md.AppendLine();
        md.AppendLine("| model | precision | FLOPs saving | wall-time saving | wall / FLOPs |");
        md.AppendLine("|---|---|---|---|---|");
        var savings = new Dictionary<Architecture, (double Flops, double Wall)>();
        foreach (var arch in Models)
            foreach (var p in Precisions)
            {
                var (fs, ws) = ExpectedSavings(perDepth[(arch, p)], flopsPerDepth[arch]);
                if (p == cpu.TrainFor(arch).PrecisionMode) savings[arch] = (fs, ws);
                md.AppendLine($"| {arch} | {Autocast.Name(p)} | {fs:P1} | {ws:P1} | {ws / fs:F3} |");
            }
        md.AppendLine();

        // 6b. Where the time goes by depth (the cpu scale's own precision): the fixed cost per step, and how it shrinks as width grows.
        var stepRows = new List<StepTime>();
        foreach (var arch in Models)
            for (int d = 1; d <= 12; d++)
                stepRows.Add(new StepTime(arch.ToString(), cpu.ModelFor(arch).Hidden, d, perDepth[(arch, cpu.TrainFor(arch).PrecisionMode)][d] * 1e3, flopsPerDepth[arch][d]));
        md.AppendLine($"### Fixed and per-layer cost ({string.Join(", ", Models.Select(m => $"{m} {cpu.TrainFor(m).Precision}"))}, the cpu scale's precision)");
        md.AppendLine();
        md.AppendLine("A straight-line fit of the table (time = fixed + per-layer x depth), and what the fixed part would cost if it ran at the layers' " +
                      "own FLOP rate: the rest of it is work the FLOPs count does not see (softmax and cross-entropy over the vocabulary, " +
                      "LayerNorm/GELU/residual passes, clipping, AdamW, framework overhead).");
        md.AppendLine();
        md.AppendLine("| model | fixed ms | per-layer ms | fixed at the layers' FLOP rate | FLOP-free part of the fixed ms |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var arch in Models)
        {
            var (fixedMs, perLayerMs) = StepTimes.Fit(stepRows.Where(r => r.Model == arch.ToString()).ToList());
            double layerFlops = (flopsPerDepth[arch][12] - flopsPerDepth[arch][1]) / 11;
            double fixedFlops = flopsPerDepth[arch][1] - layerFlops;
            double expectedFixedMs = fixedFlops / layerFlops * perLayerMs;
            md.AppendLine($"| {arch} | {fixedMs:F1} | {perLayerMs:F1} | {expectedFixedMs:F1} | {fixedMs - expectedFixedMs:F1} ({(fixedMs - expectedFixedMs) / fixedMs:P0}) |");
        }
        md.AppendLine();
        if (widths.Count > 0)
        {
            var bert = cpu.ModelFor(Architecture.Bert);
            md.AppendLine("### Wall / FLOPs saving against width");
            md.AppendLine();
            md.AppendLine($"The same per-depth measurement at wider models in the cpu scale's precision (heads {bert.Heads}, vocabulary {bert.Vocab}, batch {cpu.TrainFor(Architecture.Bert).BatchSize} x {bert.SeqLen}; " +
                          $"{Math.Max(3, repeats / 2)} rounds): the layers grow with h² while the head grows with h, so the fixed cost's share, and with it the gap " +
                          "between Apollo's wall-time and FLOPs savings, should shrink towards the gpu and paper scales.");
            md.AppendLine();
            md.AppendLine("| model | hidden | depth-1 ms | depth-12 ms | FLOPs saving | wall-time saving | wall / FLOPs |");
            md.AppendLine("|---|---|---|---|---|---|---|");
            foreach (var arch in Models)
            {
                var own = cpu.TrainFor(arch).PrecisionMode;
                var (fs0, ws0) = savings[arch];
                md.AppendLine($"| {arch} | {cpu.ModelFor(arch).Hidden} | {perDepth[(arch, own)][1] * 1e3:F1} | {perDepth[(arch, own)][12] * 1e3:F1} | {fs0:P1} | {ws0:P1} | {ws0 / fs0:F3} |");
                foreach (var width in widths)
                {
                    var config = cpu.ModelFor(arch) with { Hidden = width };
                    using var h = new StepHarness(config, cpu.TrainFor(arch).BatchSize, precision: own, dropout: dropout);
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
        md.AppendLine($"The per-depth times in the cpu scale's precision are in `{Path.GetFileName(stepTimesPath)}`; a test holds the committed table to rising with depth. " +
                      (violations.Count == 0 ? "This measurement passes that check." : $"**This measurement fails it** ({string.Join("; ", violations)}): re-run on a quiet machine."));
        md.AppendLine();

        Progress("weight sharing");
        // 7. Weight-sharing overhead: 3 weights interpolated to depth d against d plain layers.
        md.AppendLine("## Weight-sharing overhead (Apollo plan with 3 weights vs a plain d-layer plan, same depth)");
        md.AppendLine();
        md.AppendLine($"Steps alternate plain / shared, {(quick ? 5 : 21)} pairs, in the cpu scale's precision; times are medians, the overhead is the median of the pairs' ratios.");
        md.AppendLine();
        md.AppendLine("| model | depth | plain ms | shared ms | overhead |");
        md.AppendLine("|---|---|---|---|---|");
        foreach (var arch in Models)
        {
            using var h = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: cpu.TrainFor(arch).PrecisionMode, dropout: dropout);
            foreach (var d in new[] { 6, 12 })
            {
                var (plain, shared, ratio) = h.PairedSeconds(LanguageModel.IdentityPlan(d), LayerMapping.Interpolate(3, d), warmup, quick ? 5 : 21);
                md.AppendLine($"| {arch} | {d} | {plain * 1e3:F1} | {shared * 1e3:F1} | {ratio - 1:+0.0%;-0.0%} |");
            }
        }
        md.AppendLine();

        Progress("memory");
        // 8. Memory and leaks.
        md.AppendLine("## Memory");
        md.AppendLine();
        md.AppendLine("Each row is a fresh process (this program's `memory-probe`), so no row inherits another's peak: resident memory once torch is " +
                      "loaded, then the process's peak after building the model and running 5 depth-12 training steps (fp32, no dropout).");
        md.AppendLine();
        md.AppendLine("| scale | model | parameters | RSS with torch loaded | peak RSS after 5 steps | the model's share |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var scale in new[] { Scale.Parse("smoke"), Scale.Parse("cpu") })
            foreach (var arch in Models)
            {
                var probe = MemoryProbe(scale.Name, arch, threads);
                md.AppendLine(probe is { } m
                    ? $"| {scale.Name} | {arch} | {m.Parameters:N0} | {m.Baseline / 1048576.0:N0} MiB | {m.Peak / 1048576.0:N0} MiB | {(m.Peak - m.Baseline) / 1048576.0:N0} MiB |"
                    : $"| {scale.Name} | {arch} | - | probe failed | - | - |");
            }
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

        // 9. GPU.
        md.AppendLine("## GPU");
        md.AppendLine();
        md.AppendLine("The gpu and paper scales train bf16 on cuda (`experiments/scales.json`). No GPU machine was available to this measurement, so there are no GPU figures here: " +
                      "tokens/s and MFU against the GPU's bf16 peak come from a CUDA runner (`dotnet test ApolloBench.sln -c Release --filter Category=Gpu -p:TorchBackend=cuda`, " +
                      "then a short `train --scale gpu --device cuda`).");
        md.AppendLine();

        // The issue-16 proof is its own command (`walltime`); its section is kept as it was written.
        foreach (var (policy, proofThreads) in WallTimeProof.Variants)
            if (MarkedSection.Extract(outPath, WallTimeProof.Markers(policy, proofThreads).Begin, WallTimeProof.Markers(policy, proofThreads).End) is { } kept)
            {
                md.AppendLine(kept);
                md.AppendLine();
            }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outPath))!);
        StepTimes.Write(stepTimesPath, stepRows);
        var text = md.ToString().Replace("LOAD_AFTER", MachineLoad.Describe());
        RunFiles.Atomic(outPath, p => File.WriteAllText(p, text));
        Console.WriteLine(text);
        Console.WriteLine($"written: {Path.GetFullPath(outPath)}");
        return 0;
    }

    /// <summary>Held-out loss after the same number of steps of a cpu-scale Scratch run in each precision, and the bench's evidence for the precision decision.</summary>
    static string LossSection(Scale cpu, int steps, int threads, string cache, Dictionary<Architecture, PairedTimes> speed)
    {
        var md = new StringBuilder();
        int evalEvery = Math.Max(1, steps / 4);
        md.AppendLine($"## Loss after the same number of steps, fp32 and bf16");
        md.AppendLine();
        md.AppendLine($"Scratch at cpu scale with a {steps}-step budget (the scale's settings otherwise: peak learning rate, warmup share, dropout, batch, held-out batches), " +
                      $"{threads} threads, trained here on the default corpus from the same seed in each precision, and from a second seed in fp32 for scale: " +
                      "two precisions from one seed share data order, initialisation and dropout masks, so their difference is rounding alone; the seed-to-seed difference " +
                      "is what a change of seed does in the same budget. Held-out loss (full model, no dropout, the run's precision).");
        md.AppendLine();
        md.AppendLine("| model | after step | fp32, seed 42 | bf16, seed 42 | bf16 - fp32 | fp32, seed 43 | seed 43 - seed 42 |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        var decision = new StringBuilder();
        foreach (var arch in Models)
        {
            var tokens = Runs.RunExecutor.Tokens(null, cpu.ModelFor(arch).Vocab, cache);
            RunResult Train(string precision, long seed)
            {
                var train = ShortRuns.Settings(cpu, arch, steps, evalEvery, threads, precision, seed);
                return ShortRuns.Train(cpu, arch, train, new Scratch(), tokens);
            }
            var a = Train("fp32", 42);
            var b = Train("bf16", 42);
            var c = Train("fp32", 43);
            for (int i = 0; i < a.Evals.Count; i++)
            {
                double x = a.Evals[i].ValidLoss, y = b.Evals[i].ValidLoss, z = c.Evals[i].ValidLoss;
                md.AppendLine($"| {arch} | {a.Evals[i].Step} | {x:F4} | {y:F4} | {Signed(y - x, 4)} | {z:F4} | {Signed(z - x, 4)} |");
            }
            var s = speed[arch];
            decision.Append($"{arch}: bf16 / fp32 step time {s.Ratio:F3} (interquartile {s.RatioQ1:F3}-{s.RatioQ3:F3}, {s.Pairs} alternated depth-12 steps), " +
                            $"held-out loss after {steps} steps {Signed(b.Evals[^1].ValidLoss - a.Evals[^1].ValidLoss, 3)} against fp32 (a second fp32 seed: {Signed(c.Evals[^1].ValidLoss - a.Evals[^1].ValidLoss, 3)}). ");
        }
        md.AppendLine();
        md.AppendLine(DecisionBegin);
        md.AppendLine($"**Precision at cpu scale: the bench's evidence (issue 14, item 3).** {decision.ToString().TrimEnd()} " +
                      "A ratio below 1 means bf16 steps are faster end to end. This is speed, and rounding over a short budget; whether bf16 becomes the cpu scale's default is decided " +
                      "from full-length Scratch runs in both precisions against seed noise, and that decision and its runs are recorded in `reports/scales.md` " +
                      "(the cpu scale's `precision` in `experiments/scales.json` follows it).");
        md.AppendLine(DecisionEnd);
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>The MFU targets of issue 14 (BERT 60%, GPT 55% at depth 12, best precision), and where the rest of the step goes.</summary>
    static string MfuSection(Dictionary<(Architecture, Precision), PhaseAnchor.Result> anchors, Dictionary<(Architecture, Precision), double> depth12,
        Dictionary<(Architecture, Precision), double> pairedMfu, Dictionary<Architecture, double> flops12, Dictionary<Precision, double> peak)
    {
        var md = new StringBuilder();
        md.AppendLine("### MFU at depth 12 against the targets");
        md.AppendLine();
        md.AppendLine("| model | best precision | MFU against the peak / beside each step | target | counted FLOPs at the best matmul rate | the step | the step under the profiler | in libtorch's operators | matmuls and attention (profiled) | everything else (profiled) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var arch in Models)
        {
            var p = Precisions.MinBy(q => depth12[(arch, q)]);
            double seconds = depth12[(arch, p)], mfu = flops12[arch] / seconds / 1e9 / peak[p];
            double ideal = flops12[arch] / peak[p] / 1e9 * 1e3;
            var r = anchors[(arch, p)];
            double matmulMs = r.Kind(0) + r.Kind(1);
            md.AppendLine($"| {arch} | {Autocast.Name(p)} | {mfu:P0} / {pairedMfu[(arch, p)]:P0} | {(arch == Architecture.Bert ? "60%" : "55%")} | {ideal:F1} ms | {seconds * 1e3:F1} ms | {r.ProfiledTotalMs:F1} ms | " +
                          $"{r.OpsTotalMs:F1} ms | {matmulMs:F1} ms | {r.ProfiledTotalMs - matmulMs:F1} ms |");
        }
        md.AppendLine();
        md.AppendLine("The matmul column holds the linear layers' matmuls (forward and backward) and the whole attention operator (its two batched products, scaling, softmax, " +
                      "and the math path's extra passes), so it is an upper bound on the time the counted FLOPs need. Everything else is work the FLOPs count does not " +
                      "see: dropout, LayerNorm, GELU, residual adds, the head's softmax and cross-entropy, AdamW, clipping and the time outside libtorch, each listed in the tables above. " +
                      "MFU can reach a target only when that remainder fits in the gap between the counted FLOPs at peak and the step.");
        md.AppendLine();
        return md.ToString();
    }

    /// <summary>Dropout end to end (paired on/off steps), its masks, and attention written with a cheaper mask.</summary>
    static string DropoutSection(Scale cpu, double dropout, int warmup, int pairs, int repeats, Dictionary<(Architecture, Precision), PhaseAnchor.Result> anchors)
    {
        var md = new StringBuilder();
        md.AppendLine($"## What dropout costs ({dropout.ToString("0.##", Inv)})");
        md.AppendLine();
        md.AppendLine($"Depth-12 steps with dropout off and on, alternated ({pairs} pairs; the models' code as it trains).");
        md.AppendLine();
        md.AppendLine("| model | precision | without dropout ms | with dropout ms | with / without | attention dropout (profile) ms | other dropout (profile) ms |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var arch in Models)
            foreach (var p in Precisions)
            {
                using var off = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: p, dropout: 0);
                using var on = new StepHarness(cpu.ModelFor(arch), cpu.TrainFor(arch).BatchSize, precision: p, dropout: dropout);
                var t = StepHarness.Paired(off, on, LanguageModel.IdentityPlan(12), warmup, pairs);
                var r = anchors[(arch, p)];
                md.AppendLine($"| {arch} | {Autocast.Name(p)} | {t.A * 1e3:F1} | {t.B * 1e3:F1} | {t.Ratio:F2} ({t.RatioQ1:F2}-{t.RatioQ3:F2}) | {r.Kind(2):F1} | {r.Kind(3):F1} |");
            }
        md.AppendLine();
        md.AppendLine("With dropout on, `scaled_dot_product_attention` leaves its fused CPU kernel (which has no dropout) for the written-out math path, and every mask is " +
                      "drawn by `bernoulli_(1 - p)`, which libtorch runs serially on this CPU: one double-precision uniform (two 32-bit Mersenne-Twister outputs) per element, " +
                      "one thread whatever the thread count (MKL's parallel generator is taken only on Intel CPUs). One mask, three ways (medians of " +
                      $"{repeats}); all three draw Bernoulli(1 - p) per element, the last two to the float grid (2^-24):");
        md.AppendLine();
        var config = cpu.ModelFor(Architecture.Bert);
        int batch = cpu.TrainFor(Architecture.Bert).BatchSize;
        var masks = DropoutCost.Masks(config, batch, dropout, repeats);
        md.AppendLine("| mask | elements | per BERT step | `bernoulli_` (what `F.dropout` draws) ms | one float uniform per element ms | the same, two generators on two threads ms |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var m in masks)
            md.AppendLine($"| {m.Site} | {m.Elements:N0} | {m.PerStep} | {m.BernoulliMs:F2} | {m.UniformMs:F2} | {m.UniformTwoThreadsMs:F2} |");
        double perStep(Func<DropoutCost.MaskRow, double> ms) => masks.Sum(m => m.PerStep * ms(m));
        md.AppendLine($"| all masks of one BERT step | | | {perStep(m => m.BernoulliMs):F1} | {perStep(m => m.UniformMs):F1} | {perStep(m => m.UniformTwoThreadsMs):F1} |");
        md.AppendLine();
        md.AppendLine($"One attention call of the BERT shape ({batch}, {config.Heads}, {config.SeqLen}, {config.Hidden / config.Heads}), forward and backward, variants alternated (medians of {repeats}):");
        md.AppendLine();
        md.AppendLine("| attention | fp32 ms | bf16 ms |");
        md.AppendLine("|---|---|---|");
        var fp32 = DropoutCost.Attention(config, batch, dropout, Precision.Fp32, repeats);
        var bf16 = DropoutCost.Attention(config, batch, dropout, Precision.Bf16, repeats);
        for (int i = 0; i < fp32.Count; i++) md.AppendLine($"| {fp32[i].Variant} | {fp32[i].Milliseconds:F2} | {bf16[i].Milliseconds:F2} |");
        md.AppendLine();
        double today = perStep(m => m.BernoulliMs), oneThread = perStep(m => m.UniformMs), twoThreads = perStep(m => m.UniformTwoThreadsMs);
        bool split = twoThreads < oneThread;
        double best = Math.Min(oneThread, twoThreads);
        md.AppendLine("**Proposals (not applied: they change which masks a seed draws, so run numbers, though not their distribution; the lead decides).** " +
                      "(1) Draw each mask as one float uniform per element compared with 1 - p" +
                      (split ? ", the tensor's halves filled by two seeded generators on two threads (seeds derived from the run's seed, the step and the site)" : " (one generator, seeded as now)") +
                      $": Bernoulli(1 - p) per element as before; measured here {today:F1} -> {best:F1} ms of mask drawing per BERT step " +
                      (best < today ? $"({today - best:F1} ms saved)." : "(no saving on this measurement: keep `bernoulli_`).") +
                      " (2) For attention, pass that mask in: write the attention out as the math path does (scores, softmax, times the scaled mask, times the values); " +
                      $"the table above gives its cost against today's call ({fp32[3].Milliseconds:F1} vs {fp32[1].Milliseconds:F1} ms fp32, {bf16[3].Milliseconds:F1} vs {bf16[1].Milliseconds:F1} ms bf16, " +
                      "per layer, forward and backward). Neither changes what is computed from a mask, and both keep the masks a pure function of (seed, step), so resume stays " +
                      "bit-identical. What cannot be had on this CPU: the fused attention kernel with dropout (libtorch's CPU flash kernel has none).");
        md.AppendLine();
        return md.ToString();
    }

    static double? MatmulWithoutMklPatch(int threads)
    {
        var (exit, stdout, _) = RunSelf(MklAmdDispatch.EnvironmentVariable, "off", "matmul", threads.ToString(Inv));
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
        MklAmdDispatch.EnsureApplied();
        torch.set_num_threads(threads);
        Console.WriteLine($"fp32 mm 2048, {threads} threads: {MatmulGflops():F1} GFLOP/s (MKL on AMD: {MklAmdDispatch.Outcome})");
        return 0;
    }

    /// <summary>
    /// `precision [SCALE] [THREADS] [PAIRS] [DROPOUT]`: one fp32 and one bf16 training step of the 12-layer BERT and GPT of a scale
    /// (dropout 0.1 unless told), alternated PAIRS times so a burst of load from elsewhere hits both alike; prints the median seconds
    /// of each and the median of the per-pair ratios, then each precision's parts.
    /// </summary>
    public static int RunPrecision(string[] args)
    {
        var scale = Scale.Parse(args.Length > 0 ? args[0] : "cpu");
        int threads = args.Length > 1 ? int.Parse(args[1], Inv) : Environment.ProcessorCount;
        int pairs = args.Length > 2 ? int.Parse(args[2], Inv) : 30;
        double dropout = args.Length > 3 ? double.Parse(args[3], Inv) : 0.1;
        MklAmdDispatch.EnsureApplied();
        torch.set_num_threads(threads);
        foreach (var arch in Models)
        {
            var batch = scale.TrainFor(arch).BatchSize;
            using var fp32 = new StepHarness(scale.ModelFor(arch), batch, precision: Precision.Fp32, dropout: dropout);
            using var bf16 = new StepHarness(scale.ModelFor(arch), batch, precision: Precision.Bf16, dropout: dropout);
            var plan = LanguageModel.IdentityPlan(12);
            var t = StepHarness.Paired(fp32, bf16, plan, 3, pairs);
            Console.WriteLine(string.Create(Inv, $"{scale.Name} {arch} depth 12, dropout {dropout}, {threads} threads, {pairs} pairs: fp32 {t.A:F4} s, bf16 {t.B:F4} s, bf16/fp32 {t.Ratio:F3} ({t.RatioQ1:F3}-{t.RatioQ3:F3})"));
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

    static JsonNode? PyTorch(int threads, Scale cpu, bool quick, double dropout)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "pytorch_step.py");
        var m = cpu.ModelFor(Architecture.Bert);
        var cfg = new JsonObject
        {
            ["threads"] = threads, ["layers"] = 12, ["hidden"] = m.Hidden, ["heads"] = m.Heads, ["vocab"] = m.Vocab,
            ["seq"] = m.SeqLen, ["batch"] = cpu.TrainFor(Architecture.Bert).BatchSize, ["steps"] = quick ? 3 : 10, ["warmup"] = quick ? 1 : 3, ["dropout"] = dropout,
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
