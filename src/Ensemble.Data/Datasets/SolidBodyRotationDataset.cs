using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Data.Datasets;

/// <summary>
/// Synthetic, exactly learnable dynamics on an equiangular grid: smooth random fields that rotate
/// eastward about the polar axis, channel c by (c+1) grid columns per step. Used to prove that
/// training learns and to test the training loop without real data. Each segment is one trajectory
/// from its own random initial state (seeded by (seed, segment)).
/// </summary>
public sealed class SolidBodyRotationDataset : IFieldDataset
{
    readonly int _trajectories, _length, _seed, _degree;
    readonly Dictionary<int, Tensor> _initial = new();

    public SolidBodyRotationDataset(int nlat, int nlon, int channels, int trajectories, int trajectoryLength, int seed, int degree = 6)
    {
        if (nlat < 3 || nlon < 4 || channels < 1 || trajectories < 1 || trajectoryLength < 2)
            throw new Core.EnsembleException("solid-body rotation dataset needs nlat ≥ 3, nlon ≥ 4, ≥ 1 channel, ≥ 1 trajectory of ≥ 2 steps");
        NLat = nlat; NLon = nlon;
        Channels = Enumerable.Range(0, channels).Select(c => $"f{c}").ToArray();
        _trajectories = trajectories; _length = trajectoryLength; _seed = seed; _degree = degree;
        Segments = Enumerable.Range(0, trajectories).Select(t => (t * trajectoryLength, trajectoryLength)).ToArray();
    }

    public IReadOnlyList<string> Channels { get; }
    public int NLat { get; }
    public int NLon { get; }
    public int Count => _trajectories * _length;
    public TimeSpan Step => TimeSpan.FromHours(6);
    public IReadOnlyList<(int Start, int Length)> Segments { get; }
    public DateTime TimeOf(int index) => new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc) + index * Step;

    public Tensor Get(int index)
    {
        if (index < 0 || index >= Count) throw new ArgumentOutOfRangeException(nameof(index));
        int trajectory = index / _length, t = index % _length;
        var x0 = Initial(trajectory);
        var shifted = new Tensor[Channels.Count];
        for (int c = 0; c < Channels.Count; c++)
            shifted[c] = x0[c].roll((long)(c + 1) * t, 1);
        return torch.stack(shifted);
    }

    Tensor Initial(int trajectory)
    {
        if (_initial.TryGetValue(trajectory, out var cached)) return cached;
        // Smooth fields: Σ a·sin(θ)^m·cos(θ)^k·cos(mλ + φ), regular at the poles for m > 0.
        var rng = Core.Seeds.Random(_seed, trajectory, Core.Seeds.Of("solid-body-rotation"));
        var field = new float[Channels.Count * NLat * NLon];
        for (int c = 0; c < Channels.Count; c++)
        {
            var terms = new List<(int M, int K, double A, double Phi)>();
            for (int m = 0; m <= _degree; m++)
                for (int k = 0; k + m <= _degree; k++)
                    terms.Add((m, k, Gaussian(rng) / (1 + m + k), rng.NextDouble() * 2 * Math.PI));
            for (int i = 0; i < NLat; i++)
            {
                double theta = Math.PI * i / (NLat - 1), s = Math.Sin(theta), co = Math.Cos(theta);
                for (int j = 0; j < NLon; j++)
                {
                    double lambda = 2 * Math.PI * j / NLon, v = 0;
                    foreach (var (m, k, a, phi) in terms)
                        v += a * Math.Pow(s, m) * Math.Pow(co, k) * Math.Cos(m * lambda + phi);
                    field[(c * NLat + i) * NLon + j] = (float)v;
                }
            }
        }
        var x = torch.tensor(field, [Channels.Count, NLat, NLon]).clone();
        x = x.DetachFromDisposeScope();
        _initial[trajectory] = x;
        return x;
    }

    static double Gaussian(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
