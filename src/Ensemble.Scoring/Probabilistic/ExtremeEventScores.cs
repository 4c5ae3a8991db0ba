using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>Brier decomposition as HENS computed it (verification-metrics.md §5).</summary>
public sealed record BrierDecomposition(double Reliability, double Resolution, double Uncertainty);

/// <summary>HENS extreme-event scores (verification-metrics.md §2.5, §5).</summary>
public static class ExtremeEventScores
{
    /// <summary>Log score of an exceedance probability: −[o ln(p + 1e−9) + (1 − o) ln(1 − p + 1e−9)].</summary>
    public static Tensor LogScore(Tensor probability, Tensor observed)
    {
        using var scope = NewDisposeScope();
        var p = probability.to(ScalarType.Float64);
        var o = observed.to(ScalarType.Float64);
        return (-(o * (p + 1e-9).log() + (1 - o) * (1 - p + 1e-9).log())).MoveToOuterDisposeScope();
    }

    /// <summary>Extremal dependence index (ln F − ln H)/(ln F + ln H), F false-alarm rate, H hit rate.</summary>
    public static double Edi(double falseAlarmRate, double hitRate) =>
        (Math.Log(falseAlarmRate) - Math.Log(hitRate)) / (Math.Log(falseAlarmRate) + Math.Log(hitRate));

    /// <summary>twMAE of one member: |max(x, t) − max(y, t)|.</summary>
    public static Tensor ThresholdWeightedMae(Tensor member, Tensor truth, double threshold)
    {
        using var scope = NewDisposeScope();
        return (member.to(ScalarType.Float64).clamp_min(threshold) - truth.to(ScalarType.Float64).clamp_min(threshold)).abs().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// rel = Σ_k n_k (f_k − ō_k)²/N, res = Σ_k n_k (ō_k − ō)²/N, unc = ō(1 − ō) with f_k the bin centre
    /// and ō the nominal base rate (e.g. 0.05 for the 95th percentile), over the bins of a reliability diagram.
    /// </summary>
    public static BrierDecomposition Decompose(ReliabilityDiagram diagram, double baseRate)
    {
        long total = diagram.Counts.Sum();
        if (total == 0) throw new EnsembleException("Brier decomposition: the reliability diagram is empty");
        double rel = 0, res = 0;
        for (int k = 0; k < diagram.Counts.Length; k++)
        {
            if (diagram.Counts[k] == 0) continue;
            double centre = 0.5 * (diagram.Edges[k] + diagram.Edges[k + 1]);
            rel += diagram.Counts[k] * Math.Pow(centre - diagram.ObservedFrequency[k], 2);
            res += diagram.Counts[k] * Math.Pow(diagram.ObservedFrequency[k] - baseRate, 2);
        }
        return new BrierDecomposition(rel / total, res / total, baseRate * (1 - baseRate));
    }
}
