using System.Diagnostics;
using System.Globalization;
using System.Text;
using ApolloBench.Experiments;
using ApolloBench.Models;
using ApolloBench.Training;
using TorchSharp;

namespace ApolloBench.Benchmarks;

/// <summary>
/// `walltime`: the bench's proof that wall time normalised to the calibration (<see cref="WallTime.Normalised"/>,
/// issue 16) survives a loaded machine. The same pair of runs (Scratch and Apollo with the paper's schedule) is trained
/// twice; in the second repetition a CPU-load process that the bench starts and stops itself runs beside Scratch only,
/// which inflates Scratch's raw seconds and so Apollo's raw saving. The normalised savings of the two repetitions must
/// agree within <see cref="Bar"/> points where the raw ones do not. The figures go into a marked section of
/// reports/performance.md.
/// </summary>
public static class WallTimeProof
{
    public const string Begin = "<!-- walltime: loaded vs quiet begin (written by the bench's `walltime` command) -->";
    public const string End = "<!-- walltime: loaded vs quiet end -->";

    /// <summary>
    /// The section's markers: one section per OpenMP wait policy (<see cref="WaitPolicy"/>) and thread count, so a run
    /// under <c>OMP_WAIT_POLICY=PASSIVE</c> or with <c>--threads 1</c> sits beside the default's instead of replacing it.
    /// </summary>
    public static (string Begin, string End) Markers(string? policy, int threads = DefaultThreads)
    {
        var variant = (string.IsNullOrEmpty(policy) ? "" : $" OMP_WAIT_POLICY={policy}") + (threads == DefaultThreads ? "" : $" threads={threads}");
        return variant.Length == 0
            ? (Begin, End)
            : ($"<!-- walltime{variant}: loaded vs quiet begin (written by the bench's `walltime` command) -->", $"<!-- walltime{variant}: loaded vs quiet end -->");
    }

    public const int DefaultThreads = 2;

    /// <summary>The (wait policy, threads) sections the bench's <c>report</c> keeps, in the order it prints them.</summary>
    public static readonly (string? Policy, int Threads)[] Variants = [(null, 2), ("PASSIVE", 2), (null, 1), ("PASSIVE", 1)];

    static string? Policy => Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { Length: > 0 } p ? p.ToUpperInvariant() : null;
    const double Bar = 0.03;
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    sealed record Measured(int Trial, int Repetition, string Method, bool Loaded, double Raw, double Normalised, double[] Speeds, double FinalLoss, double? CpuWait);

