using ApolloBench.Models;

namespace ApolloBench.Training;

/// <summary>
/// Named sizes. Every scale keeps 12 layers so the paper's stage schedule [1, 3, 6, 12] applies unchanged.
/// </summary>
public sealed record Scale(string Name, int Hidden, int Heads, int Vocab, int SeqLen, TrainConfig Train, string Why)
{
    public ModelConfig Model(Architecture arch, int layers = 12) => new(arch, layers, Hidden, Heads, Vocab, SeqLen);

    /// <summary>Training settings that differ from <see cref="Train"/> for one architecture (a run's key hashes the result).</summary>
    public IReadOnlyDictionary<Architecture, TrainConfig> TrainByArch { get; init; } = new Dictionary<Architecture, TrainConfig>();

    /// <summary>The training settings of this scale for one architecture.</summary>
    public TrainConfig TrainFor(Architecture arch) => TrainByArch.TryGetValue(arch, out var t) ? t : Train;

    public static readonly Scale Smoke = new("smoke", Hidden: 32, Heads: 2, Vocab: 256, SeqLen: 32,
        new TrainConfig { Steps = 40, BatchSize = 4, LearningRate = 1e-3, EvalEvery = 10, EvalBatches = 2 },
        "Tests: seconds per run. Not meant to learn anything beyond 'the loss moves'.");

    /// <summary>
    /// Forward FLOPs per token at this scale (T = 128, h = 128, f = 512, V = 4096):
    /// a layer costs 8h² + 4hf + 4Th = 458,752 (BERT; GPT's causal half-attention gives 426,240),
    /// twelve layers 5.5M (BERT) / 5.1M (GPT). BERT's MLM head runs on ~15% of positions:
    /// 0.15·(2h² + 2hV) = 0.16M, so layers are 97% of BERT's FLOPs; GPT's tied head runs everywhere:
    /// 2hV = 1.05M, so layers are 83%. Both clear the 80% bar only because V is small (4,096 remapped
    /// cl100k ids); at V = 32k GPT's head would be 60%. Steps and batch are chosen so a 12-layer
    /// Scratch run takes about ten minutes on 2 cores (see README for the measured time).
    /// BERT gets 2,000 steps at peak lr 5e-4 with 5% warmup; GPT 600 steps at 1e-3 with 2.5%. The post-LayerNorm
    /// masked LM sits on the unigram plateau (held-out loss ~6.07-6.09) first. With 600 steps Scratch and Apollo never
    /// left it, and with 2,000 steps at 1e-3 and 50 warmup steps Scratch was still on it at step 1,000. At 5e-4 with 5%
    /// warmup Scratch's held-out loss is 6.07 at step 200, 5.94 at 400, 5.73 at 1,200 and 5.69 at 2,000
    /// (reports/table4/cpu, 406 s on 2 threads). GPT leaves its plateau within 100 steps.
    /// </summary>
    public static readonly Scale Cpu = new("cpu", Hidden: 128, Heads: 4, Vocab: 4096, SeqLen: 128,
        new TrainConfig { Steps = 600, BatchSize = 16, LearningRate = 1e-3, EvalEvery = 25, EvalBatches = 8 },
        "Default. Layers >= 80% of FLOPs (small remapped vocabulary); a 12-layer Scratch run is about ten minutes on 2 cores (BERT 2,000 steps, GPT 600).")
    {
        TrainByArch = new Dictionary<Architecture, TrainConfig>
        {
            [Architecture.Bert] = new TrainConfig { Steps = 2000, BatchSize = 16, LearningRate = 5e-4, WarmupFraction = 0.05, EvalEvery = 50, EvalBatches = 8 },
        },
    };

    public static readonly Scale Gpu = new("gpu", Hidden: 512, Heads: 8, Vocab: 16384, SeqLen: 256,
        new TrainConfig { Steps = 20000, BatchSize = 64, LearningRate = 5e-4, EvalEvery = 500, EvalBatches = 32, Device = "cuda" },
        "One GPU, hours: BERT-Small width, 12 layers.");

    /// <summary>SPEC.md Table 5 (BERT-Base / GPT-Base): hidden 768, 12 heads; vocab and sequence length per the paper.</summary>
    public static readonly Scale Paper = new("paper", Hidden: 768, Heads: 12, Vocab: 30522, SeqLen: 512,
        new TrainConfig { Steps = 200000, BatchSize = 32, Accumulation = 24, LearningRate = 1e-4, EvalEvery = 2000, EvalBatches = 64, Device = "cuda" },
        "Paper shapes (Table 5); batch 768 via accumulation. GPT uses vocab 50257 and sequence 1024.");

    public static IReadOnlyList<Scale> All { get; } = [Smoke, Cpu, Gpu, Paper];

    public static Scale Parse(string name)
        => All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
           ?? throw new Core.UsageException($"--scale: unknown scale '{name}' (valid: {string.Join(", ", All.Select(s => s.Name))})");

    /// <summary>The paper's GPT-Base uses GPT-2's vocabulary and a 1024-token context.</summary>
    public ModelConfig ModelFor(Architecture arch)
        => Name == "paper" && arch == Architecture.Gpt ? new(arch, 12, Hidden, Heads, 50257, 1024) : Model(arch);
}
