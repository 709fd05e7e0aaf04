using ApolloBench.Growth;

namespace ApolloBench.Training;

/// <summary>
/// Apollo's expected cost over a whole budget, relative to Scratch, from per-depth step costs: each
/// stage's share of the steps times the expected cost of one step under the sampler's exact
/// distribution of depths. With step cost proportional to FLOPs the wall-time and FLOPs savings
/// are equal; the bench uses measured per-depth times to see how far wall time tracks FLOPs.
/// </summary>
public static class CostModel
{
    /// <summary>
    /// Expected cost of Apollo as a fraction of Scratch's (cost at depth L every step).
    /// <paramref name="costByDepth"/>[d] is one step's cost at executed depth d (index 0 unused).
    /// </summary>
    public static double RelativeCost(StageSchedule schedule, DepthSampler sampler, IReadOnlyList<double> costByDepth)
    {
        int l = schedule.Layers[^1];
        if (costByDepth.Count <= l) throw new ArgumentException($"need a cost for every depth 1..{l}", nameof(costByDepth));
        double expected = 0, start = 0;
        for (int s = 0; s < schedule.Layers.Length; s++)
        {
            double share = schedule.Ends[s] - start;
            start = schedule.Ends[s];
            int n = schedule.Layers[s];
            var p = sampler.Probabilities(n, l);
            for (int i = 0; i < p.Length; i++) expected += share * p[i] * costByDepth[n + i];
        }
        return expected / costByDepth[l];
    }

    /// <summary>1 - relative cost: the saving over a whole budget (not to a target loss).</summary>
    public static double Saving(StageSchedule schedule, DepthSampler sampler, IReadOnlyList<double> costByDepth)
        => 1 - RelativeCost(schedule, sampler, costByDepth);
}
