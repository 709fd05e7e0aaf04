using System.Globalization;
using ApolloBench.Experiments;
using CsvHelper;

namespace ApolloBench.Reports;

[CsvRecord]
public partial record ProfileCsvRow(string Method, double Tau, double Fraction, int Pairs);

[CsvRecord]
public partial record ProfilePairCsvRow(string Workload, string Target, string Method, double? Flops, double? Best, double? Ratio);

/// <summary>
/// Writes a scale's performance profile (<see cref="PerformanceProfiles"/>) into a reports root: <c>profiles-&lt;scale&gt;.png</c>,
/// <c>profiles-&lt;scale&gt;.csv</c> (each method's fraction of pairs per tau) and <c>profiles-&lt;scale&gt;-pairs.csv</c>
/// (every method's FLOPs and ratio to the best on every pair).
/// </summary>
public static class ProfileReport
{
    public static string FileStem(string scale) => $"profiles-{scale}";

    public static void Write(string root, PerformanceProfile profile)
    {
        Directory.CreateDirectory(root);
        var stem = Path.Combine(root, FileStem(profile.Scale));
        PlotRenderer.SavePng(Figure(profile), stem + ".png");
        using (var w = CsvWriter.ToFile(stem + ".csv"))
            w.WriteRecords(profile.Methods.SelectMany(m => profile.Taus.Select((tau, i) => new ProfileCsvRow(m.Method, tau, Math.Round(m.Fraction[i], 6), m.Pairs))).ToList());
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        using (var w = CsvWriter.ToFile(stem + "-pairs.csv"))
            w.WriteRecords(profile.Pairs.SelectMany(p => p.Flops.Select(m => new ProfilePairCsvRow(p.Workload, p.Target, m.Key, Finite(m.Value), p.Best, Finite(p.Ratio(m.Key))))).ToList());
    }

    /// <summary>One line per method: the fraction of its pairs reached within tau x the best method's FLOPs.</summary>
    public static Figure Figure(PerformanceProfile profile)
    {
        int workloads = profile.Pairs.Select(p => p.Workload).Distinct().Count();
        var title = $"Performance profile, scale {profile.Scale}: {profile.Pairs.Count} (workload, held-out target) pairs, {workloads} workload{(workloads == 1 ? "" : "s")}";
        var figure = new Figure(FileStem(profile.Scale) + ".png", title, "tau: FLOPs within tau x the best method's on the pair",
            "fraction of the method's pairs reached") { Height = 640, Width = 1100 };
        foreach (var m in profile.Methods)
            figure.Series.Add(new Series($"{m.Method} ({m.Pairs.ToString(CultureInfo.InvariantCulture)} pairs)", SeriesKind.Line, profile.Taus, m.Fraction.Select(f => Math.Round(f, 6)).ToArray()));
        return figure;
    }
}
