using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// Coarse-grained CPU parallelism for SFNO inference: instead of libtorch's intra-op threads (every one of the
/// forward's ≈ 1,000 small ops is its own OpenMP region, and most are memory-bound or small gemms that barely scale),
/// W .NET worker threads run whole pieces of work with single-threaded libtorch ops: the members at batch ≥ 2 (one
/// member's forward per piece), and at batch 1 the pieces of one member's forward (spatial tiles, norm-statistics
/// chunks, Fourier row chunks, Legendre order blocks, degree groups). Pieces are cut by shape alone, never by the number
/// of threads, and the threads take them dynamically (largest first), so a late or preempted thread costs nothing but
/// its share, and a piece is the same operation whoever runs it: the result equals the one-thread forward bit for bit.
/// W is the intra-op thread count the caller set (<c>torch.set_num_threads</c>); during the forward that count is 1 for
/// the whole process and restored afterwards. Only on CPU, without autograd, and with W ≥ 2: otherwise (one thread,
/// CUDA, training) the forward is unchanged. Measured: docs/benchmarks.md, SFNO inference.
/// </summary>
public static class SfnoWorkers
{
    /// <summary>
    /// On by default; <c>ENSEMBLE_SFNO_WORKERS=0</c> (or setting it false) gives the intra-op-thread forward for A/B.
    /// Members run one at a time on each worker, so a member's result is its own one-thread forward whatever the batch
    /// (grouped members used to round differently and broke BredVectorTests' bitwise "pair alone equals its batch row").
    /// </summary>
    public static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("ENSEMBLE_SFNO_WORKERS") != "0";

    /// <summary>How many times pieces have been handed to the workers since the process started (a benchmark diagnostic).</summary>
    public static long Handoffs => Interlocked.Read(ref s_handoffs);
    static long s_handoffs;

    /// <summary>Stopwatch ticks callers have spent in shared sets of pieces (from hand-off to the last piece's end; a benchmark diagnostic).</summary>
    public static long SharedTicks => Interlocked.Read(ref s_sharedTicks);
    static long s_sharedTicks;

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
        if (workers > 1) Interlocked.Increment(ref s_spinning);
        return new Section(threads, workers > 1);
    }

    internal readonly struct Section(int threads, bool spinning) : IDisposable
    {
        public void Dispose()
        {
            t_width = 0;
            if (spinning) Interlocked.Decrement(ref s_spinning);
            torch.set_num_threads(threads);
        }
    }

    // Open sections whose pieces are handed out: while there is one, idle workers and a waiting caller spin instead of
    // sleeping (a shared batch-1 forward hands out ≈ 40–50 sets of pieces of a few ms; waking a sleeping thread each
    // time cost ≈ 0.2 ms, measured with `-- sfno --batch1 a`).
    static int s_spinning;

    /// <summary>
    /// Runs <paramref name="body"/>(i) once for every i in [0, <paramref name="count"/>), each in its own dispose scope,
    /// with the caller's grad mode (inference mode or no_grad) and one libtorch thread. Outside a section (or with one
    /// piece) in index order on the calling thread; inside one, the caller and W − 1 workers take the pieces one by one,
    /// in descending <paramref name="cost"/> (index order without one). Returns when all have finished; the first
    /// exception (by piece index) is rethrown.
    /// </summary>
    internal static void ForEach(int count, Func<int, double>? cost, Action<int> body)
    {
        int width = Width;
        if (width <= 1 || count <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                using var scope = torch.NewDisposeScope();
                body(i);
            }
            return;
        }
        Interlocked.Increment(ref s_handoffs);
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        int[]? order = cost is null ? null : Enumerable.Range(0, count).OrderByDescending(cost).ToArray();
        var pieces = new Pieces(count, order, body);
        bool inference = torch.is_inference_mode_enabled();
        int helpers = Math.Min(width, count) - 1;
        EnsurePool(helpers);
        for (int k = 0; k < helpers; k++) Post(() => RunJob(inference, pieces.Drain));
        t_width = 1;
        try { pieces.Drain(); }
        finally { t_width = width; }
        pieces.Wait();
        Interlocked.Add(ref s_sharedTicks, System.Diagnostics.Stopwatch.GetTimestamp() - t0);
        pieces.Rethrow();
    }

    /// <summary>A <see cref="PieceRunner"/> for the spectral transforms (see <see cref="ForEach"/>).</summary>
    internal static void SpectralPieces(int count, Func<int, double> cost, Action<int> body) => ForEach(count, cost, body);

    /// <summary>
    /// Visits [0, n) in steps of at most <paramref name="step"/> (the steps of a plain loop), each step a piece for
    /// <see cref="ForEach"/>.
    /// </summary>
    internal static void ForSteps(long n, long step, Action<long, long> body)
    {
        int count = (int)((n + step - 1) / step);
        ForEach(count, null, k =>
        {
            long s = k * step;
            body(s, Math.Min(step, n - s));
        });
    }

    /// <summary>One set of pieces: a shared cursor the threads advance, and a count of finished pieces the caller waits for.</summary>
    sealed class Pieces(int count, int[]? order, Action<int> body)
    {
        int _next = -1, _finished;
        readonly ManualResetEventSlim _all = new(false);
        readonly ConcurrentBag<(int Piece, Exception Error)> _errors = [];

        // A worker that arrives after the last piece was taken finds nothing and leaves; nobody waits for it.
        public void Drain()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next)) < count)
            {
                int piece = order?[i] ?? i;
                try
                {
                    using var scope = torch.NewDisposeScope();
                    body(piece);
                }
                catch (Exception e) { _errors.Add((piece, e)); }
                finally
                {
                    if (Interlocked.Increment(ref _finished) == count) _all.Set();
                }
            }
        }

        public void Wait()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _finished) < count && Volatile.Read(ref s_spinning) > 0) spin.SpinOnce(sleep1Threshold: -1);
            _all.Wait();
        }

        public void Rethrow()
        {
            if (!_errors.IsEmpty) ExceptionDispatchInfo.Capture(_errors.OrderBy(e => e.Piece).First().Error).Throw();
        }
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

    static void Post(Action job)
    {
        Jobs.Enqueue(job);
        Available.Release();
    }

    // One semaphore count per queued job; a worker takes a count, then a job (spinning for it during a section).
    static Action Take()
    {
        bool got = Available.Wait(0);
        var spin = new SpinWait();
        while (!got && Volatile.Read(ref s_spinning) > 0)
        {
            spin.SpinOnce(sleep1Threshold: -1);
            got = Available.Wait(0);
        }
        if (!got) Available.Wait();
        if (!Jobs.TryDequeue(out var job)) throw new InvalidOperationException("SFNO worker queue out of step with its semaphore");
        return job;
    }

    static readonly ConcurrentQueue<Action> Jobs = new();
    static readonly SemaphoreSlim Available = new(0);
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
                    while (true)
                    {
                        var job = Take();
                        try { job(); }
                        catch (Exception e) { Environment.FailFast("SFNO worker job escaped its error handling", e); }
                    }
                })
                { IsBackground = true, Name = $"sfno-worker-{s_threads}" };
                thread.Start();
                s_threads++;
            }
        }
    }
}
