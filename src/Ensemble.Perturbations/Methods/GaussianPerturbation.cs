using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// Plain Gaussian perturbation: δₚ[c, i, j] = A[c] · εₚ[c, i, j], ε ~ N(0, 1) independent at every grid point,
/// drawn from a generator seeded with the pair's seed (spatially white: a baseline, not a realistic error).
/// </summary>
public sealed class GaussianPerturbation(IReadOnlyList<string> channelNames, int nlat, int nlon, IReadOnlyList<double> amplitudes,
    IReadOnlyList<int> nonNegativeChannels) : PerturbationBase(channelNames, nlat, nlon, nonNegativeChannels)
{
    public IReadOnlyList<double> Amplitudes { get; } = amplitudes.ToList();

    public override string Name => "gaussian";

    public override IReadOnlyDictionary<string, string> Attributes => new Dictionary<string, string>(base.Attributes)
    {
        ["perturbation_amplitudes"] = Format(Amplitudes),
    };

    protected override Tensor Compute(PerturbationRequest request)
    {
        using var scope = torch.NewDisposeScope();
        int c = ChannelNames.Count;
        var a = torch.tensor(Amplitudes.ToArray(), dtype: ScalarType.Float64).reshape(c, 1, 1);
        var pairs = new List<Tensor>();
        foreach (long seed in request.PairSeeds)
        {
            using var g = new Generator((ulong)seed);
            pairs.Add(torch.randn([c, NLat, NLon], dtype: ScalarType.Float64, generator: g) * a);
        }
        return torch.stack(pairs, 0).to(request.Analysis.device).MoveToOuterDisposeScope();
    }
}
