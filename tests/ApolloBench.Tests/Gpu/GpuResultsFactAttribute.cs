namespace ApolloBench.Tests.Gpu;

/// <summary>
/// A test that reads the gpu-scale runs a <c>reproduce ... --scale gpu</c> stored. It is reported as skipped, with the
/// reason, unless <see cref="GpuResults.Variable"/> names the runs folder; once it is set, missing or unreadable runs
/// fail the test (they are never a skip).
/// </summary>
public sealed class GpuResultsFactAttribute : FactAttribute
{
    public GpuResultsFactAttribute()
    {
        if (GpuResults.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>The theory form of <see cref="GpuResultsFactAttribute"/>.</summary>
public sealed class GpuResultsTheoryAttribute : TheoryAttribute
{
    public GpuResultsTheoryAttribute()
    {
        if (GpuResults.SkipReason is { } reason) Skip = reason;
    }
}
