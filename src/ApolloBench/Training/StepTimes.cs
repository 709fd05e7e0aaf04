using System.Globalization;
using CsvHelper;

namespace ApolloBench.Training;

/// <summary>One measured training step: a model at a width and executed depth, its median time and analytic FLOPs.</summary>
[CsvRecord]
public partial record StepTime(string Model, int Hidden, int Depth, double Milliseconds, double Flops);

/// <summary>
/// The per-depth step-time table the bench measures once per device (reports/step-times-&lt;device&gt;.csv).
/// <see cref="CostModel"/> turns it into Apollo's expected wall-time saving, which is only meaningful when the
/// table is sane: a step must get slower as layers are added. <see cref="Violations"/> says where it does not.
/// </summary>
public static class StepTimes
{
    public static void Write(string path, IEnumerable<StepTime> rows)
        => RunFiles.Atomic(path, p => { using var w = CsvWriter.ToFile(p); w.WriteRecords(rows); });

    public static IReadOnlyList<StepTime> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no step-time table (the bench writes it)", path);
        using var r = CsvReader.FromFile(path);
        return r.GetRecords<StepTime>().ToList();
    }

    /// <summary>
    /// Every way the table fails to rise with depth, one line each (empty when it is sane). Per model and width:
    /// the depths must run 1..N without gaps; no step may be more than <paramref name="tolerance"/> faster than the
    /// slowest shallower one (so a spike at one depth shows up as the drop after it); and the deepest step must
    /// cost at least <paramref name="minGrowth"/> times the one-layer step.
    /// </summary>
    public static IReadOnlyList<string> Violations(IReadOnlyList<StepTime> rows, double tolerance = 0.10, double minGrowth = 1.5)
    {
        var problems = new List<string>();
        foreach (var series in rows.GroupBy(r => (r.Model, r.Hidden)))
            Check($"{series.Key.Model} h={series.Key.Hidden}", series.OrderBy(r => r.Depth).ToList());

        void Check(string name, List<StepTime> byDepth)
        {
            for (int i = 0; i < byDepth.Count; i++)
                if (byDepth[i].Depth != i + 1)
                {
                    problems.Add($"{name}: depths are not 1..{byDepth.Count} (found {byDepth[i].Depth} at position {i + 1})");
                    return;
                }
            double slowest = 0;
            foreach (var row in byDepth)
            {
                if (!(row.Milliseconds > 0)) problems.Add($"{name}: depth {row.Depth} has a non-positive time {row.Milliseconds}");
                else if (row.Milliseconds < (1 - tolerance) * slowest)
                    problems.Add(string.Create(CultureInfo.InvariantCulture,
                        $"{name}: depth {row.Depth} takes {row.Milliseconds:F1} ms, more than {tolerance:P0} below a shallower step's {slowest:F1} ms"));
                slowest = Math.Max(slowest, row.Milliseconds);
            }
            if (byDepth.Count > 1 && byDepth[^1].Milliseconds < minGrowth * byDepth[0].Milliseconds)
                problems.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: depth {byDepth[^1].Depth} ({byDepth[^1].Milliseconds:F1} ms) is not {minGrowth}x depth 1 ({byDepth[0].Milliseconds:F1} ms)"));
        }
        return problems;
    }

    /// <summary>
    /// Least-squares fit of time = fixed + perLayer·depth: the fixed part is what a step costs whatever its depth
    /// (embeddings, the head and its softmax, the optimizer over the non-layer parameters, framework overhead).
    /// </summary>
    public static (double FixedMs, double PerLayerMs) Fit(IReadOnlyList<StepTime> series)
    {
        if (series.Count < 2) throw new ArgumentException("need at least two depths", nameof(series));
        double n = series.Count, sx = series.Sum(r => (double)r.Depth), sy = series.Sum(r => r.Milliseconds);
        double sxx = series.Sum(r => (double)r.Depth * r.Depth), sxy = series.Sum(r => r.Depth * r.Milliseconds);
        double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        return ((sy - slope * sx) / n, slope);
    }
}
