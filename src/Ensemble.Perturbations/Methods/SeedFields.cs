using Ensemble.Core;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// Independent stationary correlated spherical fields on the model grid (docs hens-ensembles §3): a fresh
/// <see cref="SphericalNoise"/> per pair seeded with the pair's seed, first (stationary) draw only — as the original
/// did per member, and unlike earth2studio's batch loop whose rows are AR(1)-correlated (§3.2 pitfall).
/// The noise grid has nlat' = 2⌊H/2⌋ rows and 2·nlat' columns; its nlat' + 1 output rows are copied onto the H model
/// rows (the last noise row duplicated when H is odd), like earth2studio's <c>CorrelatedSphericalGaussian</c>.
/// </summary>
internal static class SeedFields
{
    public static int NoiseLat(int nlat) => 2 * (nlat / 2);

    /// <summary>Throws unless an nlat × nlon grid can carry the noise (nlon = 2·nlat', i.e. N×2N or (N+1)×2N).</summary>
    public static void CheckGrid(int nlat, int nlon, string method)
    {
        int n = NoiseLat(nlat);
        if (n < 2 || nlon != 2 * n)
            throw new EnsembleException($"{method}: the correlated spherical noise needs an N×2N or (N+1)×2N grid, got {nlat}×{nlon}");
    }

    /// <summary>[count, nlat, nlon] float64 from one seed. Caller disposes.</summary>
    public static Tensor Draw(long seed, int count, int nlat, int nlon, NoiseConfig noise)
    {
        using var field = new SphericalNoise(NoiseLat(nlat), seed, count, noise.LengthScale, noise.TimeScaleHours, noise.Sigma, 6.0, noise.Lmax);
        using var u = field.Draw();
        return u.narrow(1, 0, nlat).to(ScalarType.Float64).contiguous();
    }
}
