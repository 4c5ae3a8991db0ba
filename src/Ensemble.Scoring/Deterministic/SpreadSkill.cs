using Ensemble.Core;
using Ensemble.Scoring.Weights;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Deterministic;

/// <summary>
/// Time-aggregated ensemble-mean skill and spread. Rmse = √(mean_t MSE_t), Spread = √(mean_t VAR_t)
/// (roots after the time mean, WB2 `EnsembleMeanMSE` / WBX `EnsembleRootMeanVariance`);
/// Ratio = factor · Spread/Rmse with factor √((M + 1)/M) when <see cref="CorrectionApplied"/> (Fortin et al. 2014).
/// </summary>
public sealed record SpreadSkillResult(int Members, double Rmse, double Spread, double Ratio, bool CorrectionApplied, double[] MsePerTime, double[] VariancePerTime);

/// <summary>Ensemble-mean RMSE, spread and spread–skill ratio (verification-metrics.md §3).</summary>
public static class SpreadSkill
{
    /// <summary>Ensemble mean over dimension 0, float64.</summary>
    public static Tensor EnsembleMean(Tensor forecast) => forecast.to(ScalarType.Float64).mean([0L]);

    /// <summary>Ensemble variance with ddof 1 (0 when M = 1, as WB2).</summary>
    public static Tensor EnsembleVariance(Tensor forecast)
    {
        if (forecast.shape[0] < 2) return zeros(forecast.shape.Skip(1).ToArray(), dtype: ScalarType.Float64, device: forecast.device);
        return forecast.to(ScalarType.Float64).var(0L, unbiased: true, keepdim: false);
    }

    /// <summary>Per-point squared error of the ensemble mean, (x̄ − y)².</summary>
    public static Tensor EnsembleMeanSquaredError(Tensor forecast, Tensor truth)
    {
        Shapes.RequireEnsemble(forecast, truth, "ensemble-mean squared error");
        using var scope = NewDisposeScope();
        // Centre on y first: the mean of residuals avoids cancellation for large fields (z500).
        var d = forecast.to(ScalarType.Float64) - truth.to(ScalarType.Float64).unsqueeze(0);
        return d.mean([0L]).pow(2).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One variable: forecast [M, T, lat, lon], truth [T, lat, lon], latitude weights [lat].
    /// </summary>
    public static SpreadSkillResult Compute(Tensor forecast, Tensor truth, Tensor latWeights, bool applyCorrection = true)
    {
        Shapes.RequireEnsemble(forecast, truth, "spread-skill");
        if (truth.dim() != 3)
            throw new EnsembleException($"spread-skill: truth {Shapes.Show(truth.shape)} must be [time, lat, lon]");
        int m = (int)forecast.shape[0];
        using var scope = NewDisposeScope();
        var msePerTime = Aggregation.SpatialMean(EnsembleMeanSquaredError(forecast, truth), latWeights);
        var varPerTime = Aggregation.SpatialMean(EnsembleVariance(forecast), latWeights);
        return FromPerTime(m, msePerTime.cpu().data<double>().ToArray(), varPerTime.cpu().data<double>().ToArray(), applyCorrection);
    }

    /// <summary>From per-time spatial means of MSE and variance (also what the streaming path produces).</summary>
    public static SpreadSkillResult FromPerTime(int members, double[] msePerTime, double[] variancePerTime, bool applyCorrection = true)
    {
        if (msePerTime.Length == 0 || msePerTime.Length != variancePerTime.Length)
            throw new EnsembleException("spread-skill: need the same, non-zero number of MSE and variance values");
        double rmse = Math.Sqrt(msePerTime.Average());
        double spread = Math.Sqrt(variancePerTime.Average());
        double factor = applyCorrection ? Math.Sqrt((members + 1.0) / members) : 1.0;
        return new SpreadSkillResult(members, rmse, spread, factor * spread / rmse, applyCorrection, msePerTime, variancePerTime);
    }
}
