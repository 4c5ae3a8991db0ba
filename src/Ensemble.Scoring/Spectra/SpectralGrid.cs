using Ensemble.Core;
using Ensemble.Scoring.Pipeline;
using Ensemble.Spherical;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Spectra;

/// <summary>
/// Recognises a global grid a spherical-harmonic transform can analyse: equiangular with both poles
/// (ERA5/IFS 1°, 0.25°) or Gauss–Legendre latitudes, uniform longitudes covering 360°. Latitude order and
/// the first longitude do not matter for power spectra (a north–south flip maps Y_l^m to ±Y_l^m, a shift in
/// longitude only changes phases).
/// </summary>
public static class SpectralGrid
{
    public static GridType Detect(ScoreGrid grid, string what)
    {
        int nlat = grid.Nlat, nlon = grid.Nlon;
        if (nlat < 3 || nlon < 4) throw new EnsembleException($"spectra: {what} grid {grid.Describe()} is too small for a spherical-harmonic transform");
        double dlon = 360.0 / nlon;
        for (int j = 1; j < nlon; j++)
            if (Math.Abs(grid.Longitudes[j] - grid.Longitudes[j - 1] - dlon) > 1e-6)
                throw new EnsembleException($"spectra need a global grid: {what} longitudes {grid.Describe()} are not {nlon} uniform steps of {dlon}° covering 360°");
        var lat = grid.Latitudes[0] > grid.Latitudes[^1] ? grid.Latitudes : grid.Latitudes.Reverse().ToArray();
        if (Matches(lat, new SphericalGrid(GridType.Equiangular, nlat, nlon).LatitudesDeg())) return GridType.Equiangular;
        if (Matches(lat, new SphericalGrid(GridType.LegendreGauss, nlat, nlon).LatitudesDeg())) return GridType.LegendreGauss;
        throw new EnsembleException($"spectra need a global grid: {what} latitudes {grid.Describe()} are neither equiangular with poles nor Gauss–Legendre");
    }

    static bool Matches(double[] a, double[] b) => a.Zip(b).All(p => Math.Abs(p.First - p.Second) < 1e-4);

    /// <summary>Largest degree count the grid's quadrature integrates exactly, capped at nlon/2 + 1.</summary>
    public static int DefaultLmax(GridType type, int nlat, int nlon) =>
        Math.Min(type == GridType.LegendreGauss ? nlat : (nlat + 1) / 2, nlon / 2 + 1);

    /// <summary>A float64 orthonormal transform for the grid (lmax = mmax = <see cref="DefaultLmax"/> unless given).</summary>
    public static RealSHT Transform(ScoreGrid grid, string what, int? lmax = null)
    {
        var type = Detect(grid, what);
        int l = lmax ?? DefaultLmax(type, grid.Nlat, grid.Nlon);
        if (l < 1 || l > grid.Nlat) throw new EnsembleException($"spectra: lmax {l} must be between 1 and nlat = {grid.Nlat}");
        return new RealSHT(grid.Nlat, grid.Nlon, l, Math.Min(l, grid.Nlon / 2 + 1), type, SphericalNorm.Ortho, csphase: true, dtype: ScalarType.Float64);
    }
}
