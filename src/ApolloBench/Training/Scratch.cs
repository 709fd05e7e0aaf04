namespace ApolloBench.Training;

/// <summary>The L-layer model trained from random initialisation: every step runs every layer.</summary>
public sealed class Scratch : GrowthMethod
{
    public override string Name => "scratch";
    public override int[] Plan(long step, int microBatch, TrainingSession session) => Models.LanguageModel.IdentityPlan(session.Model.Config.Layers);
    public override int[] EvaluationPlan(long step, TrainingSession session) => Plan(step, 0, session);
}
