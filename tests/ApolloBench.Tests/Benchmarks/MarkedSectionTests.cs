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
}