    public static int Run(string[] args)
    {
        string outPath = Path.Combine("reports", "performance.md");
        string cache = ReproduceOptions.DefaultCache();
        int threads = DefaultThreads, evalEvery = 20, evalBatches = 2, loadThreads = 2, trials = 1;
        long steps = 400;
        var arch = Architecture.Bert;
        for (int i = 0; i < args.Length; i++)
        {
            bool Int(out int v)
            {
                v = 0;
                return i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, Inv, out v) && v >= 1;
            }
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length: outPath = args[++i]; break;
                case "--cache" when i + 1 < args.Length: cache = args[++i]; break;
                case "--model" when i + 1 < args.Length && Enum.TryParse(args[i + 1], true, out arch): i++; break;
                case "--steps" when Int(out var s): steps = s; i++; break;
                case "--threads" when Int(out var t): threads = t; i++; break;
                case "--eval-every" when Int(out var e): evalEvery = e; i++; break;
                case "--eval-batches" when Int(out var eb): evalBatches = eb; i++; break;
                case "--load-threads" when Int(out var l): loadThreads = l; i++; break;
                case "--trials" when Int(out var n): trials = n; i++; break;
                default:
                    if (args[i] is "--steps" or "--threads" or "--eval-every" or "--eval-batches" or "--load-threads" or "--trials")
                    {
                        Console.Error.WriteLine($"error: walltime: {args[i]}: needs a whole number >= 1 (got {(i + 1 < args.Length ? $"'{args[i + 1]}'" : "nothing")})");
                        return 2;
                    }
                    Console.Error.WriteLine($"error: walltime: {args[i]}: unknown or incomplete argument (valid: --steps N, --eval-every N, --eval-batches N, --threads N, --load-threads N, --trials N, --model bert|gpt, --cache DIR, --out FILE)");
                    return 2;
            }
        }
        var scale = Scale.Parse("cpu");
        var model = scale.ModelFor(arch);
        var started = DateTimeOffset.UtcNow;
        var background = MachineLoad.Describe();
        Console.WriteLine($"walltime: {arch} at cpu scale, {steps} steps, {threads} thread{(threads == 1 ? "" : "s")}; {background}");
        var tokens = Runs.RunExecutor.Tokens(null, model.Vocab, cache);
        var train = ShortRuns.Settings(scale, arch, steps, evalEvery, threads, scale.TrainFor(arch).Precision, scale.TrainFor(arch).Seed) with { EvalBatches = evalBatches };

        var measured = new List<Measured>();
        for (int trial = 1; trial <= trials; trial++)
        foreach (var repetition in new[] { 1, 2 })
            foreach (var method in new[] { "scratch", "apollo" })
            {
                bool loaded = repetition == 2 && method == "scratch";
                GrowthMethod m = method == "scratch" ? new Scratch() : ShortRuns.PaperApollo(model.Layers);
                RunResult result;
                // Bounded three ways: stopped when the run ends, stopping itself after half an hour or when this process is gone.
                using (var load = loaded ? LoadProcess.Start(loadThreads, TimeSpan.FromMinutes(30)) : null)
                    result = ShortRuns.Train(scale, arch, train, m, tokens);
                var rows = RunFiles.CurveRows(result);
                var normalised = WallTime.Normalised(rows) ?? throw new InvalidOperationException("the run recorded no calibration");
                var run = new Measured(trial, repetition, method, loaded, rows[^1].WallSeconds, normalised[^1],
                    result.Evals.Select(e => e.MachineSpeed).ToArray(), result.Evals[^1].ValidLoss, WallTime.CpuWait(rows));
                measured.Add(run);
                Console.WriteLine(string.Create(Inv, $"  {(trials > 1 ? $"trial {trial}, " : "")}repetition {repetition} {method}{(loaded ? " (loaded)" : "")}: raw {run.Raw:F1} s, normalised {run.Normalised:F1} s, " +
                    $"calibration {StepHarness.Median(run.Speeds):F0} GFLOP/s, waited for a CPU {(run.CpuWait is { } w ? w.ToString("P1", Inv) : "not measured")}, final held-out {run.FinalLoss:F4}"));
            }
        var section = Section(measured, arch, model, train, loadThreads, started, background, MachineLoad.Describe());
        Console.WriteLine(section);
        Write(outPath, section, threads);
        Console.WriteLine($"written: {Path.GetFullPath(outPath)}");
        return 0;
    }

    static double Saving(IEnumerable<Measured> runs, int trial, int repetition, Func<Measured, double> seconds)
    {
        var pair = runs.Where(r => r.Trial == trial && r.Repetition == repetition).ToDictionary(r => r.Method);
        return 1 - seconds(pair["apollo"]) / seconds(pair["scratch"]);
    }

    static string Section(List<Measured> runs, Architecture arch, ModelConfig model, TrainConfig train, int loadThreads,
        DateTimeOffset started, string backgroundBefore, string backgroundAfter)
    {
        string F(double v, string f) => v.ToString(f, Inv);
        var trials = runs.Select(r => r.Trial).Distinct().Order().Select(t => new
        {
            Trial = t,
            Raw1 = Saving(runs, t, 1, r => r.Raw), Raw2 = Saving(runs, t, 2, r => r.Raw),
            Norm1 = Saving(runs, t, 1, r => r.Normalised), Norm2 = Saving(runs, t, 2, r => r.Normalised),
        }).Select(x => new { x.Trial, x.Raw1, x.Raw2, x.Norm1, x.Norm2, RawGap = Math.Abs(x.Raw2 - x.Raw1), NormGap = Math.Abs(x.Norm2 - x.Norm1) }).ToList();
        bool many = trials.Count > 1;
        bool identical = runs.GroupBy(r => r.Method).All(g => g.Select(r => r.FinalLoss).Distinct().Count() == 1);
        var md = new StringBuilder();
        var (begin, end) = Markers(Policy, train.Threads);
        md.AppendLine(begin);
        md.AppendLine($"## Wall time normalised to the calibration, quiet and loaded (issue 16){(Policy is { } p ? $", OMP_WAIT_POLICY={p}" : "")}{(train.Threads == DefaultThreads ? "" : $", {train.Threads} thread{(train.Threads == 1 ? "" : "s")} per run")}");
        md.AppendLine();
        md.AppendLine($"Measured {started:yyyy-MM-dd HH:mm} UTC by `dotnet run --project src/ApolloBench.Benchmarks -c Release -- walltime`, commit `{Runtime.BuildInfo.ShortCommit}`. " +
                      $"One pair of runs, Scratch and Apollo (paper schedule 1, 3, 6, 12 ending at 5/10/25/100%, LVPS, interpolation), {arch.ToString().ToUpperInvariant()} at cpu scale " +
                      $"({model.Layers} x {model.Hidden}, batch {train.BatchSize} x {model.SeqLen}) for {train.Steps} steps, {train.Threads} thread{(train.Threads == 1 ? "" : "s")}, dropout {F(train.Dropout, "0.##")}, {train.Precision}, seed {train.Seed}, " +
                      $"held-out loss ({train.EvalBatches} batches) and the calibration (one full-depth training step of a fixed copy of the model on a fixed batch, for at least {F(Training.Calibration.MinSeconds * 1000, "0")} ms) every {train.EvalEvery} steps, trained twice in this process{(many ? $", and that pair of repetitions done {trials.Count} times (trials)" : "")}. In repetition 2 the bench started a load process " +
                      $"(this program's `load`: {loadThreads} threads spinning at normal priority, stopped by the bench when the run ended, and by itself after half an hour or if the bench is gone) beside **Scratch only**, " +
                      "so Scratch's raw seconds, and with them Apollo's raw saving, are wrong there. " +
                      $"The machine also carried other work, which the bench did not start: before {backgroundBefore}; after {backgroundAfter}. " +
                      $"OpenMP wait policy: {WaitPolicy()}.");
        md.AppendLine();
        md.AppendLine("The saving is the total-time ratio for the same number of steps, 1 - Apollo's seconds / Scratch's (not the time to Scratch's final held-out loss, " +
                      "which Apollo with the paper's schedule does not reach in so short a budget at this scale); normalised seconds are `WallTime.Normalised` of each run's curve, " +
                      "each step's seconds scaled by the calibration speed measured at the end of its evaluation interval.");
        md.AppendLine();
        md.AppendLine($"| {(many ? "trial | " : "")}repetition | run | load process | raw s | calibration GFLOP/s, median (min-max) | normalised s | waited for a CPU | final held-out loss |");
        md.AppendLine($"|{(many ? "---|" : "")}---|---|---|---|---|---|---|---|");
        foreach (var r in runs)
            md.AppendLine($"| {(many ? $"{r.Trial} | " : "")}{r.Repetition} | {r.Method} | {(r.Loaded ? "**running**" : "-")} | {F(r.Raw, "F1")} | {F(StepHarness.Median(r.Speeds), "F0")} ({F(r.Speeds.Min(), "F0")}-{F(r.Speeds.Max(), "F0")}) | {F(r.Normalised, "F1")} | {(r.CpuWait is { } w ? F(w, "P1") : "not measured")} | {F(r.FinalLoss, "F4")} |");
        md.AppendLine();
        md.AppendLine($"| {(many ? "trial | " : "")}Apollo's wall-time saving | repetition 1 (quiet) | repetition 2 (Scratch loaded) | difference |");
        md.AppendLine($"|{(many ? "---|" : "")}---|---|---|---|");
        foreach (var t in trials)
        {
            var trial = many ? $"{t.Trial} | " : "";
            md.AppendLine($"| {trial}raw | {F(t.Raw1, "P1")} | {F(t.Raw2, "P1")} | {F(100 * t.RawGap, "F1")} points |");
            md.AppendLine($"| {trial}normalised | {F(t.Norm1, "P1")} | {F(t.Norm2, "P1")} | {F(100 * t.NormGap, "F1")} points |");
        }
        md.AppendLine();
        double worstNorm = trials.Max(t => t.NormGap), leastRaw = trials.Min(t => t.RawGap);
        string every = many ? $"in every one of the {trials.Count} trials " : "";
        md.AppendLine((worstNorm <= Bar && leastRaw > Bar
                          ? $"**Passes**: {every}the normalised savings agree within {F(100 * Bar, "0")} points and the raw ones do not."
                          : worstNorm > Bar
                              ? $"**Fails**: the normalised savings differ by more than {F(100 * Bar, "0")} points{(many ? $" in {trials.Count(t => t.NormGap > Bar)} of {trials.Count} trials" : "")}."
                              : $"**Does not prove it**: the raw savings too agree within {F(100 * Bar, "0")} points{(many ? " in a trial" : "")}, so the load did not disturb them.") +
                      (identical ? " Every repetition trained bit-identical runs (the same final losses), so only the clocks differ." : " The repetitions' final losses differ, which they should not (same seed and threads)."));
        md.AppendLine();
        foreach (var t in trials)
        {
            var quietScratch = runs.Single(r => r.Trial == t.Trial && r.Repetition == 1 && r.Method == "scratch");
            var loadedScratch = runs.Single(r => r.Trial == t.Trial && r.Loaded);
            md.AppendLine($"{(many ? $"Trial {t.Trial}: b" : "B")}eside the load process Scratch's steps took {F(loadedScratch.Raw / quietScratch.Raw, "F2")}x their quiet time, while the calibration's median rate fell " +
                          $"{F(StepHarness.Median(quietScratch.Speeds) / StepHarness.Median(loadedScratch.Speeds), "F2")}x (per interval from {F(loadedScratch.Speeds.Min(), "F0")} to {F(loadedScratch.Speeds.Max(), "F0")} GFLOP/s)" +
                          (t.Trial == trials[^1].Trial ? ": the normalisation can only be as good as the calibration's agreement with the step." : "."));
            md.AppendLine();
        }
        md.AppendLine(Detection(runs));
        md.Append(end);
        return md.ToString();
    }

    /// <summary>Whether the CPU-wait column (<see cref="WallTime.CpuWaitLimit"/>) flags exactly the loaded run, which is what the reports rely on.</summary>
    static string Detection(List<Measured> runs)
    {
        if (runs.Any(r => r.CpuWait is null)) return "The CPU-wait column is not measured here (no Linux schedstat), so the reports cannot flag a loaded run on this machine.";
        var flagged = runs.Where(r => r.CpuWait > WallTime.CpuWaitLimit).ToList();
        bool exact = flagged.Count == runs.Count(r => r.Loaded) && flagged.All(r => r.Loaded);
        string Range(IEnumerable<Measured> set) => set.Any() ? $"{set.Min(r => r.CpuWait!.Value).ToString("P1", Inv)}-{set.Max(r => r.CpuWait!.Value).ToString("P1", Inv)}" : "none";
        return (exact ? "**Detected**: " : "**Not detected as it should be**: ") +
               $"the share of time the run's threads waited for a CPU was {Range(runs.Where(r => !r.Loaded))} for the runs without the load process and {Range(runs.Where(r => r.Loaded))} beside it; " +
               $"the reports flag a run above {WallTime.CpuWaitLimit.ToString("P0", Inv)} (`WallTime.CpuWaitLimit`) as one whose wall time, raw or normalised, is not the method's" +
               (exact ? ", which here names the loaded run and only it." : ".");
    }

    /// <summary>How libtorch's OpenMP threads wait at a region's end (read once by libgomp when it loads, so set before the process starts).</summary>
    static string WaitPolicy() => Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { Length: > 0 } p
        ? $"`OMP_WAIT_POLICY={p}`" + (Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is { Length: > 0 } c ? $", `GOMP_SPINCOUNT={c}`" : "")
        : Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is { Length: > 0 } spin ? $"`GOMP_SPINCOUNT={spin}`" : "libgomp's default (threads spin before they sleep)";

    /// <summary>Puts the section in place of the marked one in <paramref name="file"/>, or appends it.</summary>
    static void Write(string file, string section, int threads)
    {
        var text = File.Exists(file) ? File.ReadAllText(file) : "# Performance\n";
        var (begin, end) = Markers(Policy, threads);
        RunFiles.Atomic(file, tmp => File.WriteAllText(tmp, MarkedSection.Replace(text, begin, end, section)));
    }

    /// <summary>
    /// `load THREADS SECONDS [PARENT]`: spins THREADS threads of floating-point work for at most SECONDS, and stops early when
    /// process PARENT (the bench that started it) is gone, so a killed bench never leaves its load behind for long.
    /// </summary>
    public static int RunLoad(string[] args)
    {
        int parent = 0;
        if (args.Length is < 2 or > 3 || !int.TryParse(args[0], NumberStyles.None, Inv, out var threads) || threads < 1
            || !double.TryParse(args[1], NumberStyles.Float, Inv, out var seconds) || !(seconds > 0)
            || (args.Length == 3 && !int.TryParse(args[2], NumberStyles.None, Inv, out parent)))
        {
            Console.Error.WriteLine("error: load THREADS SECONDS [PARENT_PID] (e.g. load 2 600)");
            return 2;
        }
        var clock = Stopwatch.StartNew();
        bool stop = false;
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            double x = 1;
            while (!Volatile.Read(ref stop))
                for (int i = 0; i < 1_000_000; i++) x = x * 1.0000001 + 1e-9;
            GC.KeepAlive(x);
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());
        while (clock.Elapsed.TotalSeconds < seconds && (parent == 0 || Alive(parent))) Thread.Sleep(250);
        Volatile.Write(ref stop, true);
        workers.ForEach(w => w.Join());
        return 0;

        static bool Alive(int pid)
        {
            try { using var p = Process.GetProcessById(pid); return !p.HasExited; }
            catch (ArgumentException) { return false; }
        }
    }
}

