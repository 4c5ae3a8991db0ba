using Ensemble.Core;
using Ensemble.Models.Packages;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// HENS hemispheric-centred bred vectors (docs hens-ensembles §5; docs/algorithms/perturbations.md). With M the
/// checkpoint's 6-hour step in physical units, Δ its time step, S cycles and A the per-channel amplitudes:
/// <code>
/// δ ← A_seed ⊙ u                         u: independent stationary correlated spherical field per pair (seed channels only)
/// for k = 0 … S−1:
///     x  = analysis(t_k)                 control and all P perturbed states in ONE model call: M([x, x + δ₀, …, x + δ_{P−1}])
///     δ  ← M(x + δ) − M(x)
///     δ  ← δ · A[c] / HRMS(δ)[c, i]      hemispheric rescaling with the tropical blend (<see cref="HemisphericRms"/>)
/// </code>
/// <para>
/// Timing (<see cref="BreedingTiming"/>): the default is the earth2studio variant — t_k = t0 − (S − k)·Δ, the model
/// clock of each step is the analysis time, and the final δ is a difference of forecasts valid at t0, the time of the
/// analysis it is added to. It costs S·(P + 1) member-steps for P pairs (the control is shared), half the original's
/// per-member recomputation, and has no time mismatch. The original HENS timing (t_k = t0 − (S − 1 − k)·Δ, model clock
/// fixed at t0, final δ valid at t0 + Δ) is available as <c>timing: original</c> for reproducing the papers.
/// </para>
/// <para>
/// Every random number comes from the pair's seed, and the members of a batch never interact in the SFNO, so a pair
/// bred alone equals the same pair bred in a batch bit for bit (on CPU).
/// </para>
/// </summary>
public sealed class BredVectorPerturbation : PerturbationBase
{
    readonly double[] _seedAmplitudes;
    readonly int[] _seedChannels;

    public BredVectorPerturbation(IReadOnlyList<string> channelNames, int nlat, int nlon, IReadOnlyList<double> amplitudes,
        IReadOnlyList<int> seedChannels, NoiseConfig noise, int cycles, BreedingTiming timing, IReadOnlyList<int> nonNegativeChannels)
        : base(channelNames, nlat, nlon, nonNegativeChannels)
    {
        if (amplitudes.Count != channelNames.Count) throw new EnsembleException($"bred_vector: {amplitudes.Count} amplitudes for {channelNames.Count} channels");
        if (cycles < 1) throw new EnsembleException($"bred_vector: breeding_cycles must be ≥ 1, got {cycles}");
        if (seedChannels.Count == 0) throw new EnsembleException("bred_vector: no seed channel");
        SeedFields.CheckGrid(nlat, nlon, "bred_vector");
        Amplitudes = amplitudes.ToList();
        _seedChannels = seedChannels.ToArray();
        _seedAmplitudes = _seedChannels.Select(c => amplitudes[c]).ToArray();
        foreach (int c in _seedChannels)
            if (!(amplitudes[c] > 0)) throw new EnsembleException($"bred_vector: seed channel '{channelNames[c]}' has amplitude {amplitudes[c]}; the seed would be zero");
        Noise = noise;
        Cycles = cycles;
        Timing = timing;
    }

    public IReadOnlyList<double> Amplitudes { get; }
    public IReadOnlyList<int> SeedChannels => _seedChannels;
    public NoiseConfig Noise { get; }
    public int Cycles { get; }
    public BreedingTiming Timing { get; }

    public override string Name => "bred_vector";

    public override IReadOnlyDictionary<string, string> Attributes => new Dictionary<string, string>(base.Attributes)
    {
        ["perturbation_amplitudes"] = Format(Amplitudes),
        ["perturbation_seed_channels"] = string.Join(",", _seedChannels.Select(c => ChannelNames[c])),
        ["perturbation_breeding_cycles"] = Cycles.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["perturbation_timing"] = Timing == BreedingTiming.Earth2Studio
            ? "earth2studio: seed at t0-S*dt, cycles from analyses t0-S*dt..t0-dt, final perturbation valid at t0"
            : "original: seed at t0-(S-1)*dt, cycles from analyses t0-(S-1)*dt..t0 with model clock t0, final perturbation valid at t0+dt",
        ["perturbation_noise"] = $"length_scale={Noise.LengthScale} m, time_scale={Noise.TimeScaleHours} h, sigma={Noise.Sigma}, lmax={Noise.Lmax?.ToString() ?? "nlat"}",
    };

    /// <summary>Valid time of the analysis cycle <paramref name="k"/> starts from, and the model clock of its step.</summary>
    public (DateTime Analysis, DateTime Clock) CycleTimes(DateTime t0, TimeSpan step, int k) => Timing switch
    {
        BreedingTiming.Earth2Studio => (t0 - (Cycles - k) * step, t0 - (Cycles - k) * step),
        _ => (t0 - (Cycles - 1 - k) * step, t0),
    };

    /// <summary>The seed perturbation of one pair: A_seed ⊙ u on the seed channels, zero elsewhere, [C, H, W] float64.</summary>
    public Tensor Seed(long pairSeed)
    {
        using var scope = torch.NewDisposeScope();
        var u = SeedFields.Draw(pairSeed, _seedChannels.Length, NLat, NLon, Noise);
        var dx = torch.zeros([ChannelNames.Count, NLat, NLon], dtype: ScalarType.Float64);
        for (int k = 0; k < _seedChannels.Length; k++)
            dx.select(0, _seedChannels[k]).copy_(u[k] * _seedAmplitudes[k]);
        return dx.MoveToOuterDisposeScope();
    }

    protected override Tensor Compute(PerturbationRequest request)
    {
        var model = request.Model ?? throw new EnsembleException("bred_vector: the request has no model (the bred vector breeds with the checkpoint's Forecaster)");
        var analyses = request.Analyses ?? throw new EnsembleException("bred_vector: the request has no earlier analyses (the breeding cycle reads them)");
        CheckModel(model);
        var step = model.TimeStep;
        var device = request.Analysis.device;
        using var scope = torch.NewDisposeScope();
        var dx = torch.stack(request.PairSeeds.Select(Seed).ToList(), 0).to(device);   // [P, C, H, W]
        for (int k = 0; k < Cycles; k++)
        {
            var (when, clock) = CycleTimes(request.InitTime, step, k);
            var x = when == request.InitTime ? request.Analysis : analyses(when);
            CheckState(x, $"analysis at {when:yyyy-MM-ddTHH:mm:ss}");
            var x0 = x.to(ScalarType.Float64, device).unsqueeze(0);
            // One model call per cycle: the control (row 0) and every pair's perturbed state.
            var y = model.Step(torch.cat([x0, x0 + dx], 0), clock);
            var diff = y.narrow(0, 1, dx.shape[0]) - y.narrow(0, 0, 1);
            dx = HemisphericRms.Rescale(diff, Amplitudes);
        }
        return dx.MoveToOuterDisposeScope();
    }

    void CheckModel(Forecaster model)
    {
        var c = model.Config;
        if (!c.InChannelNames.SequenceEqual(ChannelNames) || !c.OutChannelNames.SequenceEqual(ChannelNames))
            throw new EnsembleException($"bred_vector: the model's channels ({string.Join(" ", c.InChannelNames)} → {string.Join(" ", c.OutChannelNames)}) are not the perturbation's ({string.Join(" ", ChannelNames)})");
        if (c.ImgShapeX != NLat || c.ImgShapeY != NLon)
            throw new EnsembleException($"bred_vector: the model grid {c.ImgShapeX}×{c.ImgShapeY} is not the perturbation grid {NLat}×{NLon}");
    }
}
