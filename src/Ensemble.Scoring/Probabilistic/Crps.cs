using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>Which ensemble CRPS estimator (verification-metrics.md §2.1).</summary>
public enum CrpsEstimator
{
    /// <summary>CRPS of the empirical member distribution (properscoring, xskillscore, earthkit).</summary>
    Standard,
    /// <summary>Ferro's fair estimator, unbiased for the distribution the members are drawn from (WB2, WBX).</summary>
    Fair,
}

/// <summary>
/// Continuous ranked probability score, batched over grid points, float64 accumulation.
/// Ensemble form: forecast [M, ...], truth [...] → per-point CRPS [...].
/// </summary>
public static class Crps
{
    // Points per chunk so that one chunk of sorted float64 members stays near 128 MB.
    const long ChunkElements = 1L << 24;

    /// <summary>
    /// Sorted-member O(M log M) form (§2.2): with d₍ᵢ₎ = sorted(x_i − y), skill = mean|d|,
    /// G = Σ (2i − M − 1) d₍ᵢ₎; standard = skill − G/M², fair = skill − G/(M(M − 1)).
    /// Fair CRPS of a single member is 0/0 and returned as NaN. NaN members propagate.
    /// </summary>
    public static Tensor Ensemble(Tensor forecast, Tensor truth, CrpsEstimator estimator = CrpsEstimator.Fair)
    {
        Shapes.RequireEnsemble(forecast, truth, "CRPS");
        long m = forecast.shape[0];
        var outShape = truth.shape;
        using var scope = NewDisposeScope();
        // Centre on y before sorting: z500 (~5e4) would otherwise lose digits (§0).
        var x = forecast.reshape(m, -1);
        var y = truth.reshape(1, -1).to(ScalarType.Float64);
        long p = x.shape[1];
        var (skill, g) = SkillAndSpread(x, y, m, p);
        var result = Combine(skill, g, m, estimator);
        return result.reshape(outShape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Σ_i |x_i − y| and G = Σ_i (2i − M − 1) d₍ᵢ₎ per point for x [M, P], y [1, P] (float64 results [P]).
    /// Σ_i Σ_j |x_i − x_j| = 2G, which is what the streaming accumulator needs.
    /// </summary>
    internal static (Tensor AbsSum, Tensor G) SkillAndSpread(Tensor x, Tensor y, long m, long p)
    {
        using var coef = (arange(1, m + 1, dtype: ScalarType.Float64, device: x.device) * 2 - (m + 1));
        long chunk = Math.Max(1, ChunkElements / Math.Max(1, m));
        var absParts = new List<Tensor>();
        var gParts = new List<Tensor>();
        for (long start = 0; start < p; start += chunk)
        {
            long len = Math.Min(chunk, p - start);
            // Points-major [len, M] so each point's members are contiguous: sorting along the last
            // dimension is the cache-friendly path (sorting along dim 0 strides over all points).
            using var d = (x.narrow(1, start, len).to(ScalarType.Float64) - y.narrow(1, start, len)).t().contiguous();
            using var sorted = d.sort(-1).Values;
            absParts.Add(sorted.abs().sum(-1L));
            gParts.Add(sorted.mv(coef));
        }
        var abs = absParts.Count == 1 ? absParts[0] : cat(absParts, 0);
        var g = gParts.Count == 1 ? gParts[0] : cat(gParts, 0);
        return (abs, g);
    }

    internal static Tensor Combine(Tensor absSum, Tensor g, long m, CrpsEstimator estimator)
    {
        var skill = absSum / m;
        if (estimator == CrpsEstimator.Standard) return skill - g / ((double)m * m);
        if (m < 2) return full_like(skill, double.NaN);
        return skill - g / ((double)m * (m - 1));
    }

    /// <summary>
    /// Standard CRPS with member weights (properscoring `weights=`): with normalised w and the
    /// cumulative weight P₍ᵢ₎ of the sorted members, ½ΣΣ w_i w_j |x_i − x_j| = Σ w₍ᵢ₎ d₍ᵢ₎ (P₍ᵢ₋₁₎ + P₍ᵢ₎ − 1).
    /// weights [M] apply to every point.
    /// </summary>
    public static Tensor EnsembleWeighted(Tensor forecast, Tensor truth, Tensor weights)
    {
        Shapes.RequireEnsemble(forecast, truth, "weighted CRPS");
        long m = forecast.shape[0];
        if (weights.dim() != 1 || weights.shape[0] != m)
            throw new EnsembleException($"weighted CRPS: {weights.numel()} member weights for {m} members");
        using var scope = NewDisposeScope();
        var w = weights.to(ScalarType.Float64).to(forecast.device);
        double total = w.sum().item<double>();
        if (!(total > 0) || w.lt(0).any().item<bool>())
            throw new EnsembleException("weighted CRPS: member weights must be non-negative with a positive sum");
        w = w / total;
        var d = forecast.reshape(m, -1).to(ScalarType.Float64) - truth.reshape(1, -1).to(ScalarType.Float64);
        var (sorted, idx) = d.sort(0);
        var ws = w.index_select(0, idx.reshape(-1)).reshape(idx.shape);
        var cum = ws.cumsum(0);
        var prev = cum - ws;
        var skill = (ws * sorted.abs()).sum(0L);
        var half = (ws * sorted * (prev + cum - 1.0)).sum(0L);
        return (skill - half).reshape(truth.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Gaussian closed form (Gneiting et al. 2005, eq. 5): σ[z(2Φ(z) − 1) + 2φ(z) − 1/√π], z = (y − μ)/σ;
    /// σ = 0 gives the limit |y − μ|. Broadcasts μ, σ, y.
    /// </summary>
    public static Tensor Gaussian(Tensor mu, Tensor sigma, Tensor truth)
    {
        using var scope = NewDisposeScope();
        var m = mu.to(ScalarType.Float64);
        var s = sigma.to(ScalarType.Float64);
        var y = truth.to(ScalarType.Float64);
        if (s.lt(0).any().item<bool>()) throw new EnsembleException("Gaussian CRPS: σ must be non-negative");
        var safe = where(s.gt(0), s, ones_like(s));
        var z = (y - m) / safe;
        var cdf = 0.5 * (1.0 + erf(z / Math.Sqrt(2.0)));
        var pdf = exp(-0.5 * z * z) / Math.Sqrt(2.0 * Math.PI);
        var crps = safe * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - 1.0 / Math.Sqrt(Math.PI));
        var limit = (y - m).abs();
        return where(s.gt(0), crps, limit).MoveToOuterDisposeScope();
    }

    public static double Gaussian(double mu, double sigma, double y)
    {
        using var r = Gaussian(tensor(mu), tensor(sigma), tensor(y));
        return r.item<double>();
    }

    /// <summary>
    /// Threshold-weighted CRPS with chaining function v(z) = max(z, t) (§2.5): the ensemble estimator
    /// applied to max(X, t) and max(y, t). threshold broadcasts against truth.
    /// </summary>
    public static Tensor ThresholdWeighted(Tensor forecast, Tensor truth, Tensor threshold, CrpsEstimator estimator = CrpsEstimator.Fair)
    {
        Shapes.RequireEnsemble(forecast, truth, "threshold-weighted CRPS");
        using var scope = NewDisposeScope();
        var t = threshold.to(ScalarType.Float64).to(forecast.device);
        var xf = maximum(forecast.to(ScalarType.Float64), t);
        var yf = maximum(truth.to(ScalarType.Float64), t);
        if (!yf.shape.SequenceEqual(truth.shape))
            throw new EnsembleException($"threshold-weighted CRPS: threshold {Shapes.Show(threshold.shape)} does not broadcast to truth {Shapes.Show(truth.shape)}");
        return Ensemble(xf, yf, estimator).MoveToOuterDisposeScope();
    }

    public static Tensor ThresholdWeighted(Tensor forecast, Tensor truth, double threshold, CrpsEstimator estimator = CrpsEstimator.Fair)
    {
        using var t = tensor(threshold, dtype: ScalarType.Float64);
        return ThresholdWeighted(forecast, truth, t, estimator);
    }
}
