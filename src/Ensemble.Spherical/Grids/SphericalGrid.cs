using Ensemble.Core;

namespace Ensemble.Spherical;

/// <summary>
/// A latitude–longitude grid: <paramref name="NLat"/> rows ordered north → south (row 0 nearest 90°N, at 90°N
/// for grids with poles), <paramref name="NLon"/> columns λ_j = 360° j/nlon starting at 0°.
/// </summary>
public sealed record SphericalGrid(GridType Type, int NLat, int NLon)
{
    (double[] X, double[] W)? _rule;

    (double[] X, double[] W) Rule
    {
        get
        {
            if (NLat < 2 && Type != GridType.LegendreGauss) throw new EnsembleException($"{GridTypes.Name(Type)} grid needs nlat ≥ 2, got {NLat}");
            if (NLon < 1) throw new EnsembleException($"grid needs nlon ≥ 1, got {NLon}");
            return _rule ??= Quadrature.Nodes(Type, NLat);
        }
    }

    /// <summary>Colatitudes θ_k in radians, ascending from the north (θ = arccos x, flipped as torch-harmonics does).</summary>
    public double[] Colatitudes()
    {
        var x = Rule.X;
        var theta = new double[NLat];
        for (int k = 0; k < NLat; k++) theta[k] = Math.Acos(x[NLat - 1 - k]);
        return theta;
    }

    /// <summary>x_k = cos θ_k in grid (north → south) order.</summary>
    public double[] CosColatitudes()
    {
        var x = Rule.X;
        var r = new double[NLat];
        for (int k = 0; k < NLat; k++) r[k] = x[NLat - 1 - k];
        return r;
    }

    /// <summary>Latitudes in degrees, north → south (90 − θ in degrees).</summary>
    public double[] LatitudesDeg() => Colatitudes().Select(t => 90.0 - t * 180.0 / Math.PI).ToArray();

    /// <summary>Longitudes in degrees, 360 j / nlon.</summary>
    public double[] LongitudesDeg() => Enumerable.Range(0, NLon).Select(j => 360.0 * j / NLon).ToArray();

    /// <summary>
    /// Quadrature weights on [−1, 1] in grid (north → south) order; Σ = 2. The integral over the sphere is
    /// ∫f dΩ ≈ (2π/nlon) Σ_k w_k Σ_j f[k, j].
    /// </summary>
    public double[] QuadratureWeights()
    {
        var w = Rule.W;
        var r = new double[NLat];
        for (int k = 0; k < NLat; k++) r[k] = w[NLat - 1 - k];
        return r;
    }
}
