using ApolloBench.Growth;
using ApolloBench.Runs;
using ApolloBench.Tests.Baselines;
using ApolloBench.Training;

namespace ApolloBench.Tests.Runs;

[Collection(BaselinesCollection.Name)]
public class RegistryTests
{
    [Fact]
    public void Every_method_is_one_registry_name()
    {
        Assert.Equal(["scratch", "apollo", "stackbert", "bert2bert", "ligo"], MethodRegistry.Names);
        foreach (var name in MethodRegistry.Names)
            Assert.Equal(name, MethodRegistry.Create(name, new MethodOptions(), 12).Name);
    }

    [Fact]
    public void Apollo_ablations_are_options_of_the_same_method()
    {
        var s = Assert.IsType<Apollo>(MethodRegistry.Create("apollo", new MethodOptions { Mapping = "stack", Sampler = "es", Moments = "copy" }, 12));
        Assert.Equal((MappingKind.Stack, "es", MomentPolicy.Copy), (s.Mapping, s.Sampler.Name.Split(' ', '(')[0], s.Moments));
        foreach (var sampler in new[] { "lvps", "es", "us", "fs", "none", "lvps-code", "sigmoid-code" })
            Assert.IsType<Apollo>(MethodRegistry.Create("apollo", new MethodOptions { Sampler = sampler }, 12));
        Assert.Equal(MappingKind.Interpolate, Assert.IsType<Apollo>(MethodRegistry.Create("apollo", new MethodOptions(), 12)).Mapping);
    }

    [Fact]
    public void Ledger_rows_put_the_training_steps_first_and_keep_what_was_not_counted()
    {
        var r = new RunResult();
        r.Steps.Add(new StepRecord(0, 1, 12, 12, Flops: 100 + 40, WallSeconds: 5 + 2, 1e-3, 1, 64));
        r.Ledger.Add(new LedgerEntry(0, "operator", 40, 2, true));
        r.Ledger.Add(new LedgerEntry(0, "small model", 70, 9, false));
        var rows = RunFiles.LedgerRows(r);
        Assert.Equal(new LedgerRow(1, "training steps", 100, 5, true), rows[0]);
        Assert.Equal(3, rows.Count);
        Assert.Equal((140.0, 70.0, 210.0), (r.TotalFlops, r.ExternalFlops, r.TotalFlopsWithExternal));
    }
}
