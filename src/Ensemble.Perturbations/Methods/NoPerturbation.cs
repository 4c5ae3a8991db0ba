using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>The control: δ = 0 for every pair (both members of a pair equal the analysis, apart from clipping).</summary>
public sealed class NoPerturbation(IReadOnlyList<string> channelNames, int nlat, int nlon, IReadOnlyList<int> nonNegativeChannels)
    : PerturbationBase(channelNames, nlat, nlon, nonNegativeChannels)
{
    public override string Name => "none";

    protected override Tensor Compute(PerturbationRequest request) =>
        torch.zeros([request.PairSeeds.Count, ChannelNames.Count, NLat, NLon], dtype: ScalarType.Float64, device: request.Analysis.device);
}
