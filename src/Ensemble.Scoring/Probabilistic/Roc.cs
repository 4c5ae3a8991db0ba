using Ensemble.Core;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>ROC points including the (0, 0) and (1, 1) end points, the thresholds between them, and the trapezoid AUC.</summary>
public sealed record RocCurve(double[] Thresholds, double[] FalseAlarmRate, double[] HitRate, double Auc);

/// <summary>
/// ROC of a probability forecast against binary outcomes (xskillscore `roc`; verification-metrics.md §6):
/// "yes" when p ≥ threshold; HR = hits/(hits + misses), FAR = false alarms/(false alarms + correct negatives).
/// </summary>
public static class Roc
{
    /// <summary>"continuous" bin edges: every distinct forecast value, descending.</summary>
    public static RocCurve Continuous(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed)
    {
        Check(probability, observed);
        var thresholds = probability.ToArray().Where(p => !double.IsNaN(p)).Distinct().OrderByDescending(p => p).ToArray();
        return AtThresholds(probability, observed, thresholds);
    }

    /// <summary>Thresholds at the given bin edges (e.g. linspace(0, 1, 11) for the EFI-ROC), used in descending order.</summary>
    public static RocCurve WithEdges(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed, double[] edges)
    {
        Check(probability, observed);
        return AtThresholds(probability, observed, edges.OrderByDescending(e => e).ToArray());
    }

    static RocCurve AtThresholds(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed, double[] thresholds)
    {
        var far = new double[thresholds.Length + 2];
        var hr = new double[thresholds.Length + 2];
        for (int k = 0; k < thresholds.Length; k++)
        {
            long hits = 0, misses = 0, fa = 0, cn = 0;
            for (int i = 0; i < probability.Length; i++)
            {
                double p = probability[i], o = observed[i];
                if (double.IsNaN(p) || double.IsNaN(o)) continue;
                bool yes = p >= thresholds[k];
                bool ev = o > 0.5;
                if (yes && ev) hits++;
                else if (!yes && ev) misses++;
                else if (yes) fa++;
                else cn++;
            }
            hr[k + 1] = hits + misses > 0 ? (double)hits / (hits + misses) : double.NaN;
            far[k + 1] = fa + cn > 0 ? (double)fa / (fa + cn) : double.NaN;
        }
        far[^1] = 1; hr[^1] = 1;
        double auc = 0;
        for (int k = 1; k < far.Length; k++) auc += (far[k] - far[k - 1]) * (hr[k] + hr[k - 1]) / 2;
        auc = Math.Clamp(auc, 0, 1);
        return new RocCurve(thresholds, far, hr, auc);
    }

    /// <summary>
    /// Mann–Whitney AUC = (R₁ − n₁(n₁ + 1)/2)/(n₁n₀) with average ranks: equals the trapezoid AUC
    /// over all distinct thresholds, in O(N log N).
    /// </summary>
    public static double MannWhitneyAuc(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed)
    {
        Check(probability, observed);
        var items = new List<(double P, bool Event)>();
        for (int i = 0; i < probability.Length; i++)
            if (!double.IsNaN(probability[i]) && !double.IsNaN(observed[i]))
                items.Add((probability[i], observed[i] > 0.5));
        items.Sort((a, b) => a.P.CompareTo(b.P));
        double rankSum = 0;
        long n1 = 0;
        for (int i = 0; i < items.Count;)
        {
            int j = i;
            while (j < items.Count && items[j].P == items[i].P) j++;
            double avgRank = (i + 1 + j) / 2.0; // ranks i+1 … j
            for (int k = i; k < j; k++)
                if (items[k].Event) { rankSum += avgRank; n1++; }
            i = j;
        }
        long n0 = items.Count - n1;
        if (n1 == 0 || n0 == 0) return double.NaN;
        return (rankSum - n1 * (n1 + 1) / 2.0) / ((double)n1 * n0);
    }

    static void Check(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed)
    {
        if (probability.Length != observed.Length)
            throw new EnsembleException($"ROC: {probability.Length} probabilities but {observed.Length} outcomes");
    }
}
