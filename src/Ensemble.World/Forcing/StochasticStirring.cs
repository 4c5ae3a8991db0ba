using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Seeded stochastic stirring: a random vorticity forcing S (spectral, [lmax, mmax]) localised in degree
/// (lmin ≤ l ≤ lmax_s) and, through a grid mask, in mid-latitudes; AR(1) in time,
/// S_k = r·S_{k−1} + √(1−r²)·ξ_k with r = exp(−Δ/τ), S_0 = ξ_0 (stationary start), updated every Δ.
/// The innovation ξ_k comes from a torch.Generator seeded with a hash of (seed, k), so any update can be
/// regenerated: <see cref="StateAt"/> replays the recursion over a window long enough (r^W &lt; 1e−13) that
/// the result equals the sequential one to rounding.
/// <para><see cref="Branch"/> splits the stirring into M member realisations [M, lmax, mmax]: from then on member m's
/// innovations come from its own seed (the truth's seed reproduces the truth's forcing), as a forecast cannot know
/// the future forcing; this is what makes the world unpredictable beyond a few days (docs/world.md).</para>
/// </summary>
public sealed class StochasticStirring : IDisposable
{
    readonly ShallowWaterSolver _solver;
    readonly ForcingParameters _p;
    readonly ulong _seed;
    readonly Tensor _band;   // [lmax, mmax] real: 1 on stirred (l, m), m ≤ l, else 0
    readonly Tensor _mask;   // [nlat, 1] real latitude mask
    Tensor? _state;
    ulong[]? _memberSeeds;   // null: one realisation [lmax, mmax]; else [M, lmax, mmax] with member seeds

    public double R { get; }
    /// <summary>Number of updates replayed by <see cref="StateAt"/>.</summary>
    public long Window { get; }
    /// <summary>Index of the update <see cref="Current"/> belongs to (−1 before the first).</summary>
    public long Index { get; private set; } = -1;

    public StochasticStirring(ShallowWaterSolver solver, ForcingParameters parameters, long seed)
    {
        _solver = solver;
        _p = parameters;
        _seed = (ulong)seed;
        if (parameters.StirringLmax >= solver.LMax)
            throw new EnsembleException($"forcing.stirring_lmax ({parameters.StirringLmax}) must be below lmax ({solver.LMax})");
        R = Math.Exp(-parameters.StirringUpdateHours / 24.0 / parameters.StirringCorrelationDays);
        Window = Math.Max(1, (long)Math.Ceiling(Math.Log(1e-13) / Math.Log(R)));
        var band = new double[solver.LMax * solver.MMax];
        for (int l = parameters.StirringLmin; l <= parameters.StirringLmax; l++)
            for (int m = 0; m <= Math.Min(l, solver.MMax - 1); m++) band[l * solver.MMax + m] = 1.0;
        _band = torch.tensor(band, dtype: ScalarType.Float64).reshape(solver.LMax, solver.MMax).to(solver.DType, solver.Device);
        double c = parameters.StirringLatitude * Math.PI / 180, w = parameters.StirringLatitudeWidth * Math.PI / 180;
        var mask = solver.Latitudes.Select(p => Math.Exp(-Math.Pow((Math.Abs(p) - c) / w, 2))).ToArray();
        _mask = torch.tensor(mask, dtype: ScalarType.Float64).reshape(solver.NLat, 1).to(solver.DType, solver.Device);
    }

    /// <summary>The current forcing S (spectral vorticity tendency, 1/s²).</summary>
    public Tensor Current => _state ?? throw new InvalidOperationException("stirring not started: call Advance");

    /// <summary>Innovation ξ_k: band-limited Gaussian field, masked in latitude, with grid RMS = amplitude.</summary>
    public Tensor Innovation(long k)
    {
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator(Mix(_seed, (ulong)k), _solver.Device);
        var xi = torch.randn([_solver.LMax, _solver.MMax], dtype: _solver.ComplexDType, device: _solver.Device, generator: gen) * _band;
        var grid = _solver.Spec2Grid(xi) * _mask;
        var rms = _solver.GlobalMean(grid.pow(2)).sqrt();
        var scaled = grid * (_p.StirringAmplitude / rms);
        return _solver.Tril(_solver.Grid2Spec(scaled)).MoveToOuterDisposeScope();
    }

    /// <summary>Number of member realisations after <see cref="Branch"/>; 0 while the stirring is one shared realisation.</summary>
    public int Members => _memberSeeds?.Length ?? 0;

