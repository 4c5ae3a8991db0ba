using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>Ranked probability score, unscaled (verification-metrics.md §12.2, §12.5).</summary>
public static class Rps
{
    /// <summary>
    /// From members [M, ...] and category edges: RPS = Σ_e (F(e) − O(e))² with F(e) = fraction of members
    /// &lt; e and O(e) = 1[y &lt; e] (xskillscore `rps`). Result [...].
    /// </summary>
    public static Tensor FromEnsemble(Tensor forecast, Tensor truth, IReadOnlyList<double> edges)
    {
        Shapes.RequireEnsemble(forecast, truth, "RPS");
        if (edges.Count == 0) throw new EnsembleException("RPS: no category edges");
        using var scope = NewDisposeScope();
        var x = forecast.to(ScalarType.Float64);
        var y = truth.to(ScalarType.Float64);
        var rps = zeros_like(y);
        foreach (double e in edges)
        {
            var f = x.lt(e).to(ScalarType.Float64).mean([0L]);
            var o = y.lt(e).to(ScalarType.Float64);
            rps.add_((f - o).pow(2));
        }
        return rps.MoveToOuterDisposeScope();
    }

    /// <summary>From category probabilities and the observed category index: Σ_k (cumulative p − cumulative o)².</summary>
    public static double FromProbabilities(IReadOnlyList<double> probabilities, int observedCategory)
    {
        if (observedCategory < 0 || observedCategory >= probabilities.Count)
            throw new EnsembleException($"RPS: observed category {observedCategory} outside 0 … {probabilities.Count - 1}");
        double cp = 0, co = 0, sum = 0;
        for (int k = 0; k < probabilities.Count; k++)
        {
            cp += probabilities[k];
            co += k == observedCategory ? 1 : 0;
            sum += (cp - co) * (cp - co);
        }
        return sum;
    }
}
