using ScottPlot;

namespace ApolloBench.Reports;

/// <summary>
/// Draws a <see cref="Figure"/> with ScottPlot 5 into a PNG. Text needs a font installed in
/// /usr/share/fonts (fonts-dejavu on Debian/Ubuntu): without one ScottPlot silently draws no text.
/// </summary>
public static class PlotRenderer
{
    public const string FontName = "DejaVu Sans";

    /// <summary>Whether <see cref="FontName"/> is installed; without it figures are drawn with no text at all.</summary>
    public static bool FontInstalled { get; } = SkiaSharp.SKFontManager.Default.GetFontFamilies().Contains(FontName);

    public static void SavePng(Figure figure, string path)
    {
        var plt = new Plot();
        plt.Font.Set(FontName);
        if (!figure.Diagram) plt.Title(figure.Title); // a diagram carries its title as a label
        if (figure.Diagram) DrawDiagram(plt, figure);
        else DrawChart(plt, figure);
        plt.SavePng(path, figure.Width, figure.Height);
    }

    static Color Palette(int i) => i < 0 ? Colors.Black : Colors.Category10[i % Colors.Category10.Length];

    static void DrawChart(Plot plt, Figure figure)
    {
        plt.XLabel(figure.XLabel);
        plt.YLabel(figure.YLabel);
        int next = 0;
        int ColourOf(Series s) => s.Colour ?? next++;
        foreach (var s in figure.Series)
        {
            switch (s.Kind)
            {
                case SeriesKind.Bars:
                {
                    var c = Palette(ColourOf(s));
                    var bars = s.X.Zip(s.Y, (x, y) => new Bar { Position = x, Value = y, Size = s.Width, FillColor = c, LineWidth = 0 }).ToList();
                    plt.Add.Bars(bars);
                    plt.Legend.ManualItems.Add(new LegendItem { LabelText = s.Name, FillColor = c });
                    break;
                }
                case SeriesKind.Line:
                {
                    int index = ColourOf(s);
                    var c = Palette(index);
                    // Past the palette's ten colours, lines are dashed so no two look the same.
                    var pattern = index >= Colors.Category10.Length ? LinePattern.Dashed : LinePattern.Solid;
                    foreach (var (x, y) in Segments(s.X, s.Y))
                    {
                        var line = plt.Add.ScatterLine(x, y, c);
                        line.LineWidth = 2;
                        line.LinePattern = pattern;
                    }
                    plt.Legend.ManualItems.Add(new LegendItem { LabelText = s.Name, LineColor = c, LineWidth = 2, LinePattern = pattern });
                    break;
                }
                case SeriesKind.Band:
                {
                    var c = Palette(s.Colour ?? next);
                    foreach (var (x, low, high) in BandSegments(s.X, s.Y, s.Upper ?? s.Y))
                    {
                        var fill = plt.Add.FillY(x, low, high);
                        fill.FillColor = c.WithAlpha(0.18);
                        fill.LineWidth = 0;
                    }
                    break;
                }
                case SeriesKind.Points:
                {
                    // Black unless pinned to a palette colour (a series of points that belongs to a line of that colour).
                    var c = s.Colour is { } pinned and >= 0 ? Palette(pinned) : Colors.Black;
                    var points = plt.Add.ScatterPoints(s.X, s.Y, c);
                    points.MarkerSize = 6;
                    points.MarkerShape = MarkerShape.OpenCircle;
                    plt.Legend.ManualItems.Add(new LegendItem { LabelText = s.Name, MarkerColor = c, MarkerShape = MarkerShape.OpenCircle, MarkerSize = 6 });
                    break;
                }
            }
        }
        if (figure.XTicks.Count > 0)
            plt.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                figure.XTicks.Select(t => t.Position).ToArray(), figure.XTicks.Select(t => t.Label).ToArray());
        if (figure.Series.Any(s => s.Kind == SeriesKind.Bars)) plt.Axes.Margins(bottom: 0);
        if (figure.YMin is not null || figure.YMax is not null)
        {
            plt.Axes.AutoScale();
            var limits = plt.Axes.GetLimits();
            double bottom = Math.Max(limits.Bottom, figure.YMin ?? double.NegativeInfinity), top = Math.Min(limits.Top, figure.YMax ?? double.PositiveInfinity);
            plt.Axes.SetLimitsY(bottom, top > bottom ? top : bottom + 1);   // a degenerate range opens to one unit
        }
        if (figure.Series.Count > 0)
        {
            plt.ShowLegend(Edge.Right); // outside the data area: never covers a bar
        }
    }

    /// <summary>The stretches of a line between NaN values (a method that has not reached a target has no point there).</summary>
    static IEnumerable<(double[] X, double[] Y)> Segments(double[] x, double[] y)
    {
        int start = 0;
        for (int i = 0; i <= y.Length; i++)
        {
            if (i < y.Length && double.IsFinite(y[i]) && double.IsFinite(x[i])) continue;
            if (i > start) yield return (x[start..i], y[start..i]);
            start = i + 1;
        }
    }

    static IEnumerable<(double[] X, double[] Low, double[] High)> BandSegments(double[] x, double[] low, double[] high)
    {
        int start = 0;
        for (int i = 0; i <= x.Length; i++)
        {
            if (i < x.Length && double.IsFinite(low[i]) && double.IsFinite(high[i])) continue;
            if (i - start > 1) yield return (x[start..i], low[start..i], high[start..i]);
            start = i + 1;
        }
    }

    static void DrawDiagram(Plot plt, Figure figure)
    {
        foreach (var b in figure.Boxes)
        {
            var r = plt.Add.Rectangle(b.Left, b.Right, b.Bottom, b.Top);
            r.FillColor = Palette(b.Color).WithAlpha(0.85);
            r.LineColor = Colors.Black;
            r.LineWidth = 1;
            var t = plt.Add.Text(b.Text, (b.Left + b.Right) / 2, (b.Bottom + b.Top) / 2);
            t.LabelAlignment = Alignment.MiddleCenter;
            t.LabelFontSize = 15;
            t.LabelFontColor = Colors.White;
            t.LabelBold = true;
        }
        foreach (var l in figure.Labels)
        {
            var t = plt.Add.Text(l.Text, l.X, l.Y);
            t.LabelAlignment = Alignment.MiddleCenter;
            t.LabelFontSize = 15;
            t.LabelBold = l.Bold;
        }
        var xs = figure.Boxes.SelectMany(b => new[] { b.Left, b.Right }).Concat(figure.Labels.Select(l => l.X)).DefaultIfEmpty(0).ToList();
        var ys = figure.Boxes.SelectMany(b => new[] { b.Bottom, b.Top }).Concat(figure.Labels.Select(l => l.Y)).DefaultIfEmpty(0).ToList();
        plt.Axes.SetLimits(xs.Min() - 0.5, xs.Max() + 0.5, ys.Min() - 0.5, ys.Max() + 0.5);
        plt.Layout.Frameless();
        plt.HideGrid();
    }
}
