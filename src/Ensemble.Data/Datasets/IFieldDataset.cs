using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Data.Datasets;

/// <summary>
/// Gridded fields indexed by time: what training, initial conditions and analyses are read from,
/// whatever the source (Makani HDF5, netCDF, zarr, the built-in world, synthetic data).
/// </summary>
public interface IFieldDataset
{
    /// <summary>Channel names in tensor order (e.g. z500, t850, u10m).</summary>
    IReadOnlyList<string> Channels { get; }
    int NLat { get; }
    int NLon { get; }
    /// <summary>Number of time indices.</summary>
    int Count { get; }
    /// <summary>Spacing of consecutive indices (6 h for the model's step).</summary>
    TimeSpan Step { get; }
    /// <summary>Contiguous runs of indices (start, length); sequences never cross a run boundary.</summary>
    IReadOnlyList<(int Start, int Length)> Segments { get; }
    DateTime TimeOf(int index);
    /// <summary>Fields at one time, [C, lat, lon] float32 on the CPU, physical units.</summary>
    Tensor Get(int index);
}

public static class FieldDatasetExtensions
{
    /// <summary>Every index i such that i, i+1, …, i+steps lie in one segment.</summary>
    public static List<int> SequenceStarts(this IFieldDataset data, int steps)
    {
        var starts = new List<int>();
        foreach (var (start, length) in data.Segments)
            for (int i = start; i + steps < start + length; i++)
                starts.Add(i);
        return starts;
    }

    /// <summary>Per-channel mean and standard deviation over the given indices (float64 accumulation).</summary>
    public static ChannelNormalization ComputeNormalization(this IFieldDataset data, IEnumerable<int> indices)
    {
        int c = data.Channels.Count;
        var sum = new double[c];
        var sumSq = new double[c];
        long n = 0;
        foreach (int i in indices)
        {
            using var scope = torch.NewDisposeScope();
            var x = data.Get(i).to(ScalarType.Float64).reshape(c, -1);
            var s = x.sum(1).data<double>().ToArray();
            var s2 = x.mul(x).sum(1).data<double>().ToArray();
            for (int k = 0; k < c; k++) { sum[k] += s[k]; sumSq[k] += s2[k]; }
            n += x.shape[1];
        }
        if (n == 0) throw new Core.EnsembleException("cannot compute normalisation statistics from an empty dataset");
        var mean = sum.Select(s => s / n).ToArray();
        var std = sumSq.Select((s2, k) => Math.Sqrt(Math.Max(s2 / n - mean[k] * mean[k], 0))).ToArray();
        return new ChannelNormalization(data.Channels.ToArray(), mean, std);
    }
}

/// <summary>z-score normalisation per channel, as makani's global_means/global_stds (1, C, 1, 1).</summary>
public sealed record ChannelNormalization(string[] Channels, double[] Means, double[] Stds)
{
    /// <summary>(x − μ)/σ for x [..., C, lat, lon]; σ = 0 channels are left centred only.</summary>
    public Tensor Normalize(Tensor x)
    {
        var (mu, sigma) = Broadcast(x);
        return x.sub(mu).div(sigma);
    }

    public Tensor Denormalize(Tensor x)
    {
        var (mu, sigma) = Broadcast(x);
        return x.mul(sigma).add(mu);
    }

    (Tensor Mu, Tensor Sigma) Broadcast(Tensor x)
    {
        if (x.dim() < 3 || x.shape[^3] != Channels.Length)
            throw new Core.EnsembleException($"normalisation has {Channels.Length} channels, tensor shape is [{string.Join(", ", x.shape)}]");
        var mu = torch.tensor(Means, dtype: x.dtype, device: x.device).reshape(-1, 1, 1);
        var sigma = torch.tensor(Stds.Select(s => s > 0 ? s : 1.0).ToArray(), dtype: x.dtype, device: x.device).reshape(-1, 1, 1);
        return (mu, sigma);
    }
}
