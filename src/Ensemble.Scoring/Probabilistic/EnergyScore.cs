using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Probabilistic;

/// <summary>
/// Multivariate energy score (verification-metrics.md §7; scoringrules `es_ensemble` "nrg"/"fair"):
/// ES = (1/M) Σ‖x_i − y‖ − c Σ_i Σ_j ‖x_i − x_j‖ with c = 1/(2M²) (standard) or 1/(2M(M − 1)) (fair).
/// forecast [M, D, ...], truth [D, ...]; the Euclidean norm runs over D; result [...].
/// </summary>
public static class EnergyScore
{
    public static Tensor Compute(Tensor forecast, Tensor truth, CrpsEstimator estimator = CrpsEstimator.Fair)
    {
        Shapes.RequireEnsemble(forecast, truth, "energy score");
        if (truth.dim() < 1) throw new EnsembleException("energy score: truth needs a component dimension D");
        long m = forecast.shape[0];
        using var scope = NewDisposeScope();
        var x = forecast.to(ScalarType.Float64) - truth.to(ScalarType.Float64).unsqueeze(0);
        var skill = x.pow(2).sum(1L).sqrt().mean([0L]);
        // Pairs one member at a time keeps memory at O(M·D·points) instead of O(M²·D·points).
        var pairs = zeros_like(skill);
        for (long i = 0; i < m; i++)
        {
            using var xi = x.narrow(0, i, 1);
            using var dist = (x - xi).pow(2).sum(1L).sqrt().sum(0L);
            pairs.add_(dist);
        }
        Tensor es = estimator == CrpsEstimator.Standard
            ? skill - pairs / (2.0 * m * m)
            : m < 2 ? full_like(skill, double.NaN) : skill - pairs / (2.0 * m * (m - 1));
        return es.MoveToOuterDisposeScope();
    }
}
