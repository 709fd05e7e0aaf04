namespace ApolloBench.Core;

/// <summary>
/// A small deterministic generator (SplitMix64) whose streams are derived from (seed, purpose, index).
/// Each purpose (data order, masking, depth sampling, init) has its own stream, so one never
/// disturbs another: two methods trained with the same seed see the same batches in the same order.
/// </summary>
public sealed class Rng
{
    ulong state;

    public Rng(ulong seed) => state = seed;

    /// <summary>An independent stream for a named purpose and an index (e.g. the step).</summary>
    public static Rng For(long seed, string purpose, long index = 0)
    {
        ulong h = 1469598103934665603UL; // FNV-1a over the purpose name
        foreach (var ch in purpose) { h ^= ch; h *= 1099511628211UL; }
        var r = new Rng((ulong)seed ^ Mix(h) ^ Mix((ulong)index * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL));
        r.NextULong();
        return r;
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n));
        return (int)(NextDouble() * n);
    }

    /// <summary>A seed for torch's generator, drawn from this stream.</summary>
    public long NextSeed() => (long)(NextULong() >> 1);

    /// <summary>Fisher-Yates permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }
}
