using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Initial-state perturbation of one member: ζ' = amplitude · rms(ζ) · η, where η is a unit-RMS Gaussian field
/// with equal variance in every degree 1 ≤ l &lt; lmax (white in l), drawn from a torch.Generator seeded with
/// <paramref name="Seed"/>. Amplitude 0 gives the unperturbed control. <paramref name="StirringSeed"/>: null = the
/// member sees the truth's stirring; otherwise its stirring after the initial time is its own AR(1) realisation
/// (continuing the truth's stirring state, innovations from this seed; <see cref="StochasticStirring.Branch"/>).
/// </summary>
public readonly record struct MemberPerturbation(double Amplitude, long Seed, long? StirringSeed = null);

/// <summary>
/// The physics baseline ensemble: M members of the same (perfect) world started from one grid state, each with
/// its own perturbation, integrated together as a batch. A member without a stirring seed sees the truth's stirring
/// (a function of model time); one with a stirring seed sees its own future stirring (stochastic forcing, the world's
/// analogue of stochastic physics), so its spread comes from initial-state uncertainty, chaos and the unknown forcing.
/// </summary>
public static class PhysicsEnsemble
{
    /// <summary>
    /// Runs <paramref name="members"/> from <paramref name="initialGrid"/> [C, nlat, nlon] valid at <paramref name="time"/>
    /// for <paramref name="outputSteps"/> output intervals; calls <paramref name="onOutput"/>(lead index, valid time,
    /// float32 [M, C, nlat, nlon]) for lead 0 … outputSteps. The stirring is replayed from the seed (equal to the
    /// truth's to rounding); use <see cref="RunFromRestart"/> to continue a truth run exactly.
    /// </summary>
    public static void Run(WorldConfig config, Tensor initialGrid, DateTime time, IReadOnlyList<MemberPerturbation> members,
        int outputSteps, Action<int, DateTime, Tensor> onOutput, CancellationToken cancel = default)
    {
        Check(members, outputSteps);
        using var model = new WorldModel(config);
        using var start = WorldChannels.FromGrid(model.Solver, initialGrid);
        var state = Perturb(model.Solver, start, members);
        model.Restart(model.StepOf(time));
        Branch(model, members);
        Integrate(model, state, outputSteps, onOutput, cancel);
    }

    /// <summary>
    /// Runs <paramref name="members"/> from a truth restart row <paramref name="restart"/> (complex [4, lmax, mmax] =
    /// Φ̂, ζ̂, δ̂ and the stirring in force, <see cref="WorldRestartFile.Read"/>) at <paramref name="time"/>: a member with
    /// amplitude 0 continues the truth run (to rounding of the batched transforms). With <paramref name="vorticityScale"/>
    /// (s⁻¹) a member's perturbation is amplitude · vorticityScale · η instead of amplitude · rms(ζ) · η.
    /// </summary>
    public static void RunFromRestart(WorldConfig config, Tensor restart, DateTime time, IReadOnlyList<MemberPerturbation> members,
        int outputSteps, Action<int, DateTime, Tensor> onOutput, double? vorticityScale = null, CancellationToken cancel = default)
    {
        Check(members, outputSteps);
        using var model = new WorldModel(config);
        if (restart.dim() != 3 || restart.shape[0] != 4 || restart.shape[1] != model.Solver.LMax || restart.shape[2] != model.Solver.MMax)
            throw new EnsembleException($"physics ensemble: restart state must be [4, {model.Solver.LMax}, {model.Solver.MMax}], got [{string.Join(", ", restart.shape)}]");
        using var r = restart.to(model.Solver.ComplexDType, model.Solver.Device);
        using var start = r.narrow(0, 0, 3).contiguous();
        using var stirring = r.select(0, 3).contiguous();
        var state = Perturb(model.Solver, start, members, vorticityScale);
        model.Restart(model.StepOf(time), stirring);
        Branch(model, members);
        Integrate(model, state, outputSteps, onOutput, cancel);
    }