    /// <summary>
    /// Splits the current state S_Index into one realisation per seed ([M, lmax, mmax], all equal to S_Index now); later
    /// updates of member m draw ξ_k from <paramref name="memberSeeds"/>[m] (the config seed continues the truth).
    /// A branched stirring only moves forward (no replay).
    /// </summary>
    public void Branch(IReadOnlyList<long> memberSeeds)
    {
        if (memberSeeds.Count == 0) throw new ArgumentException("no member seeds", nameof(memberSeeds));
        if (_state is null) throw new InvalidOperationException("stirring not started: call Advance or Set before Branch");
        if (_memberSeeds is not null) throw new InvalidOperationException("stirring already branched");
        var b = _state.unsqueeze(0).expand(memberSeeds.Count, -1, -1).clone().detach();
        _state.Dispose();
        _state = b;
        _memberSeeds = memberSeeds.Select(x => (ulong)x).ToArray();
    }

    /// <summary>Innovations of all members at update k, [M, lmax, mmax] (each row as <see cref="Innovation"/> with that member's seed).</summary>
    Tensor MemberInnovations(long k)
    {
        using var scope = torch.NewDisposeScope();
        var draws = _memberSeeds!.Select(sd =>
        {
            using var gen = new Generator(Mix(sd, (ulong)k), _solver.Device);
            return torch.randn([_solver.LMax, _solver.MMax], dtype: _solver.ComplexDType, device: _solver.Device, generator: gen);
        }).ToArray();
        var xi = torch.stack(draws, 0) * _band;
        var grid = _solver.Spec2Grid(xi) * _mask;
        var rms = _solver.GlobalMean(grid.pow(2)).sqrt().reshape(-1, 1, 1);
        var scaled = grid * (_p.StirringAmplitude / rms);
        return _solver.Tril(_solver.Grid2Spec(scaled)).MoveToOuterDisposeScope();
    }

    /// <summary>Moves to update <paramref name="k"/> (k = Index + 1 steps the recursion, anything else replays).</summary>
    public void Advance(long k)
    {
        if (k == Index) return;
        if (_memberSeeds is not null)
        {
            if (k < Index) throw new InvalidOperationException($"a branched stirring only moves forward (at update {Index}, asked for {k})");
            while (Index < k)
            {
                using var xm = MemberInnovations(Index + 1);
                var nm = _state!.mul(Scalars.Of(R)).add(xm.mul(Scalars.Of(Math.Sqrt(1 - R * R))), Scalars.One).detach();
                _state!.Dispose();
                _state = nm;
                Index++;
            }
            return;
        }
        if (k == Index + 1 && _state is not null)
        {
            using var xi = Innovation(k);
            var next = _state.mul(Scalars.Of(R)).add(xi.mul(Scalars.Of(Math.Sqrt(1 - R * R))), Scalars.One).detach();
            _state.Dispose();
            _state = next;
            Index = k;
            return;
        }
        var s = StateAt(k);
        _state?.Dispose();
        _state = s;
        Index = k;
    }

    /// <summary>Sets the recursion to update <paramref name="k"/> with value <paramref name="value"/> [lmax, mmax] (a restart).</summary>
    public void Set(long k, Tensor value)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        if (value.dim() != 2 || value.shape[0] != _solver.LMax || value.shape[1] != _solver.MMax)
            throw new EnsembleException($"stirring state: expected [{_solver.LMax}, {_solver.MMax}], got [{string.Join(", ", value.shape)}]");
        var v = value.to(_solver.ComplexDType, _solver.Device).clone().detach();
        _memberSeeds = null;
        _state?.Dispose();
        _state = v;
        Index = k;
    }

    /// <summary>The current forcing, or null before the first update.</summary>
    public Tensor? CurrentOrNull => _state;

    /// <summary>S_k by replaying the recursion from max(0, k − Window).</summary>
    public Tensor StateAt(long k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k));
        long k0 = Math.Max(0, k - Window);
        var s = Innovation(k0);
        for (long j = k0 + 1; j <= k; j++)
        {
            using var xi = Innovation(j);
            var next = s.mul(Scalars.Of(R)).add(xi.mul(Scalars.Of(Math.Sqrt(1 - R * R))), Scalars.One).detach();
            s.Dispose();
            s = next;
        }
        return s;
    }

    /// <summary>SplitMix64 of the seed and update index: independent generator seeds per update.</summary>
    static ulong Mix(ulong seed, ulong k)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + k + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public void Dispose()
    {
        _state?.Dispose();
        _band.Dispose();
        _mask.Dispose();
    }
}
