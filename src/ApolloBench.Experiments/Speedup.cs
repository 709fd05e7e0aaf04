using System.Text.Json;
using System.Text.Json.Serialization;

namespace ApolloBench.Experiments;

/// <summary>
/// Iso-loss speedup curves of an artifact on the held-out loss: for each target fraction <see cref="Fractions"/> of
/// Scratch's budget, <see cref="TargetLoss"/><c>[j][s]</c> is Scratch seed <see cref="Seeds"/><c>[s]</c>'s held-out loss
/// there, and each method's savings to reach it are in <see cref="Methods"/>. Stored by columns, each on one line of
/// results.json (91 targets x every method would otherwise take tens of thousands of lines).
/// </summary>
public sealed record SpeedupCurves(
    [property: JsonConverter(typeof(OnOneLine<long[]>))] long[] Seeds,
    [property: JsonConverter(typeof(OnOneLine<double[]>))] double[] Fractions,
    [property: JsonConverter(typeof(OnOneLine<double[][]>))] double[][] TargetLoss,
    List<SpeedupResult> Methods)
{
    /// <summary>A method's curve as one point per target: its per-seed savings and their summaries.</summary>
    public IReadOnlyList<SpeedupPoint> PointsOf(SpeedupResult m) => Fractions.Select((f, j) => new SpeedupPoint(f,
        m.Flops.PerSeed.Select(s => s[j]).ToArray(), m.Wall.PerSeed.Select(s => s[j]).ToArray(),
        m.NormalisedWall?.PerSeed.Select(s => s[j]).ToArray() ?? new double?[Seeds.Length],
        new TargetSummary(f, m.Flops.At(j), m.Wall.At(j), m.NormalisedWall?.At(j)))).ToList();
}

/// <summary>
/// One method's (or, <see cref="WithDependency"/>, one method with its small model's cost's) speedup curve, in FLOPs,
/// raw and normalised wall time (null when some run has no calibration: not measured).
/// </summary>
public sealed record SpeedupResult(string Run, string Label, bool WithDependency, SpeedupSeries Flops, SpeedupSeries Wall, SpeedupSeries? NormalisedWall);

/// <summary>
/// One measure of a speedup curve along its targets: <see cref="PerSeed"/><c>[s][j]</c> is seed s's saving at target j
/// (null: not reached), and the summary over the seeds at each target (<see cref="Savings.Summarize"/>): how many seeds
/// reached it, the value (mean when all did, else the median with the others ranked last), the interval when there is one.
/// </summary>
public sealed record SpeedupSeries(
    [property: JsonConverter(typeof(OnOneLine<double?[][]>))] double?[][] PerSeed,
    [property: JsonConverter(typeof(OnOneLine<int[]>))] int[] Reached,
    [property: JsonConverter(typeof(OnOneLine<double?[]>))] double?[] Value,
    [property: JsonConverter(typeof(OnOneLine<double?[]>))] double?[] Low,
    [property: JsonConverter(typeof(OnOneLine<double?[]>))] double?[] High,
    string? Interval)
{
    /// <summary>The summary at target <paramref name="j"/>.</summary>
    public SeedSummary At(int j)
    {
        int n = PerSeed.Length;
        return new SeedSummary(n, Reached[j], Value[j], Low[j], High[j], Reached[j] == n ? SeedSummary.Mean : SeedSummary.Median, Low[j] is null ? null : Interval,
            Capped: High[j] == Savings.MostSaving);   // only a cut interval ends exactly there
    }

    public static SpeedupSeries From(IReadOnlyList<double?[]> perSeed, IReadOnlyList<SeedSummary> summaries) => new(
        [.. perSeed], [.. summaries.Select(s => s.Reached)], [.. summaries.Select(s => Round(s.Value))], [.. summaries.Select(s => Round(s.Low))],
        [.. summaries.Select(s => Round(s.High))], summaries.Select(s => s.Interval).FirstOrDefault(i => i is not null));

    static double? Round(double? v) => v is { } x ? Math.Round(x, 6) : null;
}

/// <summary>The savings at one target, per seed (null: that seed never reached it, or not measured) and over the seeds.</summary>
public sealed record SpeedupPoint(double Fraction, double?[] Flops, double?[] Wall, double?[] NormalisedWall, TargetSummary Summary);

