using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Spectra;

/// <summary>
/// WeatherBench2 `ZonalEnergySpectrum` (verification-metrics.md §8.1): per latitude circle of L points,
/// F_k = rfft(f)/L, S_0 = C|F_0|², S_k = 2C|F_k|² (k ≥ 1, including the Nyquist term as WB2 does unless
/// <c>doubleNyquist</c> is false), C = 2πR cos φ; frequency_k = k/(L·Δx), Δx = C/L.
/// </summary>
public static class ZonalEnergySpectrum
{
    public const double Wb2EarthRadius = 1000.0 * (6357 + 6378) / 2; // 6,367,500 m

    /// <summary>field [..., lat, lon] → S [..., lat, ⌊L/2⌋ + 1] float64 (units m·[f]²).</summary>
    public static Tensor Compute(Tensor field, IReadOnlyList<double> latDegrees, double radius = Wb2EarthRadius, bool doubleNyquist = true)
    {
        if (field.dim() < 2 || field.shape[^2] != latDegrees.Count)
            throw new EnsembleException($"zonal spectrum: field {Shapes.Show(field.shape)} must be [..., {latDegrees.Count} latitudes, lon]");
        long nlon = field.shape[^1];
        using var scope = NewDisposeScope();
        var f = fft.rfft(field.to(ScalarType.Float64), dim: -1) / nlon;
        var power = view_as_real(f).pow(2).sum(-1);
        long nk = power.shape[^1];
        var factor = full(nk, 2.0, dtype: ScalarType.Float64, device: field.device);
        factor[0] = 1.0;
        if (!doubleNyquist && nlon % 2 == 0) factor[nk - 1] = 1.0;
        var circ = tensor(latDegrees.Select(l => 2 * Math.PI * radius * Math.Cos(l * Math.PI / 180)).ToArray(), dtype: ScalarType.Float64, device: field.device).reshape(-1, 1);
        return (power * factor * circ).MoveToOuterDisposeScope();
    }

    /// <summary>Frequencies k/(L·Δx) = k/C [1/m] per latitude and wavenumber, [lat, ⌊L/2⌋ + 1].</summary>
    public static double[,] Frequencies(IReadOnlyList<double> latDegrees, int nlon, double radius = Wb2EarthRadius)
    {
        int nk = nlon / 2 + 1;
        var r = new double[latDegrees.Count, nk];
        for (int i = 0; i < latDegrees.Count; i++)
        {
            double c = 2 * Math.PI * radius * Math.Cos(latDegrees[i] * Math.PI / 180);
            for (int k = 0; k < nk; k++) r[i, k] = k / c;
        }
        return r;
    }
}
