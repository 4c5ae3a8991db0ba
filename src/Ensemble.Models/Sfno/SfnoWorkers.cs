using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// Coarse-grained CPU parallelism for SFNO inference: instead of libtorch's intra-op threads (every one of the
/// forward's ≈ 1,000 small ops is its own OpenMP region, and most are memory-bound or small gemms that barely scale),
/// W .NET worker threads each run whole pieces of work with single-threaded libtorch ops: member groups at batch ≥ 2,
/// shares of the spatial tiles (and spectral work) of one member at batch 1. W is the intra-op thread count the caller
/// set (<c>torch.set_num_threads</c>); during the forward that count is 1 for the whole process and restored afterwards.
/// Only on CPU, without autograd, and with W ≥ 2: otherwise (one thread, CUDA, training) the forward is unchanged.
/// Measured: docs/benchmarks.md, SFNO inference.
/// </summary>
public static class SfnoWorkers
{
    /// <summary>
    /// On by default; <c>ENSEMBLE_SFNO_WORKERS=0</c> (or setting it false) gives the intra-op-thread forward for A/B.
    /// Members run one at a time on each worker, so a member's result is its own one-thread forward whatever the batch
    /// (grouped members used to round differently and broke BredVectorTests' bitwise "pair alone equals its batch row").
    /// </summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("ENSEMBLE_SFNO_WORKERS") != "0";

    // Workers available to the current thread: W on the caller inside a section, 1 elsewhere (and inside a job: no nesting).
    [ThreadStatic] static int t_width;

    /// <summary>How many workers may split the current step (1 outside a parallel forward).</summary>
    internal static int Width => Math.Max(1, t_width);

    /// <summary>Workers for a forward on <paramref name="x"/>: the intra-op thread count when eligible, else 1.</summary>
    internal static int For(Tensor x)
    {
        if (!Enabled || t_width != 0 || x.device_type != DeviceType.CPU || torch.is_grad_enabled()) return 1;
        return Math.Max(1, torch.get_num_threads());
    }

    /// <summary>
    /// Enters a parallel forward with <paramref name="workers"/> workers: libtorch runs single-threaded (its thread
    /// count is a process global plus each thread's OpenMP/MKL setting) until the returned section is disposed.
    /// </summary>
    /// <param name="threads">The caller's intra-op thread count, restored when the section ends.</param>
    /// <param name="workers">How many workers may split the steps inside (1: the caller runs the one-thread path alone).</param>
    internal static Section Enter(int threads, int workers)
    {
        torch.set_num_threads(1);
        t_width = workers;
        return new Section(threads);
    }

    internal readonly struct Section(int threads) : IDisposable
    {
        public void Dispose()
        {
            t_width = 0;
            torch.set_num_threads(threads);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/>(0 … count − 1) concurrently: job 0 on the calling thread, the others on the pool;
    /// each job in its own dispose scope, with the caller's grad mode (inference mode or no_grad) and one libtorch
    /// thread. Returns when all have finished; the first exception (by job index) is rethrown.
    /// </summary>
    internal static void Run(int count, Action<int> body)
    {
        if (count <= 1)
        {
            body(0);
            return;
        }
        bool inference = torch.is_inference_mode_enabled();
        var errors = new Exception?[count];
        using var done = new CountdownEvent(count - 1);
        EnsurePool(count - 1);
        for (int k = 1; k < count; k++)
        {
            int job = k;
            Queue.Add(() =>
            {
                try { RunJob(inference, () => body(job)); }
                catch (Exception e) { errors[job] = e; }
                finally { done.Signal(); }
            });
        }
        int width = t_width;
        t_width = 1;
        try
        {
            using var scope = torch.NewDisposeScope();
            body(0);
        }
        catch (Exception e) { errors[0] = e; }
        finally { t_width = width; }
        done.Wait();
        if (errors.FirstOrDefault(e => e is not null) is { } first) ExceptionDispatchInfo.Capture(first).Throw();
    }

    /// <summary>
    /// Visits [0, n) in steps of at most <paramref name="step"/>, shared among the <see cref="Width"/> workers as
    /// contiguous ranges of whole <paramref name="unit"/>s; each step in its own dispose scope. With one worker the
    /// steps are exactly those of a plain loop.
    /// </summary>
    internal static void ForRanges(long n, long unit, long step, Action<long, long> body)
    {
        var ranges = Ranges(n, unit, Width);
        Run(ranges.Length, k =>
        {
            var (start, length) = ranges[k];
            for (long s = start; s < start + length; s += step)
            {
                using var scope = torch.NewDisposeScope();
                body(s, Math.Min(step, start + length - s));
            }
        });
    }

    /// <summary>Splits [0, n) into <paramref name="parts"/> contiguous ranges of whole units (sizes differ by at most one unit).</summary>
    internal static (long Start, long Length)[] Ranges(long n, long unit, int parts)
    {
        long units = (n + unit - 1) / unit;
        parts = (int)Math.Max(1, Math.Min(parts, units));
        var ranges = new (long, long)[parts];
        long start = 0;
        for (int k = 0; k < parts; k++)
        {
            long take = units / parts + (k < units % parts ? 1 : 0);
            long end = Math.Min(n, start + take * unit);
            ranges[k] = (start, end - start);
            start = end;
        }
        return ranges;
    }

    static void RunJob(bool inference, Action body)
    {
        t_width = 1;
        // The process-wide count is 1 during a section; this also sets this thread's OpenMP and MKL thread counts.
        torch.set_num_threads(1);
        using IDisposable mode = inference ? torch.inference_mode() : torch.no_grad();
        using var scope = torch.NewDisposeScope();
        body();
    }

    static readonly BlockingCollection<Action> Queue = new();
    static readonly object PoolLock = new();
    static int s_threads;

    // A small fixed pool of dedicated background threads (the .NET ThreadPool may be starved by the caller's own work).
    static void EnsurePool(int threads)
    {
        if (Volatile.Read(ref s_threads) >= threads) return;
        lock (PoolLock)
        {
            while (s_threads < threads)
            {
                var thread = new Thread(() =>
                {
                    foreach (var job in Queue.GetConsumingEnumerable()) job();
                })
                { IsBackground = true, Name = $"sfno-worker-{s_threads}" };
                thread.Start();
                s_threads++;
            }
        }
    }
}
