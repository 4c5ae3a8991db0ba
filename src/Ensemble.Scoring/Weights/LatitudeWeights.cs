using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Weights;

/// <summary>Latitude weights for area means, normalised to mean 1 (verification-metrics.md §1).</summary>
public static class LatitudeWeights
{
    /// <summary>cos φ normalised to mean 1 (earth2studio `lat_weight`, HENS `global_average`).</summary>
    public static double[] CosLat(IReadOnlyList<double> latDegrees)
    {
        if (latDegrees.Count == 0) throw new EnsembleException("latitude weights: no latitudes given");
        var w = latDegrees.Select(l => Math.Cos(l * Math.PI / 180.0)).ToArray();
        return NormaliseToMeanOne(w);
    }

    /// <summary>
    /// WeatherBench2 cell-area weights (`get_lat_weights`): cell bounds at midpoints between latitudes
    /// and ±90°, weight = sin(upper) − sin(lower), normalised to mean 1. WB2 requires increasing
    /// latitudes; this accepts either strictly monotone order (our grids run north → south) and returns
    /// the weights in the order given. Unlike cos φ, pole rows get a positive weight.
    /// </summary>
    public static double[] CellArea(IReadOnlyList<double> latDegrees)
    {
        int n = latDegrees.Count;
        if (n == 0) throw new EnsembleException("latitude weights: no latitudes given");
        bool decreasing = n > 1 && latDegrees[1] < latDegrees[0];
        var lat = decreasing ? latDegrees.Reverse().ToArray() : latDegrees.ToArray();
        for (int i = 1; i < n; i++)
            if (!(lat[i] > lat[i - 1]))
                throw new EnsembleException($"latitude weights: latitudes must be strictly monotone (at index {i})");
        var rad = lat.Select(l => l * Math.PI / 180.0).ToArray();
        var bounds = new double[n + 1];
        bounds[0] = -Math.PI / 2;
        bounds[n] = Math.PI / 2;
        for (int i = 1; i < n; i++) bounds[i] = 0.5 * (rad[i - 1] + rad[i]);
        var w = new double[n];
        for (int i = 0; i < n; i++) w[i] = Math.Sin(bounds[i + 1]) - Math.Sin(bounds[i]);
        if (decreasing) Array.Reverse(w);
        return NormaliseToMeanOne(w);
    }

    /// <summary>Equiangular latitudes 90 → −90 inclusive (nlat rows), the project's grid convention.</summary>
    public static double[] EquiangularLatitudes(int nlat)
    {
        if (nlat < 2) throw new EnsembleException($"equiangular grid: nlat must be ≥ 2, got {nlat}");
        return Enumerable.Range(0, nlat).Select(i => 90.0 - 180.0 * i / (nlat - 1)).ToArray();
    }

    public static Tensor ToTensor(double[] weights, Device? device = null) =>
        tensor(weights, dtype: ScalarType.Float64, device: device ?? CPU);

    static double[] NormaliseToMeanOne(double[] w)
    {
        double mean = w.Average();
        if (!(mean > 0)) throw new EnsembleException("latitude weights: weights sum to zero");
        return w.Select(x => x / mean).ToArray();
    }
}
