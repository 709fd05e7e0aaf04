using ApolloBench.Baselines;
using ApolloBench.Models;
using ApolloBench.Training;
using static ApolloBench.Tests.Baselines.BaselineFixtures;

namespace ApolloBench.Tests.Baselines;

/// <summary>Methods that reset the optimiser (StackBERT) or replace the model (bert2BERT, LiGO) resume exactly too.</summary>
[Collection(BaselinesCollection.Name)]
public class BaselineResumeTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("ab-bresume-").FullName;
    public void Dispose() => Directory.Delete(dir, true);

    sealed class Killed : Exception;

    public static TheoryData<string, long> Cases => new()
    {
        { "stackbert", 8 },    // between the two doublings (steps 5 and 12 of 40)
        { "bert2bert", 6 },    // after the width growth at step 0
        { "ligo", 6 },         // after the operator phase and materialisation at step 0
    };

    static GrowthMethod Make(string name) => name switch
    {
        "stackbert" => new StackBert(StackBert.DefaultStageEnds),
        "bert2bert" => new Bert2Bert(WidthInit.Aki, 0, null, Source()),
        "ligo" => new Ligo(operatorSteps: 2, operatorLr: null, operatorWarmup: 0, smallLayers: null, Source()),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Killed_and_resumed_equals_an_uninterrupted_run(string name, long killAfter)
    {
        var target = Large(Architecture.Gpt);
        var a = Trainer(target, Make(name), Train(20)).Run();
        var checkpoints = new Checkpointing(Path.Combine(dir, name), TimeSpan.Zero, Resume: true);
        Assert.Throws<Killed>(() => Trainer(target, Make(name), Train(20)).Run((s, _) => { if (s.Step == killAfter) throw new Killed(); }, checkpoints));
        var b = Trainer(target, Make(name), Train(20)).Run(checkpointing: checkpoints);
        Assert.Equal(a.Steps.Select(s => (s.Flops, s.Depth)), b.Steps.Select(s => (s.Flops, s.Depth)));
        if (name == "ligo")
        {
            // Known: a LiGO-materialised model's loss varies in the last bit between two identical in-process runs
            // even without resuming (seen with 0 operator steps too), so LiGO is held to 1e-6 relative here.
            foreach (var (x, y) in a.Steps.Zip(b.Steps)) Assert.Equal(x.Loss, y.Loss, x.Loss * 1e-6);
            foreach (var (x, y) in a.Evals.Zip(b.Evals)) Assert.Equal(x.ValidLoss, y.ValidLoss, x.ValidLoss * 1e-6);
        }
        else
        {
            Assert.Equal(a.Steps.Select(s => s.Loss), b.Steps.Select(s => s.Loss));
            Assert.Equal(a.Evals.Select(e => e.ValidLoss), b.Evals.Select(e => e.ValidLoss));
        }
        Assert.Equal(a.Growths.Select(g => (g.Step, g.From, g.To)), b.Growths.Select(g => (g.Step, g.From, g.To)));
        Assert.Equal(a.Ledger.Select(e => (e.What, e.Flops, e.CountedInRun)), b.Ledger.Select(e => (e.What, e.Flops, e.CountedInRun)));
    }
}