/// <summary>Writes a value (an array) on one line of an indented JSON file; reads it as usual.</summary>
public sealed class OnOneLine<T> : JsonConverter<T>
{
    static readonly JsonSerializerOptions Compact = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => JsonSerializer.Deserialize<T>(ref reader, Compact);

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteRawValue(JsonSerializer.Serialize(value, Compact), skipInputValidation: true);
}

/// <summary>
/// The iso-loss speedup curve: the savings of SPEC section 6 at every target between Scratch's held-out loss at 10% of
/// its budget and its final one, not only at four. The targets are Scratch's loss at every 1% of its budget from 10% to
/// 100% (91 targets), so the savings table's 25/50/75/100% targets are points of the curve and each saving is measured
/// the same way (Scratch's cost is that fraction of its budget; the method's, its first reach, interpolated). Held-out
/// loss only: it is the loss of the full network for every method at every step, where Apollo's training loss is that of
/// the depth it sampled.
/// </summary>
public static class Speedup
{
    /// <summary>The first target: Scratch's loss at this fraction of its budget.</summary>
    public const double From = 0.10;

    /// <summary>Targets from <see cref="From"/> to 100% of Scratch's budget, one per 1%.</summary>
    public static IReadOnlyList<double> Fractions { get; } = Enumerable.Range(10, 91).Select(p => p / 100.0).ToArray();

    /// <summary>
    /// The curves of every method row of <paramref name="methods"/> (the held-out savings' rows: run, label, and whether the
    /// small model's cost is charged) against the <paramref name="reference"/> run, seed by seed, from the stored held-out
    /// curves. A charged row adds the run's external cost to every point (its normalised seconds are not measured: the
    /// small model's run has no calibration stored with the consumer).
    /// </summary>
    public static SpeedupCurves Compute(IReadOnlyList<CurveResult> curves, IReadOnlyList<RunRecord> runs, string reference,
        IReadOnlyList<(string Run, string Label, bool WithDependency)> methods, IReadOnlyList<long> seeds, IReadOnlyList<double>? fractions = null)
    {
        fractions ??= Fractions;
        IReadOnlyList<CurvePoint> HeldOut(string run, long seed, bool charged)
        {
            var c = curves.FirstOrDefault(x => x.Run == run && x.Seed == seed)
                    ?? throw new InvalidOperationException($"no stored curve of run '{run}', seed {seed}");
            var record = runs.FirstOrDefault(x => x.Run == run && x.Seed == seed);
            double flops = charged ? record?.ExternalFlops ?? 0 : 0, seconds = charged ? record?.ExternalWallSeconds ?? 0 : 0;
            return c.ValidFlops.Select((f, i) => new CurvePoint(f + flops, c.ValidWallSeconds[i] + seconds, c.ValidLoss[i],
                !charged && c.ValidNormalisedSeconds is { } n ? n[i] : double.NaN)).ToList();
        }
        var scratch = seeds.Select(seed => HeldOut(reference, seed, false)).ToList();
        var targetLoss = fractions.Select(f => scratch.Select(s => Round(Savings.AtBudget(s, f).Loss)).ToArray()).ToArray();
        var results = methods.Select(m =>
        {
            var bySeed = seeds.Select((seed, s) => Savings.Compute(scratch[s], HeldOut(m.Run, seed, m.WithDependency), fractions)).ToList();
            var summaries = Savings.SummarizeTargets(bySeed);
            SpeedupSeries Series(Func<TargetSaving, double?> saving, Func<TargetSummary, SeedSummary?> summary)
                => SpeedupSeries.From(bySeed.Select(t => t.Select(x => Round(saving(x))).ToArray()).ToList(), summaries.Select(t => summary(t)!).ToList());
            return new SpeedupResult(m.Run, m.Label, m.WithDependency, Series(t => t.FlopsSaving, t => t.Flops), Series(t => t.WallSaving, t => t.Wall),
                summaries.All(t => t.NormalisedWall is not null) ? Series(t => t.NormalisedWallSaving, t => t.NormalisedWall) : null);
        }).ToList();
        return new SpeedupCurves([.. seeds], [.. fractions], targetLoss, results);
    }

    static double Round(double v) => Math.Round(v, 6);

    static double? Round(double? v) => v is { } x ? Math.Round(x, 6) : null;
}
