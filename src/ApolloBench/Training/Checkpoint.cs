using System.Text.Json;
using ApolloBench.Models;
using TorchSharp;

namespace ApolloBench.Training;

/// <summary>Where and how often a run checkpoints, and whether it continues from an existing checkpoint.</summary>
public sealed record Checkpointing(string Dir, TimeSpan Every, bool Resume)
{
    /// <summary>Checkpoint every few minutes (the default for long runs).</summary>
    public static Checkpointing In(string runDir, bool resume, TimeSpan? every = null)
        => new(Path.Combine(runDir, Checkpoint.Folder), every ?? TimeSpan.FromMinutes(3), resume);
}

/// <summary>
/// Everything a killed run needs to continue exactly where it stopped: the model (whatever shape the
/// method has grown it to), the optimiser's moments, the data stream's position, the cumulative
/// counters and every record so far. Data order, masking and depth sampling are pure functions of
/// (seed, step), so a resumed run computes bit-for-bit what an uninterrupted one computes (on CPU with
/// the thread count fixed); only wall seconds differ.
/// A checkpoint is a folder written under a temporary name and swapped in by renames, so a kill at
/// any moment leaves either the previous checkpoint or the new one, never half of one.
/// </summary>
public static class Checkpoint
{
    public const string Folder = "checkpoint";
    const string StateFile = "state.json", ModelFile = "model.bin", OptimizerFile = "optimizer.bin";

    /// <summary>The counters and records of a run after <see cref="NextStep"/> steps.</summary>
    public sealed record State(
        long NextStep, double Flops, double Wall, long Tokens, long BatchesDrawn, ModelConfig Model,
        List<StepRecord> Steps, List<EvalRecord> Evals, List<GrowthRecord> Growths, List<LedgerEntry> Ledger,
        int Format = 1);

    static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false, IncludeFields = false,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void Save(string dir, State state, LanguageModel model, AdamW optimizer)
    {
        var parent = Path.GetDirectoryName(Path.GetFullPath(dir))!;
        Directory.CreateDirectory(parent);
        var tmp = dir + ".tmp-" + Environment.ProcessId;
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        model.save(Path.Combine(tmp, ModelFile));
        using (var w = new BinaryWriter(File.Create(Path.Combine(tmp, OptimizerFile)))) optimizer.Save(w);
        File.WriteAllText(Path.Combine(tmp, StateFile), JsonSerializer.Serialize(state, Json));
        var old = dir + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, true);
        if (Directory.Exists(dir)) Directory.Move(dir, old);
        Directory.Move(tmp, dir);
        if (Directory.Exists(old)) Directory.Delete(old, true);
    }

    /// <summary>The newest complete checkpoint under <paramref name="dir"/> (or its .old twin after a kill mid-swap), or null.</summary>
    public static string? Find(string dir)
    {
        foreach (var candidate in new[] { dir, dir + ".old" })
            if (File.Exists(Path.Combine(candidate, StateFile)) && File.Exists(Path.Combine(candidate, ModelFile)) && File.Exists(Path.Combine(candidate, OptimizerFile)))
                return candidate;
        return null;
    }

    public static State ReadState(string found)
        => JsonSerializer.Deserialize<State>(File.ReadAllText(Path.Combine(found, StateFile)), Json)
           ?? throw new InvalidDataException($"{Path.Combine(found, StateFile)}: empty checkpoint state");

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
        foreach (var d in new[] { dir, dir + ".old" })
            if (Directory.Exists(d)) Directory.Delete(d, true);
    }
}
