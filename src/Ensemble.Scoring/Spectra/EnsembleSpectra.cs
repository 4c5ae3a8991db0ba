using Ensemble.Core;
using Ensemble.Spherical;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Spectra;

/// <summary>Which spherical-harmonic spectrum: total degree E(l) or zonal wavenumber E(m) (verification-metrics.md §8.2).</summary>
public enum SpectrumKind { Degree, Zonal }

/// <summary>
/// Spectra of an ensemble at each leading index (e.g. lead time), all float64 [..., n]:
/// <see cref="Members"/> S(x_i) [M, ..., n]; <see cref="MemberMean"/> mean_i S(x_i); <see cref="OfMean"/> S(x̄);
/// <see cref="Deviations"/> mean_i S(x_i − x̄) (the ddof-0 spread spectrum); <see cref="Truth"/> S(y) when given.
/// MemberMean = OfMean + Deviations holds exactly (§8.3): the ensemble mean loses exactly the spread's power.
/// </summary>
public sealed record EnsembleSpectra(Tensor Members, Tensor MemberMean, Tensor OfMean, Tensor Deviations, Tensor? Truth) : IDisposable
{
    public void Dispose()
    {
        Members.Dispose(); MemberMean.Dispose(); OfMean.Dispose(); Deviations.Dispose(); Truth?.Dispose();
    }
}

public static class EnsembleSpectrum
{
    /// <summary>
    /// forecast [M, ..., nlat, nlon] (e.g. [M, lead_time, nlat, nlon]), optional truth [..., nlat, nlon],
    /// transformed with <paramref name="sht"/> (orthonormal; build it in float64 for 1e-10 identities).
    /// Members are transformed one at a time, so memory is that of one member's coefficients.
    /// </summary>
    public static EnsembleSpectra Compute(RealSHT sht, Tensor forecast, Tensor? truth = null, SpectrumKind kind = SpectrumKind.Degree)
    {
        if (forecast.dim() < 3 || forecast.shape[^2] != sht.NLat || forecast.shape[^1] != sht.NLon)
            throw new EnsembleException($"ensemble spectra: forecast {Shapes.Show(forecast.shape)} must be [M, ..., {sht.NLat}, {sht.NLon}] for this SHT");
        if (truth is not null && !truth.shape.SequenceEqual(forecast.shape.Skip(1)))
            throw new EnsembleException($"ensemble spectra: truth {Shapes.Show(truth.shape)} does not match forecast {Shapes.Show(forecast.shape)} after the ensemble dimension");
        long m = forecast.shape[0];
        var table = sht.Table;
        using var scope = NewDisposeScope();
        Tensor Spec(Tensor f)
        {
            using var c = sht.forward(f.to(table.dtype).to(table.device));
            return kind == SpectrumKind.Degree ? PowerSpectrum.Degree(c) : PowerSpectrum.Zonal(c);
        }
        var x = forecast.to(ScalarType.Float64);
        var mean = x.mean([0L]);
        var members = new List<Tensor>();
        var devSum = (Tensor?)null;
        for (long i = 0; i < m; i++)
        {
            members.Add(Spec(x[i]));
            var dev = Spec(x[i] - mean);
            devSum = devSum is null ? dev : devSum + dev;
        }
        var memberSpectra = stack(members, 0);
        var result = new EnsembleSpectra(
            memberSpectra.MoveToOuterDisposeScope(),
            memberSpectra.mean([0L]).MoveToOuterDisposeScope(),
            Spec(mean).MoveToOuterDisposeScope(),
            (devSum! / m).MoveToOuterDisposeScope(),
            truth is null ? null : Spec(truth.to(ScalarType.Float64)).MoveToOuterDisposeScope());
        return result;
    }
}
