using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ApolloBench.Core;
using ApolloBench.Models;
using TorchSharp;

namespace ApolloBench.Training;

/// <summary>
/// Where and how often a run checkpoints, whether it continues from an existing checkpoint, and what identifies the run
/// beyond what the trainer itself knows (<paramref name="Identity"/>: e.g. the corpus's content hash).
/// <paramref name="Log"/> hears which checkpoint a resume uses and why it passed over a newer one. When
/// <paramref name="Stop"/> is cancelled the trainer finishes the step under way, checkpoints and throws
/// <see cref="RunStopped"/> (as with <see cref="Trainer.Run"/>'s own token), so whoever drives the trainer need not pass it.
/// </summary>
public sealed record Checkpointing(string Dir, TimeSpan Every, bool Resume,
    IReadOnlyDictionary<string, string>? Identity = null, Action<string>? Log = null, CancellationToken Stop = default)
{
    /// <summary>Checkpoint every few minutes (the default for long runs).</summary>
    public static Checkpointing In(string runDir, bool resume, TimeSpan? every = null, IReadOnlyDictionary<string, string>? identity = null,
        Action<string>? log = null, CancellationToken stop = default)
        => new(Path.Combine(runDir, Checkpoint.Folder), every ?? TimeSpan.FromMinutes(3), resume, identity, log, stop);
}

/// <summary>
/// Everything a killed run needs to continue exactly where it stopped: the model (whatever shape the method has grown it
/// to), the optimiser's moments, the data stream's position, the cumulative counters and every record so far. Data order,
/// masking, dropout and depth sampling are pure functions of (seed, step), so a resumed run computes bit for bit what an
/// uninterrupted one computes (on CPU with the thread count fixed); only wall seconds differ.
/// <para>Layout: <c>checkpoint/step-&lt;N&gt;/</c> holding model.bin, optimizer.bin and state.json, plus state.sha256 (the
/// SHA-256 of state.json). state.json records the SHA-256 and length of the two binaries and the run's identity (model,
/// method and options, training settings with seed and thread count, corpus). A checkpoint is written under a temporary
/// name, every file is flushed to disk, the folder is renamed into place and its parent flushed, so a kill or a power cut
/// at any moment leaves whole checkpoints only. The two newest are kept. On resume each is verified before anything is
/// read from it, newest first; one that fails is named and passed over; a different run's checkpoint is refused.</para>
/// </summary>
public static class Checkpoint
{
    public const string Folder = "checkpoint";
    public const int Format = 2;
    const string StateFile = "state.json", StateHashFile = "state.sha256", ModelFile = "model.bin", OptimizerFile = "optimizer.bin";
    const int Keep = 2;

    /// <summary>The length and SHA-256 of a file.</summary>
    public sealed record FileSeal(long Bytes, string Sha256);

    /// <summary>
    /// The counters and records of a run after <see cref="NextStep"/> steps. <c>Calibration</c>: what the evaluations'
    /// machine speeds so far timed (<see cref="RunResult.CalibrationKind"/>); null in checkpoints written before it was recorded.
    /// <c>Stretches</c>: which process and build trained which steps so far (<see cref="RunResult.Stretches"/>); null in
    /// checkpoints written before they were recorded.
    /// </summary>
    public sealed record State(
        long NextStep, double Flops, double Wall, long Tokens, long BatchesDrawn, ModelConfig Model,
        List<StepRecord> Steps, List<EvalRecord> Evals, List<GrowthRecord> Growths, List<LedgerEntry> Ledger,
        int Format = Format, Dictionary<string, string>? Identity = null, Dictionary<string, FileSeal>? Files = null,
        string? Calibration = null, List<TrainingStretch>? Stretches = null);

