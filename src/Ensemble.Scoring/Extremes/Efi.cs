using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Extremes;

/// <summary>
/// Extreme Forecast Index (Lalaurette 2003; Zsótér 2006): EFI = (2/π)∫₀¹ (p − F_f(p))/√(p(1 − p)) dp
/// with F_f(p) the fraction of members at or below the climate p-quantile (verification-metrics.md §9).
/// </summary>
public static class Efi
{
    /// <summary>
    /// ECMWF discrete method (earthkit-meteo `efi`): climate percentiles [K, ...] at p_k = k/(K − 1),
    /// F_k = #{x_i ≤ q_k}/M, F piecewise linear in p, each segment integrated exactly. eps &gt; 0
    /// (precipitation) uses only segments with q_{k+1} &gt; eps and normalises by the maximum reachable
    /// value; NaN in climate or members gives NaN. ens [M, ...] → [...].
    /// </summary>
    public static Tensor FromPercentiles(Tensor climate, Tensor ens, double eps = -0.1)
    {
        if (climate.dim() < 1 || climate.shape[0] < 2)
            throw new EnsembleException($"EFI: climate percentiles {Shapes.Show(climate.shape)} need ≥ 2 values along dimension 0");
        if (ens.dim() < 1 || !climate.shape.Skip(1).SequenceEqual(ens.shape.Skip(1)))
            throw new EnsembleException($"EFI: climate {Shapes.Show(climate.shape)} and ensemble {Shapes.Show(ens.shape)} differ after dimension 0");
        long k = climate.shape[0];
        long m = ens.shape[0];
        using var scope = NewDisposeScope();
        var clim = climate.to(ScalarType.Float64).reshape(k, -1);
        var x = ens.to(ScalarType.Float64).to(clim.device).reshape(m, -1);
        long npts = clim.shape[1];
        var missing = clim.isnan().any(0L).logical_or(x.isnan().any(0L));

        // F_k: members ≤ q_k, one climate level at a time to keep memory at O(M·points).
        var frac = zeros(k, npts, dtype: ScalarType.Float64, device: clim.device);
        for (long i = 0; i < k; i++)
            frac[i] = x.le(clim[i].unsqueeze(0)).to(ScalarType.Float64).sum(0L) / m;

        var p = Enumerable.Range(0, (int)k).Select(i => (double)i / (k - 1)).ToArray();
        var efi = zeros(npts, dtype: ScalarType.Float64, device: clim.device);
        var efiMax = eps > 0 ? zeros(npts, dtype: ScalarType.Float64, device: clim.device) : null;
        for (long i = 0; i < k - 1; i++)
        {
            double a = Math.Acos(Math.Sqrt(p[i + 1])) - Math.Acos(Math.Sqrt(p[i]));
            double b = Math.Sqrt(p[i + 1] * (1 - p[i + 1])) - Math.Sqrt(p[i] * (1 - p[i]));
            double acoef = (1 - 2 * p[i]) * a + b;
            var slope = (frac[i + 1] - frac[i]) * (k - 1);
            var seg = (2.0 * frac[i] - 1.0) * a + acoef * slope - b;
            if (efiMax is null)
            {
                efi.add_(seg);
            }
            else
            {
                var used = clim[i + 1].gt(eps);
                efi.add_(where(used, seg, zeros_like(seg)));
                efiMax.add_(where(used, full_like(seg, -a - b), zeros_like(seg)));
            }
        }
        efi = efiMax is null ? efi * (2.0 / Math.PI) : efi / efiMax.clamp_min(eps);
        efi = where(missing, full_like(efi, double.NaN), efi);
        return efi.reshape(ens.shape.Skip(1).ToArray()).MoveToOuterDisposeScope();
    }

    public static Tensor FromPercentiles(ModelClimate climate, Tensor ens, double eps = -0.1) =>
        FromPercentiles(climate.Values, ens, eps);

    /// <summary>
    /// EFI against the empirical CDF of a raw climate sample [N, ...] (§9.3):
    /// EFI = 1 − (4/π) Σ_k F_k [acos√((k − 1)/N) − acos√(k/N)], F_k = #{x_i ≤ c₍ₖ₎}/M. Exact for the
    /// empirical climate; biased by about −1/N when the members come from the climate itself.
    /// </summary>
    public static Tensor FromSample(Tensor climateSample, Tensor ens)
    {
        if (climateSample.dim() < 1 || climateSample.shape[0] < 1)
            throw new EnsembleException("EFI: empty climate sample");
        if (ens.dim() < 1 || !climateSample.shape.Skip(1).SequenceEqual(ens.shape.Skip(1)))
            throw new EnsembleException($"EFI: climate sample {Shapes.Show(climateSample.shape)} and ensemble {Shapes.Show(ens.shape)} differ after dimension 0");
        long n = climateSample.shape[0];
        long m = ens.shape[0];
        using var scope = NewDisposeScope();
        var c = climateSample.to(ScalarType.Float64).reshape(n, -1).sort(0).Values;
        var x = ens.to(ScalarType.Float64).to(c.device).reshape(m, -1).sort(0).Values;
        // F_k for every sorted climate value at once: count of members ≤ c₍ₖ₎ by binary search per point.
        var counts = searchsorted(x.t().contiguous(), c.t().contiguous(), right: true).to(ScalarType.Float64).t() / m; // [N, P]
        var w = new double[n];
        for (long i = 1; i <= n; i++) w[i - 1] = Math.Acos(Math.Sqrt((i - 1.0) / n)) - Math.Acos(Math.Sqrt((double)i / n));
        var wt = tensor(w, dtype: ScalarType.Float64, device: c.device).reshape(n, 1);
        var efi = 1.0 - 4.0 / Math.PI * (counts * wt).sum(0L);
        var missing = c.isnan().any(0L).logical_or(x.isnan().any(0L));
        efi = where(missing, full_like(efi, double.NaN), efi);
        return efi.reshape(ens.shape.Skip(1).ToArray()).MoveToOuterDisposeScope();
    }

    /// <summary>Closed form for a one-valued forecast at climate quantile level Q: (2/π)·asin(2Q − 1).</summary>
    public static double OfQuantileLevel(double q) => 2.0 / Math.PI * Math.Asin(2 * q - 1);
}
