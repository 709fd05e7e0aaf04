using System.Globalization;
using ApolloBench.Experiments;

namespace ApolloBench.Tests.Gpu;

/// <summary>
/// Apollo's FLOPs saving to Scratch's final loss (the paper's "1 - F_Apollo / F_Scratch(total)", the savings table's
/// target at 100% of Scratch's budget), over seeds, against the band around the paper's number.
/// </summary>
/// <param name="Seeds">seeds measured.</param>
/// <param name="Reached">seeds in which the method reached the target at all.</param>
/// <param name="ReproducedPercent">the saving over all seeds in percent (<see cref="Savings.Summarize"/>: the mean when every seed reached the target, else the median with those that did not ranked last); null when that is not reached.</param>
public sealed record BandVerdict(string Artifact, string Method, double PaperPercent, int Seeds, int Reached, double? ReproducedPercent)
{
    public double Low => PaperPercent - SavingsBand.HalfWidthPoints;
    public double High => PaperPercent + SavingsBand.HalfWidthPoints;

    /// <summary>Every seed reached Scratch's final loss (a seed that never does has no saving, which is not a saving of 0).</summary>
    public bool ReachedEverySeed => Seeds > 0 && Reached == Seeds;

    public bool InBand => ReproducedPercent is { } r && r >= Low && r <= High;

    public bool Passes => ReachedEverySeed && InBand;

    public override string ToString()
    {
        var reproduced = ReproducedPercent is { } r ? r.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "none";
        return string.Create(CultureInfo.InvariantCulture,
            $"{Artifact}: {Method} FLOPs saving to Scratch's final loss: paper {PaperPercent:0.0}%, band [{Low:0.0}%, {High:0.0}%], " +
            $"reproduced {reproduced} (target reached in {Reached} of {Seeds} seed{(Seeds == 1 ? "" : "s")})");
    }
}

/// <summary>The regression band of the gpu-scale savings: where a reproduction of the paper's saving must land.</summary>
public static class SavingsBand
{
    /// <summary>
    /// Half-width of the band, in percentage points around the paper's saving (fig6a BERT 41.6% -> [26.6, 56.6];
    /// fig6c GPT 47.9% -> [32.9, 62.9]). Why this wide: the gpu scale is not the paper's setting (hidden 512 instead of
    /// 768, 20k steps of 64 x 256 tokens instead of 200k of 768 x 512, the 2M-token State of the Union corpus instead
    /// of Wikipedia + BookCorpus), and a saving read where Scratch's curve has flattened moves by several points
    /// between seeds and budgets (the paper's four methods themselves lie within 12 points of each other). Why no
    /// wider: it must still catch the failures that matter. An Apollo whose shallow stages teach nothing is at best
    /// level with Scratch at the end of its own budget, which costs ~88-90% of Scratch's FLOPs (the shallower stages
    /// are the first quarter of the steps; the cpu-scale runs in README.md measured 10-12% fewer FLOPs in all), i.e.
    /// a saving of ~10%: far below either band (and if it never gets level it fails on not reaching the target). A
    /// saving above the band (> 57% / 63%) is as suspicious: it is what FLOPs not charged for executed layers look like.
    /// </summary>
    public const double HalfWidthPoints = 15;

    /// <summary>The target the band applies to: Scratch's loss at 100% of its budget.</summary>
    public const double FullBudget = 1.0;

    /// <summary>The verdict for a summary of per-seed FLOPs savings at the full-budget target (fractions, as <see cref="Savings"/> computes them).</summary>
    public static BandVerdict Check(string artifact, string method, double paperPercent, SeedSummary fullBudgetFlops)
        => new(artifact, method, paperPercent, fullBudgetFlops.Seeds, fullBudgetFlops.Reached, fullBudgetFlops.Value * 100);

    /// <summary>The verdict for one method's row of an artifact's savings, as <c>report</c> computes it from the stored runs.</summary>
    public static BandVerdict Check(string artifact, SavingsResult savings)
    {
        if (savings.PaperFlops is not { } paper)
            throw new InvalidOperationException($"{artifact}: {savings.Label} has no paper FLOPs saving in its definition to hold it to");
        var full = savings.Targets.SingleOrDefault(t => t.Fraction == FullBudget)
                   ?? throw new InvalidOperationException($"{artifact}: no target at {FullBudget:P0} of Scratch's budget (budgetFractions must include 1)");
        return Check(artifact, savings.Label, paper, full.Flops);
    }
}
