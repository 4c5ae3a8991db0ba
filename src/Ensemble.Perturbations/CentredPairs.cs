using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// Centred ± pairs (docs hens-ensembles §6, §8): member 2p is x₀ + δₚ, member 2p + 1 is x₀ − δₚ, both built from the
/// untouched analysis (never cumulative), then clipped to ≥ 0 on the non-negative channels.
/// </summary>
public static class CentredPairs
{
    /// <summary>
    /// All members of the given pairs: analysis [C, H, W], deltas [P, C, H, W] → [2P, C, H, W] float64, ordered
    /// (+δ0, −δ0, +δ1, −δ1, …). The analysis is not modified. Caller disposes.
    /// </summary>
    public static Tensor Members(Tensor analysis, Tensor deltas, IReadOnlyList<int> nonNegativeChannels)
    {
        Check(analysis, deltas.dim() == 4 ? deltas.shape[1..] : null, deltas);
        using var scope = torch.NewDisposeScope();
        var x = analysis.to(ScalarType.Float64).unsqueeze(0);
        var d = deltas.to(ScalarType.Float64);
        var members = torch.stack([x.add(d, Scalars.One), x - d], 1).reshape(2 * deltas.shape[0], analysis.shape[0], analysis.shape[1], analysis.shape[2]);
        Clip(members, nonNegativeChannels);
        return members.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>One member: analysis [C, H, W] and its pair's δ [C, H, W] → x₀ + sign·δ (sign +1 or −1), clipped. Caller disposes.</summary>
    public static Tensor Member(Tensor analysis, Tensor delta, int sign, IReadOnlyList<int> nonNegativeChannels)
    {
        if (sign is not (1 or -1)) throw new ArgumentOutOfRangeException(nameof(sign), sign, "sign must be +1 or −1");
        Check(analysis, delta.shape, delta);
        using var scope = torch.NewDisposeScope();
        var x = analysis.to(ScalarType.Float64);
        var d = delta.to(ScalarType.Float64);
        var m = (sign > 0 ? x.add(d, Scalars.One) : x - d).unsqueeze(0);   // add(…, One), not +: see Ensemble.Core.Scalars
        Clip(m, nonNegativeChannels);
        return m.squeeze(0).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Index of a member within its pair list: (pair, sign) ↔ 2·pair + (sign &gt; 0 ? 0 : 1).</summary>
    public static int MemberIndex(int pair, int sign) => 2 * pair + (sign > 0 ? 0 : 1);

    static void Clip(Tensor members, IReadOnlyList<int> channels)
    {
        long c = members.shape[1];
        foreach (int ch in channels)
        {
            if (ch < 0 || ch >= c) throw new EnsembleException($"non-negative channel index {ch} is outside the {c} channels");
            using var slice = members.select(1, ch);
            slice.clamp_min_(0.0);
        }
    }

    static void Check(Tensor analysis, long[]? perPair, Tensor deltas)
    {
        if (analysis.dim() != 3)
            throw new EnsembleException($"centred pairs: the analysis must be [C, H, W], got [{string.Join(", ", analysis.shape)}]");
        if (perPair is null || !perPair.SequenceEqual(analysis.shape))
            throw new EnsembleException($"centred pairs: perturbations [{string.Join(", ", deltas.shape)}] do not match the analysis [{string.Join(", ", analysis.shape)}]");
    }
}
