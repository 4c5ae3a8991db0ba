using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Scoring;

/// <summary>Shape checks shared by the metrics: wrong shapes are user errors, never native aborts.</summary>
internal static class Shapes
{
    /// <summary>forecast [M, ...] must match truth [...] after the leading ensemble dimension.</summary>
    public static void RequireEnsemble(Tensor forecast, Tensor truth, string what)
    {
        if (forecast.dim() < 1)
            throw new EnsembleException($"{what}: forecast needs a leading ensemble dimension, got a scalar");
        var tail = forecast.shape.Skip(1).ToArray();
        if (!tail.SequenceEqual(truth.shape))
            throw new EnsembleException(
                $"{what}: forecast [{string.Join(", ", forecast.shape)}] does not match truth [{string.Join(", ", truth.shape)}] after the ensemble dimension");
        if (forecast.shape[0] < 1)
            throw new EnsembleException($"{what}: the ensemble is empty");
    }

    public static void RequireSame(Tensor a, Tensor b, string what)
    {
        if (!a.shape.SequenceEqual(b.shape))
            throw new EnsembleException($"{what}: shapes [{string.Join(", ", a.shape)}] and [{string.Join(", ", b.shape)}] differ");
    }

    public static string Show(long[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>A [n] float64 tensor reshaped to broadcast along dimension 0 of a tensor of rank <paramref name="rank"/>.</summary>
    public static Tensor AlongFirst(Tensor v, long rank)
    {
        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[0] = v.shape[0];
        return v.reshape(shape);
    }
}
