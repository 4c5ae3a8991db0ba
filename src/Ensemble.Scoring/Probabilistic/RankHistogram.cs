using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>
/// Rank of the truth among the members, r = #{x_i &lt; y} + U{0 … #{x_i = y}} (random among tied
/// positions, Hamill 2001; verification-metrics.md §4), M + 1 bins. The uniform draws come from a
/// seeded CPU generator, one per point in row-major order, so the same seed gives the same ranks on
/// any device and from streaming counts.
/// </summary>
public static class RankHistogram
{
    /// <summary>Per-point ranks [...] (int64, 0 … M).</summary>
    public static Tensor Ranks(Tensor forecast, Tensor truth, long seed)
    {
        Shapes.RequireEnsemble(forecast, truth, "rank histogram");
        using var scope = NewDisposeScope();
        var x = forecast.to(ScalarType.Float64);
        var y = truth.to(ScalarType.Float64).unsqueeze(0);
        var below = x.lt(y).to(ScalarType.Int64).sum(0L);
        var ties = x.eq(y).to(ScalarType.Int64).sum(0L);
        return FromCounts(below, ties, seed).MoveToOuterDisposeScope();
    }

    /// <summary>Ranks from the streaming sums below = Σ1[x_i &lt; y] and ties = Σ1[x_i = y].</summary>
    public static Tensor FromCounts(Tensor below, Tensor ties, long seed)
    {
        using var scope = NewDisposeScope();
        var gen = new TorchSharp.torch.Generator((ulong)seed, CPU);
        var u = rand(below.shape, generator: gen, dtype: ScalarType.Float64, device: CPU).to(below.device);
        var extra = floor(u * (ties.to(ScalarType.Float64) + 1.0)).to(ScalarType.Int64);
        // U < 1 always, but guard the boundary so a rank never exceeds below + ties.
        extra = minimum(extra, ties.to(ScalarType.Int64));
        return (below.to(ScalarType.Int64) + extra).MoveToOuterDisposeScope();
    }

    /// <summary>Histogram counts over all points, length M + 1.</summary>
    public static long[] Counts(Tensor forecast, Tensor truth, long seed)
    {
        using var ranks = Ranks(forecast, truth, seed);
        return Histogram(ranks, forecast.shape[0]);
    }

    public static long[] Histogram(Tensor ranks, long members)
    {
        using var flat = ranks.reshape(-1).to(ScalarType.Int64).cpu();
        using var counts = bincount(flat, minlength: members + 1);
        if (counts.shape[0] != members + 1)
            throw new EnsembleException($"rank histogram: ranks exceed the {members} members");
        return counts.data<long>().ToArray();
    }
}
