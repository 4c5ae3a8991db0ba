using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>Shared checks and bookkeeping of the methods: channel names, grid, clipped channels, output attributes.</summary>
public abstract class PerturbationBase : IInitialPerturbation
{
    protected PerturbationBase(IReadOnlyList<string> channelNames, int nlat, int nlon, IReadOnlyList<int> nonNegativeChannels)
    {
        ChannelNames = channelNames.ToList();
        NLat = nlat;
        NLon = nlon;
        NonNegativeChannels = nonNegativeChannels.ToList();
    }

    public abstract string Name { get; }
    public IReadOnlyList<string> ChannelNames { get; }
    public int NLat { get; }
    public int NLon { get; }
    public IReadOnlyList<int> NonNegativeChannels { get; }

    public virtual IReadOnlyDictionary<string, string> Attributes => new Dictionary<string, string>
    {
        ["perturbation"] = Name,
        ["perturbation_clip_non_negative"] = string.Join(",", NonNegativeChannels.Select(i => ChannelNames[i])),
    };

    public Tensor Perturbations(PerturbationRequest request)
    {
        CheckState(request.Analysis, "analysis");
        if (request.PairSeeds.Count == 0)
            return torch.zeros([0, ChannelNames.Count, NLat, NLon], dtype: ScalarType.Float64, device: request.Analysis.device);
        return Compute(request);
    }

    /// <summary>δ [P, C, H, W] float64 for a request with at least one pair.</summary>
    protected abstract Tensor Compute(PerturbationRequest request);

    protected void CheckState(Tensor x, string what)
    {
        if (x.dim() != 3 || x.shape[0] != ChannelNames.Count || x.shape[1] != NLat || x.shape[2] != NLon)
            throw new EnsembleException($"{Name}: the {what} has shape [{string.Join(", ", x.shape)}], expected [{ChannelNames.Count}, {NLat}, {NLon}] ({string.Join(" ", ChannelNames)})");
    }

    protected static string Format(IEnumerable<double> values) =>
        string.Join(",", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
}
