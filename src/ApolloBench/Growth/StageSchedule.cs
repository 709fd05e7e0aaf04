using System.Globalization;
using ApolloBench.Core;

namespace ApolloBench.Growth;

/// <summary>
/// Apollo's stages (paper Algorithm 1, SPEC sections 1 and 4). Stage <c>s</c> (0-based here) trains
/// <c>Layers[s]</c> weights, <c>N(s)</c>, and ends at the fraction <c>Ends[s]</c> of the step budget.
/// The paper: <c>N = [1, 3, 6, 12]</c> ending at epochs 2, 4, 10, 40 of 40, i.e. <c>[0.05, 0.10, 0.25, 1.0]</c>.
/// Stage <c>s</c> holds steps <c>[round(Ends[s-1] T), round(Ends[s] T))</c> of a <c>T</c>-step run
/// (halves rounded away from zero).
/// </summary>
public sealed record StageSchedule(int[] Layers, double[] Ends)
{
    static readonly int[] PaperLayers = [1, 3, 6, 12];
    static readonly double[] PaperEnds = [0.05, 0.10, 0.25, 1.0];
    const string LayersExample = "comma-separated layer counts, e.g. 1,3,6,12";
    const string EndsExample = "comma-separated fractions of the step budget, e.g. 0.05,0.1,0.25,1";

    /// <summary>Number of stages <c>S</c>.</summary>
    public int Count => Layers.Length;

    /// <summary>
    /// Checks <c>1 &lt;= N(1) &lt; ... &lt; N(S) = L</c> (<c>--stages</c>) and one end per stage with
    /// <c>0 &lt; end(1) &lt; ... &lt; end(S) = 1</c> (<c>--stage-ends</c>).
    /// </summary>
    public void Validate(int totalLayers)
    {
        if (totalLayers < 1) throw new ArgumentOutOfRangeException(nameof(totalLayers), totalLayers, "must be >= 1");
        string layers = string.Join(",", Layers);
        if (Layers.Length == 0) throw new UsageException($"--stages: needs at least one stage ({LayersExample})");
        if (Layers.Any(n => n < 1)) throw new UsageException($"--stages: layer counts must be >= 1 (got {layers})");
        for (int s = 1; s < Layers.Length; s++)
            if (Layers[s] <= Layers[s - 1])
                throw new UsageException($"--stages: layer counts must be strictly increasing (got {layers})");
        if (Layers[^1] != totalLayers)
            throw new UsageException($"--stages: the last stage must train all {totalLayers} layers of the model (got {layers})");

        string ends = string.Join(",", Ends.Select(e => e.ToString(CultureInfo.InvariantCulture)));
        if (Ends.Length != Layers.Length)
            throw new UsageException($"--stage-ends: needs one end per stage ({Layers.Length} stages, got {Ends.Length} ends: {ends})");
        if (Ends.Any(e => !(e > 0 && e <= 1)))
            throw new UsageException($"--stage-ends: every end must lie in (0, 1] (got {ends})");
        for (int s = 1; s < Ends.Length; s++)
            if (Ends[s] <= Ends[s - 1])
                throw new UsageException($"--stage-ends: ends must be strictly increasing (got {ends})");
        if (Ends[^1] != 1.0)
            throw new UsageException($"--stage-ends: the last stage must end at 1, the end of the run (got {ends})");
    }

    /// <summary>
    /// The paper's schedule for depth <paramref name="l"/>: for L = 12, <c>[1, 3, 6, 12]</c> ending at
    /// <c>[0.05, 0.10, 0.25, 1]</c>. Other depths scale the counts by L/12 (rounded half away from zero,
    /// at least 1, the last = L); stages whose counts coincide merge into one that keeps the later end.
    /// </summary>
    public static StageSchedule Paper(int l)
    {
        if (l < 1) throw new ArgumentOutOfRangeException(nameof(l), l, "must be >= 1");
        var layers = new List<int>();
        var ends = new List<double>();
        for (int s = 0; s < PaperLayers.Length; s++)
        {
            int n = s == PaperLayers.Length - 1
                ? l
                : Math.Clamp((int)Math.Round(PaperLayers[s] * l / 12.0, MidpointRounding.AwayFromZero), 1, l);
            if (layers.Count > 0 && layers[^1] == n) ends[^1] = PaperEnds[s];
            else { layers.Add(n); ends.Add(PaperEnds[s]); }
        }
        return new StageSchedule([.. layers], [.. ends]);
    }

