using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// Correlated spherical Gaussian perturbation (earth2studio <c>CorrelatedSphericalGaussian</c>):
/// δₚ[c] = A[c] · uₚ[c] with one independent stationary correlated spherical field per channel and pair
/// (docs hens-ensembles §3; length scale 500 km, σ = 1 by default).
/// </summary>
public sealed class SphericalGaussianPerturbation(IReadOnlyList<string> channelNames, int nlat, int nlon, IReadOnlyList<double> amplitudes,
    NoiseConfig noise, IReadOnlyList<int> nonNegativeChannels) : PerturbationBase(channelNames, nlat, nlon, nonNegativeChannels)
{
    public IReadOnlyList<double> Amplitudes { get; } = amplitudes.ToList();
    public NoiseConfig Noise { get; } = noise;

    public override string Name => "spherical_gaussian";

    public override IReadOnlyDictionary<string, string> Attributes => new Dictionary<string, string>(base.Attributes)
    {
        ["perturbation_amplitudes"] = Format(Amplitudes),
        ["perturbation_noise"] = $"length_scale={Noise.LengthScale} m, time_scale={Noise.TimeScaleHours} h, sigma={Noise.Sigma}, lmax={Noise.Lmax?.ToString() ?? "nlat"}",
    };

    protected override Tensor Compute(PerturbationRequest request)
    {
        using var scope = torch.NewDisposeScope();
        int c = ChannelNames.Count;
        var a = torch.tensor(Amplitudes.ToArray(), dtype: ScalarType.Float64).reshape(c, 1, 1);
        var pairs = request.PairSeeds.Select(seed => SeedFields.Draw(seed, c, NLat, NLon, Noise) * a).ToList();
        return torch.stack(pairs, 0).to(request.Analysis.device).MoveToOuterDisposeScope();
    }
}
