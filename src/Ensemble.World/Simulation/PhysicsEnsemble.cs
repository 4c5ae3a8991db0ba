using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Initial-state perturbation of one member: ζ' = amplitude · rms(ζ) · η, where η is a unit-RMS Gaussian field
/// with equal variance in every degree 1 ≤ l &lt; lmax (white in l), drawn from a torch.Generator seeded with
/// <paramref name="Seed"/>. Amplitude 0 gives the unperturbed control.
/// </summary>
public readonly record struct MemberPerturbation(double Amplitude, long Seed);

/// <summary>
/// The physics baseline ensemble: M members of the same (perfect) world started from one grid state, each with
/// its own perturbation, integrated together as a batch. Members share the truth's stirring (the stirring is a
/// function of model time), so their spread comes from initial-state uncertainty and chaos only.
/// </summary>
public static class PhysicsEnsemble
{
    /// <summary>
    /// Runs <paramref name="members"/> from <paramref name="initialGrid"/> [C, nlat, nlon] valid at <paramref name="time"/>
    /// for <paramref name="outputSteps"/> output intervals; calls <paramref name="onOutput"/>(lead index, valid time,
    /// float32 [M, C, nlat, nlon]) for lead 0 … outputSteps.
    /// </summary>
    public static void Run(WorldConfig config, Tensor initialGrid, DateTime time, IReadOnlyList<MemberPerturbation> members,
        int outputSteps, Action<int, DateTime, Tensor> onOutput, CancellationToken cancel = default)
    {
        if (members.Count == 0) throw new EnsembleException("physics ensemble: no members");
        if (outputSteps < 0) throw new EnsembleException($"physics ensemble: output steps must be ≥ 0, got {outputSteps}");
        using var model = new WorldModel(config);
        using var start = WorldChannels.FromGrid(model.Solver, initialGrid);
        var state = Perturb(model.Solver, start, members);
        model.Restart(model.StepOf(time));
        for (int lead = 0; lead <= outputSteps; lead++)
        {
            cancel.ThrowIfCancellationRequested();
            if (lead > 0)
            {
                var next = model.Advance(state, config.StepsPerOutput);
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
    public static Tensor Perturb(ShallowWaterSolver solver, Tensor uspec, IReadOnlyList<MemberPerturbation> members)
    {
        solver.CheckState(uspec);
        using var scope = torch.NewDisposeScope();
        var vort = solver.Spec2Grid(uspec.select(-3, 1));
        var rms = solver.GlobalMean(vort.pow(2)).sqrt();
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