    /// <summary>
    /// Reads <c>--stages</c> and <c>--stage-ends</c> and validates them against depth <paramref name="l"/>.
    /// Without ends, four stages take the paper's <c>[0.05, 0.10, 0.25, 1]</c> and one stage takes <c>[1]</c>;
    /// any other count must give its ends.
    /// </summary>
    public static StageSchedule Parse(string layersCsv, string? endsCsv, int l)
    {
        int[] layers = SplitCsv(layersCsv, "--stages", LayersExample).Select(item =>
            int.TryParse(item, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
                ? n
                : throw new UsageException($"--stages: '{item}' is not an integer ({LayersExample})")).ToArray();

        double[] ends;
        if (endsCsv is not null)
            ends = SplitCsv(endsCsv, "--stage-ends", EndsExample).Select(item =>
                double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double e)
                    ? e
                    : throw new UsageException($"--stage-ends: '{item}' is not a number ({EndsExample})")).ToArray();
        else if (layers.Length == PaperEnds.Length) ends = [.. PaperEnds];
        else if (layers.Length == 1) ends = [1.0];
        else throw new UsageException(
            $"--stage-ends: required for {layers.Length} stages (the paper's default ends fit 4 stages; {EndsExample})");

        var schedule = new StageSchedule(layers, ends);
        schedule.Validate(l);
        return schedule;
    }

    static string[] SplitCsv(string csv, string option, string example)
    {
        var items = csv.Split(',', StringSplitOptions.TrimEntries);
        if (items.Any(string.IsNullOrEmpty)) throw new UsageException($"{option}: empty entry in '{csv}' ({example})");
        return items;
    }

    /// <summary>
    /// The first step of every stage, plus <paramref name="totalSteps"/> as the end of the last.
    /// Throws a <c>--steps</c> usage error when a stage would get no step at all.
    /// </summary>
    public long[] StageStarts(long totalSteps)
    {
        if (totalSteps < 1) throw new UsageException($"--steps: must be >= 1 (got {totalSteps})");
        var starts = new long[Count + 1];
        for (int s = 1; s <= Count; s++)
            starts[s] = s == Count ? totalSteps : (long)Math.Round(Ends[s - 1] * totalSteps, MidpointRounding.AwayFromZero);
        for (int s = 0; s < Count; s++)
            if (starts[s + 1] <= starts[s])
                throw new UsageException(
                    $"--steps: {totalSteps} steps leave stage {s + 1} ({Layers[s]} layers, ending at {Ends[s].ToString(CultureInfo.InvariantCulture)}) with no step; give more steps or wider --stage-ends");
        return starts;
    }

    /// <summary>The 0-based stage that step <paramref name="step"/> (0-based) belongs to.</summary>
    public int StageIndexAt(long step, long totalSteps)
    {
        var starts = StageStarts(totalSteps);
        if (step < 0 || step >= totalSteps)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"must lie in [0, {totalSteps})");
        int s = Count - 1;
        while (starts[s] > step) s--;
        return s;
    }

    /// <summary>The first step of 0-based stage <paramref name="stage"/>.</summary>
    public long StageStartStep(int stage, long totalSteps)
    {
        if (stage < 0 || stage >= Count)
            throw new ArgumentOutOfRangeException(nameof(stage), stage, $"must lie in [0, {Count})");
        return StageStarts(totalSteps)[stage];
    }

    /// <summary>The number of trained weights <c>N(s)</c> at step <paramref name="step"/>.</summary>
    public int WeightsAt(long step, long totalSteps) => Layers[StageIndexAt(step, totalSteps)];

    /// <summary>True at the first step of stages 2..S (1-based), where the weights grow (Algorithm 1, line 4).</summary>
    public bool IsBoundary(long step, long totalSteps)
    {
        int s = StageIndexAt(step, totalSteps);
        return s > 0 && StageStartStep(s, totalSteps) == step;
    }
}
