namespace ApolloBench.Reports;

public enum SeriesKind { Bars, Line, Points, Band }

/// <summary>
/// One plotted series. Bars are centred on X with width <see cref="Width"/>. A line breaks where Y is NaN. A band
/// fills between Y (lower) and <see cref="Upper"/>, unnamed in the legend. <see cref="Colour"/> pins a palette index (a
/// band takes its line's), -1 is black (a reference line); without it each line or bar series takes the next colour.
/// </summary>
public sealed record Series(string Name, SeriesKind Kind, double[] X, double[] Y, double Width = 0, double[]? Upper = null, int? Colour = null);

public sealed record Tick(double Position, string Label);

/// <summary>A filled, labelled rectangle of a diagram; <see cref="Color"/> indexes the palette.</summary>
public sealed record Box(double Left, double Right, double Bottom, double Top, string Text, int Color);

public sealed record Label(double X, double Y, string Text, bool Bold = false);

/// <summary>
/// What a figure shows, as data: rendered to PNG by <see cref="PlotRenderer"/>, and compared in
/// snapshot tests without drawing a pixel. A diagram has no axes, only boxes and labels.
/// </summary>
public sealed record Figure(string File, string Title, string XLabel, string YLabel)
{
    public List<Series> Series { get; init; } = [];
    public List<Tick> XTicks { get; init; } = [];
    public List<Box> Boxes { get; init; } = [];
    public List<Label> Labels { get; init; } = [];
    public bool Diagram { get; init; }
    public int Width { get; init; } = 1000;
    public int Height { get; init; } = 520;

    /// <summary>Where the y axis stops at the bottom when the data go lower (null: wherever the data take it).</summary>
    public double? YMin { get; init; }

    /// <summary>Where the y axis stops at the top when the axis would go higher (null: wherever the data take it).</summary>
    public double? YMax { get; init; }
}
