using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Extremes;

/// <summary>Shift of Tails (earthkit-meteo `sot`, `sot_func`; verification-metrics.md §10).</summary>
public static class Sot
{
    /// <summary>
    /// SOT = (qf − qc_tail)/(qc_tail − qc), NaN where |qc_tail − qc| ≤ max(eps, 0), clipped to
    /// [lower, upper]; NaN inputs give NaN.
    /// </summary>
    public static Tensor FromQuantiles(Tensor qcTail, Tensor qc, Tensor qf, double eps = -1e-4, double lower = -10, double upper = 10)
    {
        using var scope = NewDisposeScope();
        var t = qcTail.to(ScalarType.Float64);
        var c = qc.to(ScalarType.Float64);
        var f = qf.to(ScalarType.Float64);
        double minDen = Math.Max(eps, 0);
        var sot = where((t - c).abs().gt(minDen), (f - t) / (t - c), full_like(t - c, double.NaN));
        // clamp keeps NaN and maps ±inf to the bounds, as the reference's masked assignment does.
        sot = sot.clamp(lower, upper);
        return sot.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// From 101 climate percentiles [101, ...] and members [M, ...]: perc in 2 … 98, ≠ 50; perc &gt; 50
    /// uses Q_c(99) as tail, perc &lt; 50 Q_c(1); Q_f = numpy percentile of the members. eps &gt; 0 sets
    /// members and Q_c(perc) below eps to 0 first.
    /// </summary>
    public static Tensor Compute(Tensor climate, Tensor ens, int perc, double eps = -1e4)
    {
        if (perc < 2 || perc > 98 || perc == 50)
            throw new EnsembleException($"SOT: percentile must be an integer in 2 … 98 other than 50, got {perc}");
        if (climate.dim() < 1 || climate.shape[0] != ModelClimate.Count)
            throw new EnsembleException($"SOT: climate must hold 101 percentiles along dimension 0, got {Shapes.Show(climate.shape)}");
        if (ens.dim() < 1 || !climate.shape.Skip(1).SequenceEqual(ens.shape.Skip(1)))
            throw new EnsembleException($"SOT: climate {Shapes.Show(climate.shape)} and ensemble {Shapes.Show(ens.shape)} differ after dimension 0");
        using var scope = NewDisposeScope();
        var clim = climate.to(ScalarType.Float64);
        var x = ens.to(ScalarType.Float64);
        var qc = clim[perc];
        if (eps > 0)
        {
            x = where(x.lt(eps), zeros_like(x), x);
            qc = where(qc.lt(eps), zeros_like(qc), qc);
        }
        var qf = Percentiles.Of(x, perc);
        var tail = clim[perc > 50 ? 99 : 1];
        return FromQuantiles(tail, qc, qf, eps).MoveToOuterDisposeScope();
    }

    public static Tensor Compute(ModelClimate climate, Tensor ens, int perc, double eps = -1e4) =>
        Compute(climate.Values, ens, perc, eps);
}
