using Ensemble.Core;

namespace Ensemble.Perturbations;

/// <summary>
/// Seeds of the perturbations (docs hens-ensembles §7.3): one 63-bit seed per (campaign seed, checkpoint, initial
/// time, pair) through <see cref="Seeds.Derive"/>, so every pair's noise is independent of the batch it runs in and
/// of the world size, and any pair can be recomputed alone. A domain tag keeps these seeds apart from other uses of
/// the same parts.
/// </summary>
public static class PerturbationSeeds
{
    static readonly long PairTag = Seeds.Of("ensemble.perturbation.pair");
    static readonly long WeightTag = Seeds.Of("ensemble.perturbation.weights");

    /// <summary>The seed of ± pair <paramref name="pair"/>. An unspecified-kind time is taken as UTC (never as local time).</summary>
    public static long Pair(long campaignSeed, int checkpoint, DateTime initTime, int pair) =>
        Seeds.Derive(campaignSeed, PairTag, checkpoint, Seeds.Of(AsUtc(initTime)), pair);

    /// <summary>Seeds of pairs <paramref name="firstPair"/> … <paramref name="firstPair"/> + <paramref name="count"/> − 1.</summary>
    public static IReadOnlyList<long> Pairs(long campaignSeed, int checkpoint, DateTime initTime, int firstPair, int count) =>
        Enumerable.Range(firstPair, count).Select(p => Pair(campaignSeed, checkpoint, initTime, p)).ToList();

    /// <summary>The seed of weight-perturbation variant <paramref name="variant"/> of a checkpoint.</summary>
    public static long Weights(long campaignSeed, int checkpoint, int variant) =>
        Seeds.Derive(campaignSeed, WeightTag, checkpoint, variant);

    static DateTime AsUtc(DateTime t) => t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime();
}
