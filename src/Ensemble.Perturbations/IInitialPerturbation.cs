using Ensemble.Models.Packages;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// Everything a method needs to perturb one analysis for one (checkpoint, initial time).
/// </summary>
/// <param name="Analysis">The analysis x₀ at <paramref name="InitTime"/>: [C, H, W] float64, physical units, model channel order.</param>
/// <param name="InitTime">Initial time t₀ (UTC).</param>
/// <param name="PairSeeds">One seed per ± pair, derived by the runner from (campaign seed, checkpoint, initial time, pair index).</param>
/// <param name="Model">The checkpoint the members run with (bred vectors breed with it); null for model-free methods.</param>
/// <param name="Analyses">Earlier analyses [C, H, W] by valid time (the breeding cycle reads t₀−18 h … t₀); null when unavailable.
/// The method only reads the returned tensors and calls this inside its own dispose scope: tensors the callback creates
/// during the call are released when the call ends (a callback that caches must detach its cache from the scope).</param>
public sealed record PerturbationRequest(
    Tensor Analysis,
    DateTime InitTime,
    IReadOnlyList<long> PairSeeds,
    Forecaster? Model = null,
    Func<DateTime, Tensor>? Analyses = null);

/// <summary>
/// An initial-condition perturbation method: one perturbation δₚ per pair. Members are x₀ + δₚ and x₀ − δₚ
/// (then clipped where a channel must stay non-negative) — see <c>CentredPairs</c>.
/// </summary>
public interface IInitialPerturbation
{
    /// <summary>Short name written into output attributes (e.g. <c>bred_vector</c>, <c>spherical_gaussian</c>, <c>gaussian</c>, <c>none</c>).</summary>
    string Name { get; }

    /// <summary>δ for every pair: [P, C, H, W] float64 in physical units, P = request.PairSeeds.Count. Caller disposes.</summary>
    Tensor Perturbations(PerturbationRequest request);

    /// <summary>Channel indices clipped to ≥ 0 after adding ±δ (pass to <c>CentredPairs.Members</c>).</summary>
    IReadOnlyList<int> NonNegativeChannels => [];

    /// <summary>What to record in the output metadata (method, amplitudes, timing variant, noise parameters).</summary>
    IReadOnlyDictionary<string, string> Attributes => new Dictionary<string, string> { ["perturbation"] = Name };
}
