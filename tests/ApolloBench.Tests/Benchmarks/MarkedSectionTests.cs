using ApolloBench.Benchmarks;

namespace ApolloBench.Tests.Benchmarks;

public class MarkedSectionTests
{
    const string Begin = "<!-- x begin -->", End = "<!-- x end -->";

    [Fact]
    public void A_section_replaces_the_marked_one_and_keeps_the_text_around_it()
    {
        var text = $"# Title\n\nbefore\n\n{Begin}\nold\n{End}\n\nafter\n";
        Assert.Equal($"# Title\n\nbefore\n\n{Begin}\nnew\n{End}\n\nafter\n", MarkedSection.Replace(text, Begin, End, $"{Begin}\nnew\n{End}"));
    }

    [Fact]
    public void Without_a_marked_section_it_is_appended()
        => Assert.Equal($"# Title\n\n{Begin}\nnew\n{End}\n", MarkedSection.Replace("# Title\n", Begin, End, $"{Begin}\nnew\n{End}"));

    /// <summary>The walltime proof keeps one section per (wait policy, threads): writing one must leave every other in place.</summary>
    [Fact]
    public void Each_walltime_variant_has_its_own_markers_and_the_default_keeps_the_original_ones()
    {
        Assert.Equal((WallTimeProof.Begin, WallTimeProof.End), WallTimeProof.Markers(null, WallTimeProof.DefaultThreads));
        var markers = WallTimeProof.Variants.Select(v => WallTimeProof.Markers(v.Policy, v.Threads)).ToList();
        Assert.Equal(markers.Count, markers.Select(m => m.Begin).Distinct().Count());
        var text = "# Performance\n";
        foreach (var (begin, end) in markers) text = MarkedSection.Replace(text, begin, end, $"{begin}\n{begin.Length}\n{end}");
        var (oneBegin, oneEnd) = WallTimeProof.Markers(null, 1);
        var rewritten = MarkedSection.Replace(text, oneBegin, oneEnd, $"{oneBegin}\nnew\n{oneEnd}");
        foreach (var (begin, end) in markers.Where(m => m.Begin != oneBegin)) Assert.Contains($"{begin}\n{begin.Length}\n{end}", rewritten);
        Assert.Contains($"{oneBegin}\nnew\n{oneEnd}", rewritten);
    }
}