    /// <summary>A verified checkpoint: its folder and state.</summary>
    public sealed record Found(string Dir, State State);

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false, IncludeFields = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(string dir, State state, LanguageModel model, AdamW optimizer)
    {
        Directory.CreateDirectory(dir);
        var name = "step-" + state.NextStep.ToString("D9", CultureInfo.InvariantCulture);
        var tmp = Path.Combine(dir, $".{name}.tmp-{Environment.ProcessId}");
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        model.save(Path.Combine(tmp, ModelFile));
        using (var w = new BinaryWriter(File.Create(Path.Combine(tmp, OptimizerFile)))) optimizer.Save(w);
        var sealedState = state with { Format = Format, Files = new() { [ModelFile] = SealOf(Path.Combine(tmp, ModelFile)), [OptimizerFile] = SealOf(Path.Combine(tmp, OptimizerFile)) } };
        var stateBytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(sealedState, Json));
        File.WriteAllBytes(Path.Combine(tmp, StateFile), stateBytes);
        File.WriteAllText(Path.Combine(tmp, StateHashFile), Convert.ToHexStringLower(SHA256.HashData(stateBytes)));
        foreach (var file in Directory.GetFiles(tmp)) Durable.FlushFile(file);
        Durable.FlushDirectory(tmp);
        var target = Path.Combine(dir, name);
        if (Directory.Exists(target)) Retire(target);   // the same step written again (a resumed run)
        Directory.Move(tmp, target);
        Durable.FlushDirectory(dir);
        foreach (var old in StepFolders(dir).Skip(Keep)) Retire(old);
        foreach (var stale in Directory.GetDirectories(dir, ".step-*.old-*")) Directory.Delete(stale, true);   // left by a writer killed mid-delete
    }

    /// <summary>
    /// Removes an old checkpoint so that a kill at any moment leaves it either whole or gone: the folder is first renamed
    /// out of the <c>step-*</c> names (one atomic rename), then deleted. A recursive delete in place, killed half-way,
    /// would leave a <c>step-*</c> folder with some of its files, which a later resume would have to report as damaged.
    /// </summary>
    static void Retire(string folder)
    {
        var parent = Path.GetDirectoryName(folder)!;
        var retired = Path.Combine(parent, $".{Path.GetFileName(folder)}.old-{Environment.ProcessId}");
        if (Directory.Exists(retired)) Directory.Delete(retired, true);
        Directory.Move(folder, retired);
        Directory.Delete(retired, true);
    }

    /// <summary>Checkpoint folders under <paramref name="dir"/>, newest first (temporary folders of killed writers excluded).</summary>
    static IEnumerable<string> StepFolders(string dir) => !Directory.Exists(dir) ? []
        : Directory.GetDirectories(dir, "step-*").Where(d => !Path.GetFileName(d).Contains(".tmp-")).OrderDescending(StringComparer.Ordinal);

    /// <summary>True when <paramref name="dir"/> holds anything a resume could use or would have to refuse.</summary>
    public static bool Exists(string dir) => StepFolders(dir).Any() || File.Exists(Path.Combine(dir, StateFile));

    /// <summary>
    /// The newest whole checkpoint under <paramref name="dir"/>, or null when there is none at all. Each candidate is
    /// verified (state.json's own SHA-256, its parse, its format, the length and SHA-256 of each binary) before anything
    /// is read from it; one that fails is named through <paramref name="log"/> and the next older one is tried. When
    /// checkpoints exist but none is whole, throws a <see cref="UsageException"/> naming the newest one's fault.
    /// </summary>
    public static Found? Latest(string dir, Action<string>? log = null)
    {
        string? firstFault = null;
        foreach (var folder in StepFolders(dir))
        {
            var fault = Verify(folder, out var state);
            if (fault is null)
            {
                if (firstFault is not null) log?.Invoke($"{firstFault}, using the one from step {state!.NextStep}");
                return new Found(folder, state!);
            }
            if (firstFault is not null) log?.Invoke(fault);
            firstFault ??= fault;
        }
        if (firstFault is not null)
            throw new UsageException($"{firstFault}; no whole checkpoint is left: delete {dir} to start the run over (or run without --resume)");
        if (File.Exists(Path.Combine(dir, StateFile)))
            throw new UsageException($"{dir}: a checkpoint of an older ApolloBench (format 1, no checksums) cannot be verified; delete it to start the run over");
        return null;
    }

    /// <summary>The step the newest whole checkpoint under <paramref name="dir"/> continues from, or null (for status lines: never throws).</summary>
    public static long? NextStep(string dir) => NewestState(dir)?.NextStep;

    /// <summary>The state of the newest whole checkpoint under <paramref name="dir"/>, or null (for status lines: never throws).</summary>
    public static State? NewestState(string dir)
    {
        try { return Latest(dir)?.State; }
        catch (UsageException) { return null; }
    }

    /// <summary>Null when <paramref name="folder"/> is a whole checkpoint (and its state), else what is wrong, naming the file.</summary>
    static string? Verify(string folder, out State? state)
    {
        state = null;
        string Name(string file) => Path.Combine(Path.GetFileName(Path.GetDirectoryName(folder)!), Path.GetFileName(folder), file);
        var statePath = Path.Combine(folder, StateFile);
        var hashPath = Path.Combine(folder, StateHashFile);
        if (!File.Exists(statePath)) return $"{Name(StateFile)}: missing";
        if (!File.Exists(hashPath)) return $"{Name(StateHashFile)}: missing";
        var bytes = File.ReadAllBytes(statePath);
        if (!string.Equals(File.ReadAllText(hashPath).Trim(), Convert.ToHexStringLower(SHA256.HashData(bytes)), StringComparison.Ordinal))
            return $"{Name(StateFile)}: SHA-256 does not match {StateHashFile}";
        try
        {
            state = JsonSerializer.Deserialize<State>(bytes, Json);
        }
        catch (JsonException e)
        {
            return $"{Name(StateFile)}: not a checkpoint state ({e.Message.Split(". ")[0]})";
        }
        if (state is null || state.Format != Format || state.Files is null)
            return $"{Name(StateFile)}: format {state?.Format.ToString(CultureInfo.InvariantCulture) ?? "?"}, this ApolloBench reads format {Format}";
        foreach (var (file, seal) in state.Files)
        {
            var path = Path.Combine(folder, file);
            if (!File.Exists(path)) return $"{Name(file)}: missing";
            var length = new FileInfo(path).Length;
            if (length != seal.Bytes) return $"{Name(file)}: {length} bytes, the checkpoint recorded {seal.Bytes}";
            if (SealOf(path).Sha256 != seal.Sha256) return $"{Name(file)}: SHA-256 does not match";
        }
        if (!state.Files.ContainsKey(ModelFile) || !state.Files.ContainsKey(OptimizerFile))
            return $"{Name(StateFile)}: does not list {ModelFile} and {OptimizerFile}";
        return null;
    }

    /// <summary>
    /// Throws a <see cref="UsageException"/> naming every field in which the checkpoint's run differs from the one asked
    /// for (checkpoint value against asked value): only the same run may continue from a checkpoint.
    /// </summary>
    public static void CheckIdentity(Found found, IReadOnlyDictionary<string, string> asked)
    {
        var stored = found.State.Identity ?? new Dictionary<string, string>();
        var differences = asked.Keys.Union(stored.Keys).Order(StringComparer.Ordinal)
            .Where(k => stored.GetValueOrDefault(k) != asked.GetValueOrDefault(k))
            .Select(k => $"{k}: checkpoint {stored.GetValueOrDefault(k) ?? "(none)"}, asked {asked.GetValueOrDefault(k) ?? "(none)"}")
            .ToList();
        if (differences.Count > 0)
            throw new UsageException($"--resume: {found.Dir} belongs to a different run ({string.Join("; ", differences)}); " +
                                     "resume with the same options, or choose another --out");
    }

    public static FileSeal SealOf(string path)
    {
        using var stream = File.OpenRead(path);
        return new FileSeal(stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    /// <summary>
    /// Loads the checkpoint's weights into <paramref name="model"/> in place: every parameter keeps its identity, so the
    /// optimiser (which holds the parameters) goes on updating the model's own weights. TorchSharp 0.107's
    /// <c>Module.load</c> does not guarantee that on a GPU: it moves a CUDA module to the CPU, loads, and moves it back,
    /// which replaces every Parameter object, and a resumed run would then step orphaned tensors while its model stood
    /// still. So the file is read into a CPU twin of the same configuration and copied over tensor by tensor (exact in fp32).
    /// </summary>
    public static void LoadWeights(string found, LanguageModel model)
    {
        // Building the twin reseeds torch's generator (LanguageModel.Create); its CPU state is put back so that loading a
        // checkpoint leaves no trace on it.
        using var rngState = torch.get_rng_state();
        using var twin = LanguageModel.Create(model.Config, initSeed: 0);
        torch.set_rng_state(rngState);
        twin.load(Path.Combine(found, ModelFile));
        model.load_state_dict(twin.state_dict(), strict: true);   // copy_ into the existing tensors; throws on any key mismatch
    }

    public static void LoadOptimizer(string found, AdamW optimizer)
    {
        using var r = new BinaryReader(File.OpenRead(Path.Combine(found, OptimizerFile)));
        optimizer.Load(r);
    }

    public static void Delete(string dir)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
    }
}
