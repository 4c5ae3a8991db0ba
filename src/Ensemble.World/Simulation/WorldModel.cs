using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// The forced shallow-water world of one <see cref="WorldConfig"/>: solver, forcing and a persistent AB3
/// integrator. States are spectral [..., 3, lmax, mmax] (leading dims = members, sharing the stirring).
/// Time is counted in solver steps from <see cref="WorldConfig.ClockOrigin"/>; the stirring update of step n is
/// ⌊n·dt / Δ_stir⌋, so any run that reaches the same step sees the same forcing.
/// </summary>
public sealed class WorldModel : IDisposable
{
    readonly AdamsBashforth3 _ab3;

    public WorldConfig Config { get; }
    public ShallowWaterSolver Solver { get; }
    public WorldForcing Forcing { get; }
    /// <summary>Steps since the clock origin of the next step to be taken.</summary>
    public long StepIndex { get; private set; }

    public WorldModel(WorldConfig config)
    {
        Config = config.Validate();
        Solver = new ShallowWaterSolver(config.Nlat, config.Nlon, config.Lmax, config.Mmax, config.Dt, config.GridType,
            config.Planet.ToConstants(), config.HyperdiffusionHours, config.ScalarType, Devices.Parse(config.Device));
        Forcing = new WorldForcing(Solver, config.Forcing, config.Seed);
        _ab3 = new AdamsBashforth3(Solver);
    }

    /// <summary>Model time of a step index.</summary>
    public DateTime TimeOf(long step) => Config.ClockOrigin + TimeSpan.FromSeconds(step * Config.Dt);

    /// <summary>Step index of a model time (must fall on a solver step).</summary>
    public long StepOf(DateTime time)
    {
        double s = (time - Config.ClockOrigin).TotalSeconds / Config.Dt;
        long n = (long)Math.Round(s);
        if (Math.Abs(s - n) > 1e-6 || n < 0)
            throw new EnsembleException($"world: time {time:O} is not a solver step after the clock origin {Config.ClockOrigin:O} (dt {Config.Dt} s)");
        return n;
    }

    /// <summary>The resting equilibrium: the balanced jets u_eq with Φ_eq, [3, lmax, mmax] (the spin-up start).</summary>
    public Tensor EquilibriumState()
    {
        using var scope = torch.NewDisposeScope();
        var u = Forcing.EquilibriumWind();
        var uv = torch.stack([u, torch.zeros_like(u)]);
        var vd = Solver.VrtDivSpec(uv);
        return Solver.Tril(torch.cat([Forcing.EquilibriumGeopotential.unsqueeze(0), vd], 0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Sets the clock to <paramref name="step"/> and forgets the AB3 history (next step is the Euler start), as for a
    /// state that did not come from the previous <see cref="Advance"/>.
    /// </summary>
    public void Restart(long step)
    {
        _ab3.Reset();
        StepIndex = step;
    }

    /// <summary>Index of the stirring update in force during step <paramref name="step"/>.</summary>
    public long StirringIndexOf(long step) => (long)Math.Floor(step * Config.Dt / (Config.Forcing.StirringUpdateHours * 3600.0) + 1e-9);

    /// <summary>
    /// Restarts at <paramref name="step"/> exactly as the truth run continued from there: AB3 history forgotten (the
    /// world restarts it at every output time) and the stirring set to <paramref name="stirring"/> [lmax, mmax], the
    /// value in force during the previous step (ignored at step 0 or without stirring).
    /// </summary>
    public void Restart(long step, Tensor? stirring)
    {
        Restart(step);
        if (step > 0 && Config.Forcing.StirringAmplitude > 0 && stirring is not null)
            Forcing.Stirring.Set(StirringIndexOf(step - 1), stirring);
    }

    /// <summary>
    /// Gives each member of the batch its own future stirring (<see cref="StochasticStirring.Branch"/>): all continue the
    /// AR(1) from the stirring in force now, member m then draws its innovations from <paramref name="memberSeeds"/>[m]
    /// (<see cref="WorldConfig.Seed"/> reproduces the truth's forcing). States passed to <see cref="Advance"/> must then be
    /// [M, 3, lmax, mmax]. No effect without stirring.
    /// </summary>
    public void BranchStirring(IReadOnlyList<long> memberSeeds)
    {
        if (Config.Forcing.StirringAmplitude <= 0) return;
        var st = Forcing.Stirring;
        if (st.CurrentOrNull is null) st.Advance(StepIndex > 0 ? StirringIndexOf(StepIndex - 1) : 0);
        st.Branch(memberSeeds);
    }

    /// <summary>The stirring in force (null before the first update or without stirring).</summary>
    public Tensor? StirringState => Config.Forcing.StirringAmplitude > 0 ? Forcing.Stirring.CurrentOrNull : null;

    /// <summary>Takes <paramref name="nsteps"/> forced steps from the current clock; returns the new state (input untouched).</summary>
    public Tensor Advance(Tensor uspec, long nsteps)
    {
        Solver.CheckState(uspec);
        int m = Forcing.Stirring.Members;
        if (m > 0 && Config.Forcing.StirringAmplitude > 0 && (uspec.dim() != 4 || uspec.shape[0] != m))
            throw new EnsembleException($"world: the stirring is branched into {m} members, the state must be [{m}, 3, lmax, mmax], got [{string.Join(", ", uspec.shape)}]");
        var u = uspec.alias();
        for (long n = 0; n < nsteps; n++)
        {
            if (Config.Forcing.StirringAmplitude > 0)
                Forcing.Stirring.Advance(StirringIndexOf(StepIndex));
            var next = _ab3.Step(u, Forcing.Tendency);
            u.Dispose();
            u = next;
            StepIndex++;
        }
        return u;
    }

    public void Dispose()
    {
        _ab3.Dispose();
        Forcing.Dispose();
        Solver.Dispose();
    }
}
