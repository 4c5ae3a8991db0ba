using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>
/// Brier score of a threshold event o = 1{y > t} with forecast probability p = e/M, e = #{x_i > t}
/// (strict, as WB2/properscoring; verification-metrics.md §5). Per point, float64.
/// </summary>
public static class Brier
{
    /// <summary>forecast [M, ...], truth [...], threshold broadcasting to truth → per-point score [...].</summary>
    public static Tensor Score(Tensor forecast, Tensor truth, Tensor threshold, bool fair = false)
    {
        Shapes.RequireEnsemble(forecast, truth, "Brier score");
        using var scope = NewDisposeScope();
        var t = threshold.to(ScalarType.Float64).to(forecast.device);
        var exceed = forecast.to(ScalarType.Float64).gt(t.unsqueeze(0)).to(ScalarType.Float64).sum(0L);
        var observed = truth.to(ScalarType.Float64).gt(t).to(ScalarType.Float64);
        if (!exceed.shape.SequenceEqual(truth.shape))
            throw new EnsembleException($"Brier score: threshold {Shapes.Show(threshold.shape)} does not broadcast to truth {Shapes.Show(truth.shape)}");
        return FromCounts(exceed, observed, forecast.shape[0], fair).MoveToOuterDisposeScope();
    }

    public static Tensor Score(Tensor forecast, Tensor truth, double threshold, bool fair = false)
    {
        using var t = tensor(threshold, dtype: ScalarType.Float64);
        return Score(forecast, truth, t, fair);
    }

    /// <summary>
    /// From exceedance counts e and outcomes o: standard (e/M − o)²; fair (Ferro 2014)
    /// (e/M − o)² − e(M − e)/(M²(M − 1)) (NaN for M = 1).
    /// </summary>
    public static Tensor FromCounts(Tensor exceedCount, Tensor observed, long members, bool fair)
    {
        using var scope = NewDisposeScope();
        double m = members;
        var e = exceedCount.to(ScalarType.Float64);
        var bs = (e / m - observed.to(ScalarType.Float64)).pow(2);
        if (fair)
            bs = members < 2 ? full_like(bs, double.NaN) : bs - e * (m - e) / (m * m * (m - 1));
        return bs.MoveToOuterDisposeScope();
    }
}
