using System.Globalization;
using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Spectra;

/// <summary>
/// A latitude band in both hemispheres: the grid latitudes φ with <see cref="MinAbsLatitude"/> ≤ |φ| ≤
/// <see cref="MaxAbsLatitude"/> (degrees, 1e-6° tolerance so that a grid row at exactly 30° counts).
/// </summary>
public sealed record LatitudeBand(double MinAbsLatitude, double MaxAbsLatitude)
{
    /// <summary>30°–60° N and S, the mid-latitude band of WB2-style zonal spectra.</summary>
    public static readonly LatitudeBand MidLatitudes = new(30, 60);

    const double Tolerance = 1e-6;

    /// <summary>Indices of the latitudes inside the band, in grid order.</summary>
    public long[] Indices(IReadOnlyList<double> latDegrees)
    {
        Validate();
        var r = new List<long>();
        for (int i = 0; i < latDegrees.Count; i++)
        {
            double a = Math.Abs(latDegrees[i]);
            if (a >= MinAbsLatitude - Tolerance && a <= MaxAbsLatitude + Tolerance) r.Add(i);
        }
        return r.ToArray();
    }

    public void Validate()
    {
        if (!(MinAbsLatitude >= 0 && MinAbsLatitude <= MaxAbsLatitude && MaxAbsLatitude <= 90))
            throw new EnsembleException($"zonal spectrum: latitude band {Describe()} must satisfy 0 ≤ min ≤ max ≤ 90 (absolute latitudes in degrees)");
    }

    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"{MinAbsLatitude:0.###}°–{MaxAbsLatitude:0.###}° N/S");
}

/// <summary>
/// WB2 zonal energy spectrum (<see cref="ZonalEnergySpectrum"/>, Nyquist doubled, R = 6,367,500 m) averaged
/// over the latitudes of a band: S̄_k = (1/n) Σ_{φ in band} S_k(φ), a plain mean per zonal wavenumber k
/// (WB2's latitude mean is unweighted too; WB2 interpolates each latitude to common frequencies first,
/// here the rows stay on integer k, whose wavelength C(φ)/k varies by cos 30°/cos 60° ≈ 1.7 across the
/// 30°–60° band). Units m·[f]².
/// </summary>
public static class ZonalBandSpectrum
{
    /// <summary>field [..., lat, lon] → S̄ [..., ⌊nlon/2⌋ + 1] float64.</summary>
    public static Tensor Compute(Tensor field, IReadOnlyList<double> latDegrees, LatitudeBand band)
    {
        if (field.dim() < 2 || field.shape[^2] != latDegrees.Count)
            throw new EnsembleException($"zonal spectrum: field {Shapes.Show(field.shape)} must be [..., {latDegrees.Count} latitudes, lon]");
        var idx = RequireIndices(latDegrees, band);
        using var scope = NewDisposeScope();
        var sel = field.index_select(-2, tensor(idx, device: field.device));
        var s = ZonalEnergySpectrum.Compute(sel, idx.Select(i => latDegrees[(int)i]).ToArray());
        return s.mean([-2L]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Band-averaged zonal spectra of an ensemble, forecast [M, ..., lat, lon] and optional truth [..., lat, lon]:
    /// the same quantities as <see cref="EnsembleSpectrum.Compute"/> (members, their mean, of the ensemble mean,
    /// of the deviations, of the truth), each [..., nk]. MemberMean = OfMean + Deviations exactly (quadratic form).
    /// </summary>
    public static EnsembleSpectra Ensemble(Tensor forecast, IReadOnlyList<double> latDegrees, LatitudeBand band, Tensor? truth = null)
    {
        if (forecast.dim() < 3 || forecast.shape[^2] != latDegrees.Count)
            throw new EnsembleException($"zonal spectra: forecast {Shapes.Show(forecast.shape)} must be [M, ..., {latDegrees.Count} latitudes, lon]");
        if (truth is not null && !truth.shape.SequenceEqual(forecast.shape.Skip(1)))
            throw new EnsembleException($"zonal spectra: truth {Shapes.Show(truth.shape)} does not match forecast {Shapes.Show(forecast.shape)} after the ensemble dimension");
        var idx = RequireIndices(latDegrees, band);
        var bandLat = idx.Select(i => latDegrees[(int)i]).ToArray();
        using var scope = NewDisposeScope();
        using var rows = tensor(idx, device: forecast.device);
        // Select the band first: the FFT then runs on the band's rows only.
        var x = forecast.index_select(-2, rows).to(ScalarType.Float64);
        Tensor Spec(Tensor f) => ZonalEnergySpectrum.Compute(f, bandLat).mean([-2L]);
        var mean = x.mean([0L]);
        var members = Spec(x);
        var result = new EnsembleSpectra(
            members.MoveToOuterDisposeScope(),
            members.mean([0L]).MoveToOuterDisposeScope(),
            Spec(mean).MoveToOuterDisposeScope(),
            Spec(x - mean.unsqueeze(0)).mean([0L]).MoveToOuterDisposeScope(),
            truth is null ? null : Spec(truth.index_select(-2, rows).to(ScalarType.Float64)).MoveToOuterDisposeScope());
        return result;
    }

    /// <summary>The band's latitude indices; a band that holds no grid latitude is a user error.</summary>
    public static long[] RequireIndices(IReadOnlyList<double> latDegrees, LatitudeBand band)
    {
        var idx = band.Indices(latDegrees);
        if (idx.Length == 0)
            throw new EnsembleException($"zonal spectrum: no grid latitude lies in the band {band.Describe()} (latitudes {string.Join(", ", latDegrees.Select(l => l.ToString("0.###", CultureInfo.InvariantCulture)))})");
        return idx;
    }
}
