using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Extremes;

/// <summary>numpy `percentile` (linear interpolation at position (N − 1)·p/100 of the sorted values) along dimension 0.</summary>
public static class Percentiles
{
    /// <summary>sample [N, ...] → [K, ...] float64 for the given percents (0 … 100).</summary>
    public static Tensor Of(Tensor sample, IReadOnlyList<double> percents)
    {
        if (sample.dim() < 1 || sample.shape[0] < 1)
            throw new EnsembleException("percentiles: empty sample");
        foreach (var q in percents)
            if (!(q >= 0 && q <= 100)) throw new EnsembleException($"percentiles: {q} is outside 0 … 100");
        long n = sample.shape[0];
        using var scope = NewDisposeScope();
        var sorted = sample.to(ScalarType.Float64).sort(0).Values;
        var rows = new List<Tensor>(percents.Count);
        foreach (var q in percents)
        {
            double pos = (n - 1) * q / 100.0;
            long lo = (long)Math.Floor(pos);
            long hi = Math.Min(lo + 1, n - 1);
            double frac = pos - lo;
            var a = sorted[lo];
            var b = sorted[hi];
            // numpy's lerp form: a + (b − a)·t, switching to b − (b − a)(1 − t) for t ≥ ½.
            rows.Add(frac >= 0.5 ? b - (b - a) * (1 - frac) : a + (b - a) * frac);
        }
        return stack(rows, 0).MoveToOuterDisposeScope();
    }

    public static Tensor Of(Tensor sample, double percent)
    {
        using var r = Of(sample, new[] { percent });
        return r[0].clone();
    }
}

/// <summary>
/// Model climate (M-climate): 101 percentiles (0, 1, …, 100) per grid point from a re-forecast sample
/// [N, ...] (ECMWF: 1,980 values per point; verification-metrics.md §9.2).
/// </summary>
public sealed class ModelClimate
{
    public const int Count = 101;

    ModelClimate(Tensor percentiles) => Values = percentiles;

    /// <summary>Climate percentiles [101, ...], float64, non-decreasing along dimension 0.</summary>
    public Tensor Values { get; }

    public static ModelClimate FromSample(Tensor sample)
    {
        if (sample.dim() < 1 || sample.shape[0] < 2)
            throw new EnsembleException($"model climate: need a sample [N, ...] with N ≥ 2, got {Shapes.Show(sample.shape)}");
        return new ModelClimate(Percentiles.Of(sample, Enumerable.Range(0, Count).Select(k => (double)k).ToArray()));
    }

    /// <summary>Wraps given percentiles [101, ...] (e.g. read from a file).</summary>
    public static ModelClimate FromPercentiles(Tensor percentiles)
    {
        if (percentiles.dim() < 1 || percentiles.shape[0] != Count)
            throw new EnsembleException($"model climate: expected 101 percentiles along dimension 0, got {Shapes.Show(percentiles.shape)}");
        return new ModelClimate(percentiles.to(ScalarType.Float64));
    }
}

/// <summary>Extreme events defined by a truth percentile per grid point (e.g. the 95th of a truth climatology).</summary>
public static class ExtremeThresholds
{
    /// <summary>The <paramref name="percent"/>-th percentile per point of a truth sample [N, lat, lon].</summary>
    public static Tensor TruthPercentile(Tensor truthSample, double percent) => Percentiles.Of(truthSample, percent);

    /// <summary>Event indicator (float64 0/1): y &gt; threshold for hot extremes, y &lt; threshold for cold (HENS).</summary>
    public static Tensor Events(Tensor truth, Tensor threshold, bool upper = true)
    {
        using var t = threshold.to(ScalarType.Float64).to(truth.device);
        using var y = truth.to(ScalarType.Float64);
        using var b = upper ? y.gt(t) : y.lt(t);
        return b.to(ScalarType.Float64);
    }
}