    /// <summary>Per-member stirring when any member has a stirring seed (the others keep the truth's seed).</summary>
    internal static void Branch(WorldModel model, IReadOnlyList<MemberPerturbation> members)
    {
        if (members.Any(m => m.StirringSeed is not null))
            model.BranchStirring(members.Select(m => m.StirringSeed ?? model.Config.Seed).ToArray());
    }

    static void Check(IReadOnlyList<MemberPerturbation> members, int outputSteps)
    {
        if (members.Count == 0) throw new EnsembleException("physics ensemble: no members");
        if (outputSteps < 0) throw new EnsembleException($"physics ensemble: output steps must be ≥ 0, got {outputSteps}");
    }

    static void Integrate(WorldModel model, Tensor state, int outputSteps, Action<int, DateTime, Tensor> onOutput, CancellationToken cancel)
    {
        for (int lead = 0; lead <= outputSteps; lead++)
        {
            cancel.ThrowIfCancellationRequested();
            if (lead > 0)
            {
                // the truth restarts its AB3 history at every output time (WorldSimulator); so do the members
                model.Restart(model.StepIndex);
                var next = model.Advance(state, model.Config.StepsPerOutput);
                state.Dispose();
                state = next;
            }
            // The callback runs outside any dispose scope so that tensors it creates (e.g. clones it keeps) survive.
            using var grid = Snapshot(model.Solver, state);
            onOutput(lead, model.TimeOf(model.StepIndex), grid);
        }
        state.Dispose();
    }

    /// <summary>Grid channels of a state as a float32 CPU tensor [..., C, nlat, nlon].</summary>
    internal static Tensor Snapshot(ShallowWaterSolver solver, Tensor uspec)
    {
        using var scope = torch.NewDisposeScope();
        return WorldChannels.ToGrid(solver, uspec).to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Stacks M perturbed copies of a spectral state [3, lmax, mmax] → [M, 3, lmax, mmax].</summary>
    /// <remarks>The scale of η is <paramref name="vorticityScale"/> (s⁻¹) when given, else the state's rms(ζ).</remarks>
    public static Tensor Perturb(ShallowWaterSolver solver, Tensor uspec, IReadOnlyList<MemberPerturbation> members, double? vorticityScale = null)
    {
        solver.CheckState(uspec);
        using var scope = torch.NewDisposeScope();
        var vort = solver.Spec2Grid(uspec.select(-3, 1));
        var rms = vorticityScale is double vs ? torch.tensor(vs, dtype: solver.DType, device: solver.Device) : solver.GlobalMean(vort.pow(2)).sqrt();
        var copies = new List<Tensor>();
        foreach (var m in members)
        {
            var c = uspec.clone();
            if (m.Amplitude != 0)
            {
                var eta = UnitNoise(solver, m.Seed);
                var slot = c.select(-3, 1);
                slot.add_(eta * (rms * m.Amplitude));
            }
            copies.Add(c);
        }
        return torch.stack(copies, 0).MoveToOuterDisposeScope();
    }

    /// <summary>Spectral field [lmax, mmax] with equal power in each degree 1 … lmax−1 and unit grid RMS.</summary>
    public static Tensor UnitNoise(ShallowWaterSolver solver, long seed)
    {
        using var scope = torch.NewDisposeScope();
        using var gen = new Generator((ulong)seed, solver.Device);
        var xi = torch.randn([solver.LMax, solver.MMax], dtype: solver.ComplexDType, device: solver.Device, generator: gen);
        var w = new double[solver.LMax * solver.MMax];
        for (int l = 1; l < solver.LMax; l++)
            for (int m = 0; m <= Math.Min(l, solver.MMax - 1); m++) w[l * solver.MMax + m] = 1.0 / Math.Sqrt(2 * l + 1);
        var spec = xi * torch.tensor(w, dtype: ScalarType.Float64).reshape(solver.LMax, solver.MMax).to(solver.DType, solver.Device);
        var grid = solver.Spec2Grid(spec);
        var rms = solver.GlobalMean(grid.pow(2)).sqrt();
        return solver.Grid2Spec(grid / rms).MoveToOuterDisposeScope();
    }
}
