using ApolloBench.Models;
using ApolloBench.Training;

namespace ApolloBench.Experiments;

/// <summary>
/// Model shapes relative to a scale. A heads ratio changes the number of heads and keeps the head
/// width, so the hidden size follows: at paper scale (768 hidden, 12 heads of 64) a ratio of 8/12
/// gives BERT-Small's 8 heads and 512 hidden, 16/12 gives BERT-Large's 16 heads and 1024 hidden
/// (paper Table 5). The same rule shrinks and widens models at every reduced scale.
/// </summary>
public static class ModelShapes
{
    /// <summary>Heads of <paramref name="arch"/> at <paramref name="scale"/> for a heads ratio (rounded half away from zero).</summary>
    public static int Heads(Scale scale, Architecture arch, double headsRatio)
        => (int)Math.Round(scale.ModelFor(arch).Heads * headsRatio, MidpointRounding.AwayFromZero);

    public static ModelConfig Resolve(Scale scale, Architecture arch, int layers = 12, double headsRatio = 1)
    {
        var full = scale.ModelFor(arch);
        int heads = Heads(scale, arch, headsRatio);
        return full with { Layers = layers, Heads = heads, Hidden = heads * full.HeadDim };
    }

    public static Architecture Parse(string model) => model == "gpt" ? Architecture.Gpt : Architecture.Bert;
}
