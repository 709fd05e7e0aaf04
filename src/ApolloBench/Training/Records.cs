namespace ApolloBench.Training;

/// <summary>One optimiser step. Flops and WallSeconds are cumulative over training steps (evaluation excluded).</summary>
public sealed record StepRecord(
    long Step, double Loss, double Depth, int Weights, double Flops, double WallSeconds,
    double LearningRate, double GradNorm, long Tokens);

/// <summary>Held-out loss after <paramref name="Step"/> steps, at the cumulative training cost so far.</summary>
public sealed record EvalRecord(long Step, double ValidLoss, double Flops, double WallSeconds);

/// <summary>Everything a run measured.</summary>
public sealed class RunResult
{
    public List<StepRecord> Steps { get; } = [];
    public List<EvalRecord> Evals { get; } = [];
    public List<GrowthRecord> Growths { get; } = [];
    public double TotalFlops => Steps.Count == 0 ? 0 : Steps[^1].Flops;
    public double TotalWallSeconds => Steps.Count == 0 ? 0 : Steps[^1].WallSeconds;
}
