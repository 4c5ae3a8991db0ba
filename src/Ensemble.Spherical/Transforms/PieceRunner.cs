using TorchSharp;

namespace Ensemble.Spherical;

/// <summary>
/// Runs <c>body(i)</c> exactly once for every piece i in [0, <paramref name="count"/>), in any order and possibly
/// concurrently (each piece writes its own slice of a preallocated result); <c>cost(i)</c> estimates a piece's work so
/// a parallel runner can balance them. The transforms cut their work into pieces by shape alone, never by the number
/// of threads, so every piece is the same libtorch operation whoever runs it and the result does not depend on the runner.
/// </summary>
public delegate void PieceRunner(int count, Func<int, double> cost, Action<int> body);

/// <summary>A set of pieces for a <see cref="PieceRunner"/>: how many, their costs and the work of each.</summary>
public readonly record struct PieceSet(int Count, Func<int, double> Cost, Action<int> Body)
{
    public void Run(PieceRunner run) => run(Count, Cost, Body);

    /// <summary>Two independent sets as one (one hand-off to the workers instead of two).</summary>
    public static PieceSet Concat(PieceSet a, PieceSet b) => new(a.Count + b.Count,
        i => i < a.Count ? a.Cost(i) : b.Cost(i - a.Count),
        i =>
        {
            if (i < a.Count) a.Body(i);
            else b.Body(i - a.Count);
        });
}

/// <summary>Piece runners owned by this library.</summary>
public static class PieceRunners
{
    /// <summary>Pieces in index order on the calling thread, each in its own dispose scope.</summary>
    public static readonly PieceRunner Sequential = (count, _, body) =>
    {
        for (int i = 0; i < count; i++)
        {
            using var scope = torch.NewDisposeScope();
            body(i);
        }
    };

    /// <summary>
    /// Splits [0, <paramref name="n"/>) into at most <paramref name="parts"/> contiguous ranges whose sizes differ by at
    /// most one (fewer when n is smaller).
    /// </summary>
    public static (long Start, long Length)[] Split(long n, int parts)
    {
        parts = (int)Math.Max(1, Math.Min(parts, n));
        var ranges = new (long, long)[parts];
        long start = 0;
        for (int k = 0; k < parts; k++)
        {
            long take = n / parts + (k < n % parts ? 1 : 0);
            ranges[k] = (start, take);
            start += take;
        }
        return ranges;
    }
}
