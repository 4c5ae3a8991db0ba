using Ensemble.Core;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>Reliability diagram: per probability bin the count, mean forecast and observed frequency.</summary>
public sealed record ReliabilityDiagram(double[] Edges, long[] Counts, double[] MeanForecast, double[] ObservedFrequency);

/// <summary>
/// xskillscore `reliability` binning (verification-metrics.md §5): bins [e_k, e_{k+1}), the last one
/// closed; empty bins give NaN frequencies. Unweighted.
/// </summary>
public static class Reliability
{
    public static ReliabilityDiagram Compute(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed, int bins = 10)
    {
        if (bins < 1) throw new EnsembleException($"reliability: need at least one bin, got {bins}");
        return Compute(probability, observed, Linspace(0, 1, bins + 1));
    }

    /// <summary>
    /// numpy `linspace` edges (start + k·step, last = stop): 0.6000000000000001 rather than 0.6 for 6 edges,
    /// which decides the bin of a forecast of exactly 0.6 as in xskillscore.
    /// </summary>
    public static double[] Linspace(double start, double stop, int count)
    {
        var e = new double[count];
        double step = (stop - start) / (count - 1);
        for (int k = 0; k < count; k++) e[k] = k * step + start;
        e[count - 1] = stop;
        return e;
    }

    public static ReliabilityDiagram Compute(ReadOnlySpan<double> probability, ReadOnlySpan<double> observed, double[] edges)
    {
        if (probability.Length != observed.Length)
            throw new EnsembleException($"reliability: {probability.Length} probabilities but {observed.Length} outcomes");
        if (edges.Length < 2) throw new EnsembleException("reliability: need at least two bin edges");
        for (int k = 1; k < edges.Length; k++)
            if (!(edges[k] > edges[k - 1])) throw new EnsembleException("reliability: bin edges must increase");
        int nb = edges.Length - 1;
        var n = new long[nb];
        var sumP = new double[nb];
        var sumO = new double[nb];
        for (int i = 0; i < probability.Length; i++)
        {
            double p = probability[i];
            if (double.IsNaN(p) || double.IsNaN(observed[i])) continue;
            int k = Bin(edges, p);
            if (k < 0) continue;
            n[k]++;
            sumP[k] += p;
            sumO[k] += observed[i];
        }
        var meanP = new double[nb];
        var freq = new double[nb];
        for (int k = 0; k < nb; k++)
        {
            meanP[k] = n[k] > 0 ? sumP[k] / n[k] : double.NaN;
            freq[k] = n[k] > 0 ? sumO[k] / n[k] : double.NaN;
        }
        return new ReliabilityDiagram(edges, n, meanP, freq);
    }

    /// <summary>Bin index of p, or −1 outside the edges; the last bin includes its upper edge.</summary>
    internal static int Bin(double[] edges, double p)
    {
        int nb = edges.Length - 1;
        if (p < edges[0] || p > edges[nb]) return -1;
        if (p == edges[nb]) return nb - 1;
        int lo = 0, hi = nb; // invariant edges[lo] <= p < edges[hi]
        while (hi - lo > 1)
        {
            int mid = (lo + hi) / 2;
            if (edges[mid] <= p) lo = mid; else hi = mid;
        }
        return lo;
    }
}
