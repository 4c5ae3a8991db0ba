namespace Ensemble.Core;

/// <summary>
/// Deterministic seed derivation: every random draw in the system comes from a seed derived from the
/// things that identify it (campaign seed, checkpoint, initial time, member, …), so any member can be
/// recomputed alone and matches the full run. Stable across processes, platforms and .NET versions
/// (unlike string.GetHashCode / HashCode.Combine, which are randomised per process).
/// </summary>
public static class Seeds
{
    /// <summary>A 63-bit non-negative seed from an ordered list of parts (SplitMix64 chaining).</summary>
    public static long Derive(params long[] parts)
    {
        ulong h = 0x9E3779B97F4A7C15UL;
        foreach (long p in parts)
            h = Mix(h ^ Mix(unchecked((ulong)p) + 0x632BE59BD9B4E019UL));
        return (long)(h >> 1);
    }

    /// <summary>Stable 64-bit value of a string (FNV-1a over UTF-8), for naming parts such as variable names.</summary>
    public static long Of(string s)
    {
        ulong h = 0xcbf29ce484222325UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(s))
            h = (h ^ b) * 0x100000001b3UL;
        return unchecked((long)h);
    }

    /// <summary>A UTC time as a seed part (ticks).</summary>
    public static long Of(DateTime utc) => utc.ToUniversalTime().Ticks;

    /// <summary>A System.Random seeded from the derived seed (for managed-side draws).</summary>
    public static Random Random(params long[] parts) => new((int)(Derive(parts) & int.MaxValue));

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
