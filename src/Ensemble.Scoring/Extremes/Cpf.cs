using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Extremes;

/// <summary>
/// Crossing Point Forecast (earthkit-meteo `cpf`, marked experimental upstream): the climate quantile
/// level at which the forecast quantile function first crosses below the climate quantile function,
/// scanning from the ensemble median (or the minimum with <c>fromZero</c>). clim [K, ...], ens [M, ...] → [...].
/// Computed in float64 by default; <c>precision: Float32</c> repeats upstream's float32 arithmetic bit for bit
/// (its interpolation cancels, so float32 and float64 results differ by up to ~1e-6).
/// </summary>
public static class Cpf
{
    public static Tensor Compute(Tensor climate, Tensor ens, bool sortClimate = true, bool sortEnsemble = true,
        double? epsilon = null, bool symmetric = false, bool fromZero = false, ScalarType precision = ScalarType.Float64)
    {
        if (precision != ScalarType.Float64 && precision != ScalarType.Float32)
            throw new EnsembleException($"CPF: precision must be float32 or float64, got {precision}");
        if (climate.dim() < 1 || ens.dim() < 1 || !climate.shape.Skip(1).SequenceEqual(ens.shape.Skip(1)))
            throw new EnsembleException($"CPF: climate {Shapes.Show(climate.shape)} and ensemble {Shapes.Show(ens.shape)} differ after dimension 0");
        using var scope = NewDisposeScope();
        var clim = climate.to(precision).reshape(climate.shape[0], -1);
        var x = ens.to(precision).to(clim.device).reshape(ens.shape[0], -1);
        if (sortClimate) clim = clim.sort(0).Values;
        if (sortEnsemble) x = x.sort(0).Values;
        if (symmetric) epsilon = null;
        var direct = Scan(clim, x, epsilon, fromZero);
        if (symmetric)
        {
            var reverse = Scan(-clim.flip(0), -x.flip(0), null, fromZero);
            direct = where(direct.lt(0.5), 1.0 - reverse, direct);
        }
        return direct.to(ScalarType.Float64).reshape(ens.shape.Skip(1).ToArray()).MoveToOuterDisposeScope();
    }

    static Tensor Scan(Tensor clim, Tensor ens, double? epsilon, bool fromZero)
    {
        long nclim = clim.shape[0], npts = clim.shape[1];
        long nens = ens.shape[0];
        var cpf = zeros(npts, dtype: clim.dtype, device: clim.device);
        var mask = zeros(npts, dtype: ScalarType.Bool, device: clim.device);
        var prim = zeros(npts, dtype: ScalarType.Bool, device: clim.device);
        long iqStart = fromZero ? 0 : nens / 2;
        for (long icl = 1; icl < nclim - 1; icl++)
        {
            double tauC = icl / (nclim - 1.0);
            var qvC = clim[icl];
            for (long iq = iqStart; iq < nens; iq++)
            {
                double tauF = (iq + 1.0) / (nens + 1.0);
                var qvF = ens[iq];
                if (tauF < tauC)
                {
                    // Primary condition: the forecast starts above the climate (a crossing, not a reverse crossing).
                    prim = prim.logical_or(qvF.ge(qvC).logical_and(mask.logical_not()));
                    continue;
                }
                if (iq < 2)
                {
                    var qvC2 = clim[icl - 1];
                    double tauC2 = (icl - 1.0) / (nclim - 1.0);
                    var idx = qvF.lt(qvC).logical_and(qvC2.lt(qvC)).logical_and(prim);
                    var tauI = (tauC * (qvC2 - qvF) + tauC2 * (qvF - qvC)) / (qvC2 - qvC);
                    cpf = where(idx, tauI.clamp_min(0.0), cpf);
                    mask = mask.logical_or(idx);
                }
                var cross = qvF.lt(qvC).logical_and(mask.logical_not()).logical_and(prim);
                cpf = where(cross, full_like(cpf, tauF), cpf);
                mask = mask.logical_or(cross);
                if (iq == nens - 1)
                {
                    var qvC2 = clim[nclim - 1];
                    var idx = qvF.gt(qvC).logical_and(qvC2.gt(qvC)).logical_and(mask.logical_not()).logical_and(prim);
                    var tauI = (tauC * (qvC2 - qvF) + 1.0 * (qvF - qvC)) / (qvC2 - qvC);
                    cpf = where(idx, tauI.clamp_max(1.0), cpf);
                }
                break;
            }
        }
        if (epsilon is double eps)
            cpf = where(ens[nens - 1].lt(eps), zeros_like(cpf), cpf);
        return cpf;
    }
}
