using System.Runtime.InteropServices;

namespace Ensemble.Core;

/// <summary>
/// glibc malloc settings for tensor work (libtorch allocates every CPU tensor with malloc). By default glibc gives each
/// thread its own arena, whose heaps are capped at 64 MB, serves large blocks with fresh mmaps and returns freed
/// memory to the kernel, so every forward first-touches tens of MB of new pages: ≈ 13,000 page faults per SFNO forward
/// at 181×360 (≈ 7 % of its CPU time), ≈ 2,000 with one arena, a 32 MB mmap threshold and a 1 GB trim threshold
/// (measured with `perf stat -e page-faults`, docs/benchmarks.md). The price is that freed memory stays with the process.
/// </summary>
public static class NativeHeap
{
    const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3, M_ARENA_MAX = -8;

    static int s_state;                                          // 0 not tried, 1 applied, 2 not applicable or refused

    /// <summary>
    /// Applies the settings once per process (Linux with glibc only; <c>ENSEMBLE_MALLOC_TUNING=0</c> skips them) and
    /// returns whether they are in effect. Call it at start-up, before worker threads allocate: threads that already
    /// have an arena keep it.
    /// </summary>
    public static bool TuneForTensors()
    {
        if (Volatile.Read(ref s_state) != 0) return s_state == 1;
        bool applied = false;
        if (OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("ENSEMBLE_MALLOC_TUNING") != "0")
        {
            try
            {
                applied = mallopt(M_ARENA_MAX, 1) == 1
                          & mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1
                          & mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                applied = false;                                 // not glibc (e.g. musl): nothing to tune
            }
        }
        Interlocked.CompareExchange(ref s_state, applied ? 1 : 2, 0);
        return s_state == 1;
    }

    /// <summary>Whether <see cref="TuneForTensors"/> has applied the settings in this process.</summary>
    public static bool Tuned => Volatile.Read(ref s_state) == 1;

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int param, int value);
}
