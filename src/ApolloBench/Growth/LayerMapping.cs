using ApolloBench.Core;

namespace ApolloBench.Growth;

/// <summary>How <c>n</c> trained layer weights are laid out over <c>m &gt;= n</c> executed layers.</summary>
public enum MappingKind { Interpolate, Stack }

/// <summary>
/// The mapping <c>g</c> from an executed layer index (0-based, <c>0..m-1</c>) to the weight it runs
/// (0-based, <c>0..n-1</c>). Used both to share weights across a sampled depth and to grow the
/// weights at a stage boundary (SPEC section 2, paper Eq. 11-12, Fig. 4).
/// </summary>
public static class LayerMapping
{
    /// <summary>
    /// Interpolation (paper Eq. 12): neighbouring layers share a weight, <c>g(i) = floor(i*n/m)</c>.
    /// Computed as the released code does, <c>int(i / (m / n))</c> in double precision, which differs
    /// from exact integer division for pairs such as (14,18) and (21,27) (SPEC section 2).
    /// 3 -> 7 gives [0,0,0,1,1,2,2].
    /// </summary>
    public static int[] Interpolate(int n, int m)
    {
        Check(n, m);
        double ratio = (double)m / n;
        var g = new int[m];
        for (int i = 0; i < m; i++) g[i] = (int)(i / ratio);
        return g;
    }

    /// <summary>
    /// Stacking (paper Eq. 11): cyclic repetition <c>g(i) = i mod n</c>. When <c>m</c> is not a multiple
    /// of <c>n</c>, the incomplete last block of <c>r = m mod n</c> layers runs the TOP <c>r</c> weights
    /// (released code; bert2BERT's depth growth), SPEC section 2: 3 -> 8 gives [0,1,2,0,1,2,1,2].
    /// </summary>
    public static int[] Stack(int n, int m)
    {
        Check(n, m);
        int partial = m % n;
        int fullLayers = m - partial;
        var g = new int[m];
        for (int i = 0; i < m; i++)
            g[i] = i < fullLayers ? i % n : n - partial + (i - fullLayers);
        return g;
    }

    /// <summary>The mapping of the given kind from <paramref name="n"/> weights to <paramref name="m"/> layers.</summary>
    public static int[] Map(MappingKind kind, int n, int m) => kind switch
    {
        MappingKind.Interpolate => Interpolate(n, m),
        MappingKind.Stack => Stack(n, m),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown mapping kind"),
    };

    /// <summary>Reads a <c>--mapping</c> value: interpolate / interpolation, stack / stacking (any case).</summary>
    public static MappingKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "interpolate" or "interpolation" => MappingKind.Interpolate,
        "stack" or "stacking" => MappingKind.Stack,
        _ => throw new UsageException(
            $"--mapping: unknown mapping '{name}'; valid values: interpolate (or interpolation), stack (or stacking)"),
    };

    static void Check(int n, int m)
    {
        if (n < 1 || n > m)
            throw new ArgumentException($"a layer mapping needs 1 <= n <= m (got n = {n}, m = {m})");
    }
}
