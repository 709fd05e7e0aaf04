namespace ApolloBench.Training;

/// <summary>Everything the trainer needs besides the model and the method. Saved with every run.</summary>
public sealed record TrainConfig
{
    public long Steps { get; init; } = 1000;
    public int BatchSize { get; init; } = 16;
    /// <summary>Micro-batches per optimiser step (gradient accumulation).</summary>
    public int Accumulation { get; init; } = 1;
    public double LearningRate { get; init; } = 1e-4;
    /// <summary>Fraction of the run's own budget spent warming up (released code: 2.5%).</summary>
    public double WarmupFraction { get; init; } = 0.025;
    public double WeightDecay { get; init; } = 0.01;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double ClipNorm { get; init; } = 1.0;
    public int EvalEvery { get; init; } = 50;
    public int EvalBatches { get; init; } = 8;
    public long Seed { get; init; } = 42;
    /// <summary>torch.set_num_threads; fixed so curves are bit-reproducible.</summary>
    public int Threads { get; init; } = Math.Max(1, Environment.ProcessorCount);
    public string Device { get; init; } = "cpu";
    /// <summary>Dropout at every site Hugging Face's BERT and GPT-2 put it (released configs: 0.1); training only.</summary>
    public double Dropout { get; init; } = 0.1;
    /// <summary>fp32, or bf16 mixed precision (<see cref="Runtime.Autocast"/>; the released scripts train with --bf16).</summary>
    public string Precision { get; init; } = "fp32";

    /// <summary><see cref="Precision"/> parsed.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Runtime.Precision PrecisionMode => Runtime.Autocast.Parse(Precision);

    public void Validate()
    {
        static void Need(bool ok, string option, string reason) { if (!ok) throw new Core.UsageException($"{option}: {reason}"); }
        Need(Steps >= 1, "--steps", $"must be >= 1 (got {Steps})");
        Need(BatchSize >= 1, "--batch-size", $"must be >= 1 (got {BatchSize})");
        Need(Accumulation >= 1, "--accumulation", $"must be >= 1 (got {Accumulation})");
        Need(LearningRate > 0, "--lr", $"must be > 0 (got {LearningRate})");
        Need(WarmupFraction is >= 0 and < 1, "--warmup", $"must be in [0, 1) (got {WarmupFraction})");
        Need(WeightDecay >= 0, "--weight-decay", $"must be >= 0 (got {WeightDecay})");
        Need(ClipNorm > 0, "--clip", $"must be > 0 (got {ClipNorm})");
        Need(EvalEvery >= 1, "--eval-every", $"must be >= 1 (got {EvalEvery})");
        Need(EvalBatches >= 1, "--eval-batches", $"must be >= 1 (got {EvalBatches})");
        Need(Threads >= 1, "--threads", $"must be >= 1 (got {Threads})");
        Need(Device is "cpu" or "cuda" || Device.StartsWith("cuda:"), "--device", $"must be cpu or cuda (got '{Device}')");
        Need(Dropout is >= 0 and < 1, "--dropout", $"must be in [0, 1) (got {Dropout})");
        _ = PrecisionMode;
    }
}