/// <summary>The bench's own load process (<see cref="WallTimeProof.RunLoad"/>): started by <see cref="Start"/>, stopped by Dispose.</summary>
sealed class LoadProcess : IDisposable
{
    readonly Process process;
    LoadProcess(Process p) => process = p;

    public static LoadProcess Start(int threads, TimeSpan limit)
    {
        var psi = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") psi.ArgumentList.Add(typeof(LoadProcess).Assembly.Location);
        foreach (var a in new[] { "load", threads.ToString(CultureInfo.InvariantCulture), limit.TotalSeconds.ToString(CultureInfo.InvariantCulture), Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        Thread.Sleep(500);   // let it start spinning before the run's first calibration
        return new LoadProcess(p);
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }
}

/// <summary>What else this machine was running: its load average and the processes at a lower priority (niced background runs).</summary>
static class MachineLoad
{
    public static string Describe()
    {
        try
        {
            var load = File.ReadAllText("/proc/loadavg").Split(' ');
            int niced = 0;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // fields from the state on: state is [0], nice is [16]
                    if (int.Parse(fields[16], CultureInfo.InvariantCulture) > 0 && fields[0] is "R" or "S" && long.Parse(fields[11], CultureInfo.InvariantCulture) > 100) niced++;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
            }
            return $"load average {load[0]} / {load[1]} / {load[2]} (1 / 5 / 15 min), {niced} niced process(es) that have used CPU";
        }
        catch (IOException) { return "load unknown (no /proc/loadavg)"; }
    }
}

/// <summary>A part of a markdown file between two marker lines, written by one command and kept by the others.</summary>
public static class MarkedSection
{
    /// <summary><paramref name="text"/> with the marked part replaced by <paramref name="section"/> (which carries the markers), or with it appended.</summary>
    public static string Replace(string text, string begin, string end, string section)
    {
        int b = text.IndexOf(begin, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        return b >= 0 && e > b ? text[..b] + section + text[(e + end.Length)..] : text.TrimEnd() + "\n\n" + section + "\n";
    }

    /// <summary>The marked part of <paramref name="file"/>, markers included, or null.</summary>
    public static string? Extract(string file, string begin, string end)
    {
        if (!File.Exists(file)) return null;
        var text = File.ReadAllText(file);
        int b = text.IndexOf(begin, StringComparison.Ordinal), e = text.IndexOf(end, StringComparison.Ordinal);
        return b >= 0 && e > b ? text[b..(e + end.Length)] : null;
    }
}
