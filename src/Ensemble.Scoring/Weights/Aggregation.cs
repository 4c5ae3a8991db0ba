using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Weights;

/// <summary>
/// WeatherBench2 aggregation order (verification-metrics.md §1): per-point score → latitude-weighted
/// spatial mean per forecast time → plain mean over forecast times.
/// </summary>
public static class Aggregation
{
    /// <summary>⟨f⟩ = Σ w_i f_ij / Σ w_i over the last two dimensions [..., lat, lon]; float64 result [...].</summary>
    public static Tensor SpatialMean(Tensor field, Tensor latWeights)
    {
        if (field.dim() < 2)
            throw new EnsembleException($"spatial mean: field {Shapes.Show(field.shape)} needs [..., lat, lon]");
        long nlat = field.shape[^2], nlon = field.shape[^1];
        if (latWeights.dim() != 1 || latWeights.shape[0] != nlat)
            throw new EnsembleException($"spatial mean: {latWeights.shape[0]} latitude weights for {nlat} latitude rows");
        using var scope = NewDisposeScope();
        var w = latWeights.to(ScalarType.Float64).to(field.device).reshape(nlat, 1);
        var num = (field.to(ScalarType.Float64) * w).sum([-2L, -1L]);
        var den = w.sum() * nlon;
        return (num / den).MoveToOuterDisposeScope();
    }

    /// <summary>Plain mean over the leading (forecast time) dimension.</summary>
    public static Tensor TimeMean(Tensor perTime)
    {
        if (perTime.dim() < 1 || perTime.shape[0] < 1)
            throw new EnsembleException("time mean: no forecast times");
        return perTime.to(ScalarType.Float64).mean([0L]);
    }

    /// <summary>Per-point scores [T, ..., lat, lon] → spatial mean per time → mean over T.</summary>
    public static Tensor Score(Tensor perPoint, Tensor latWeights)
    {
        using var perTime = SpatialMean(perPoint, latWeights);
        return TimeMean(perTime);
    }
}
