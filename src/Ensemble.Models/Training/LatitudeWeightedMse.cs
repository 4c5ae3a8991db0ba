using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Training;

/// <summary>
/// Mean squared error weighted by cos(latitude) normalised to mean 1 over the grid rows, so that every
/// unit of area counts equally (makani's "weighted geometric l2" up to the square root).
/// </summary>
public sealed class LatitudeWeightedMse
{
    readonly Tensor _weights; // [lat, 1]

    public LatitudeWeightedMse(double[] latitudesDeg, Device? device = null)
    {
        var w = latitudesDeg.Select(lat => Math.Max(Math.Cos(lat * Math.PI / 180), 0)).ToArray();
        double mean = w.Average();
        if (!(mean > 0)) throw new Core.EnsembleException("latitude weights sum to zero");
        _weights = torch.tensor(w.Select(x => (float)(x / mean)).ToArray(), device: device ?? CPU).reshape(-1, 1);
    }

    /// <summary>Scalar loss for prediction and target [..., lat, lon].</summary>
    public Tensor Loss(Tensor prediction, Tensor target)
    {
        var w = _weights.to(prediction.dtype).to(prediction.device);
        var d = prediction.sub(target);
        return d.mul(d).mul(w).mean();                                    // d·d, not square(): see Ensemble.Core.Scalars
    }

    /// <summary>Equiangular latitudes north → south, poles included.</summary>
    public static double[] EquiangularLatitudes(int nlat) =>
        Enumerable.Range(0, nlat).Select(i => 90.0 - 180.0 * i / (nlat - 1)).ToArray();
}
