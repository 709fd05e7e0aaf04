using ApolloBench.Growth;

namespace ApolloBench.Training;

/// <summary>
/// The seam between the runner and a progressive-training method (after AlgoPerf's split): a method
/// only decides what executes at each micro-batch and when and how the model grows. The trainer
/// owns the clock, the data stream, the FLOPs ledger, evaluation and the optimiser's schedule, and
/// measures every growth itself (loss on a fixed batch just before and just after).
/// Work a method does outside the trainer's steps (LiGO's operator steps, a dependency run) is charged
/// through <see cref="TrainingSession.ChargeTimed"/> or <see cref="TrainingSession.ChargeExtra"/> and lands in the
/// run's ledger.
/// A new method is one class plus one line in <c>MethodRegistry</c>.
/// </summary>
public abstract class GrowthMethod
{
    /// <summary>The registry name, e.g. "apollo".</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Checks the method's options against a model and budget before any data is read or any file written
    /// (e.g. every stage gets at least one step); throws a <see cref="Core.UsageException"/> naming the option.
    /// </summary>
    public virtual void Check(Models.ModelConfig model, TrainConfig train) { }

    /// <summary>Called once, before step 0, with a freshly initialised full-size model.</summary>
    public virtual void Start(TrainingSession session) { }

    /// <summary>True when the model grows at the start of <paramref name="step"/>.</summary>
    public virtual bool GrowsAt(long step, TrainingSession session) => false;

    /// <summary>Grows the model (in place, or by <see cref="TrainingSession.ReplaceModel"/>); returns "from -> to".</summary>
    public virtual (string From, string To) Grow(long step, TrainingSession session)
        => throw new InvalidOperationException($"{Name} does not grow");

    /// <summary>The execution plan for one micro-batch: executed layer -> weight index.</summary>
    public abstract int[] Plan(long step, int microBatch, TrainingSession session);

    /// <summary>The plan evaluation runs at <paramref name="step"/> (the full depth of the current stage).</summary>
    public abstract int[] EvaluationPlan(long step, TrainingSession session);

    /// <summary>The method's resolved options, written to the run manifest.</summary>
    public virtual IReadOnlyDictionary<string, object> Options => new Dictionary<string, object>();
}

/// <summary>
/// A method that trains in stages and grows between them (Apollo, StackBERT): what the harness needs to keep the model at
/// the end of each stage and to probe it there (Table 3), answered by the method that owns the options.
/// </summary>
public interface IStagedMethod
{
    /// <summary>The stages for a model of <paramref name="layers"/> layers.</summary>
    StageSchedule Stages(int layers);

    /// <summary>How a stage's weights grow into the next stage's.</summary>
    MappingKind StageGrowth { get; }

    /// <summary>The plan a stage of <paramref name="weights"/> weights is evaluated with in a model of <paramref name="layers"/> layers.</summary>
    int[] StagePlan(int weights, int layers);
}

/// <summary>A growth event in a run's record.</summary>
public sealed record GrowthRecord(long Step, string From, string To, double LossBefore, double LossAfter);
