using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>Error growth of a twin pair: lead time (days) and the area-weighted RMS difference of z and vo.</summary>
/// <param name="ControlDriftZ">RMS z difference between the control's first and last state (how far the flow itself moved).</param>
public sealed record TwinErrorCurve(double[] LeadDays, double[] ZRms, double[] VoRms, double ControlDriftZ);

/// <summary>
/// Predictability experiments: a control and a twin started from the same spun-up state, the twin's vorticity
/// perturbed by a relative amplitude (1e−6 in the acceptance runs), integrated together as a two-member batch
/// with the same stirring, and a climatological distance to compare the error against.
/// </summary>
public static class TwinExperiment
{
    /// <summary>Spins the world of <paramref name="config"/> up from the equilibrium for its spinup_days; returns the state and the model (clock at the end).</summary>
    public static (WorldModel Model, Tensor State) SpinUp(WorldConfig config)
    {
        var model = new WorldModel(config);
        var state = model.EquilibriumState();
        model.Restart(0);
        var next = model.Advance(state, config.SpinupSteps);
        state.Dispose();
        return (model, next);
    }

    /// <summary>A saved point of a climate run: the model clock, the state and the stirring (both owned by the caller).</summary>
    public sealed record Restart(long Step, int Output, Tensor State, Tensor? Stirring);

    /// <summary>
    /// The climate run after a spin-up (<see cref="SpinUp"/>): <paramref name="outputs"/> output intervals from
    /// <paramref name="state"/> (disposed), with AB3 restarted at every output as in the truth run (docs/world.md).
    /// Before output i a restart is saved when <paramref name="save"/>(i); after it <paramref name="observe"/>(i, state)
    /// sees the new state (borrowed). Returns the saved restarts in order.
    /// </summary>
    public static List<Restart> ClimateRun(WorldModel model, Tensor state, int outputs, Func<int, bool> save, Action<int, Tensor> observe,
        CancellationToken cancel = default)
    {
        var restarts = new List<Restart>();
        try
        {
            model.Restart(model.StepIndex);
            for (int i = 0; i < outputs; i++)
            {
                cancel.ThrowIfCancellationRequested();
                if (save(i)) restarts.Add(new Restart(model.StepIndex, i, state.clone(), model.StirringState?.clone()));
                var next = model.Advance(state, model.Config.StepsPerOutput);
                state.Dispose();
                state = next;
                model.Restart(model.StepIndex);
                observe(i, state);
            }
            return restarts;
        }
        catch
        {
            foreach (var r in restarts) { r.State.Dispose(); r.Stirring?.Dispose(); }
            throw;
        }
        finally
        {
            state.Dispose();
        }
    }

    /// <summary>Runs control and twin for <paramref name="days"/> days from <paramref name="state"/> at the model's clock, sampling every output interval.</summary>
    public static TwinErrorCurve Run(WorldModel model, Tensor state, double amplitude, long seed, double days)
    {
        var cfg = model.Config;
        var pair = PhysicsEnsemble.Perturb(model.Solver, state, [new MemberPerturbation(0, 0), new MemberPerturbation(amplitude, seed)]);
        model.Restart(model.StepIndex);
        int n = (int)Math.Round(days * 24 / cfg.OutputHours);
        var lead = new List<double>(); var z = new List<double>(); var vo = new List<double>();
        Tensor? z0 = null;
        double drift = 0;
        for (int i = 0; i <= n; i++)
        {
            if (i > 0)
            {
                model.Restart(model.StepIndex);   // as the truth run and the physics ensemble
                var next = model.Advance(pair, cfg.StepsPerOutput);
                pair.Dispose();
                pair = next;
            }
            using var scope = torch.NewDisposeScope();
            var g = WorldChannels.ToGrid(model.Solver, pair);
            lead.Add(i * cfg.OutputHours / 24.0);
            z.Add(WorldDiagnostics.RmsDifference(model.Solver, g[0, 0], g[1, 0]).item<double>());
            vo.Add(WorldDiagnostics.RmsDifference(model.Solver, g[0, 3], g[1, 3]).item<double>());
            if (i == 0) z0 = g[0, 0].clone().MoveToOuterDisposeScope();
            if (i == n) drift = WorldDiagnostics.RmsDifference(model.Solver, g[0, 0], z0!).item<double>();
        }
        pair.Dispose();
        z0?.Dispose();
        return new TwinErrorCurve([.. lead], [.. z], [.. vo], drift);
    }

    /// <summary>
    /// Climatological distance: RMS difference of z and vo between states <paramref name="separationDays"/> apart along
    /// one trajectory (independent draws from the climate), averaged over <paramref name="pairs"/> pairs; advances the model.
    /// </summary>
    public static (double Z, double Vo) ClimatologicalDistance(WorldModel model, Tensor state, int pairs, double separationDays)
    {
        var cfg = model.Config;
        long sep = (long)Math.Round(separationDays * 86400 / cfg.Dt);
        double zs = 0, vs = 0;
        var s = state.alias();
        for (int p = 0; p < pairs; p++)
        {
            var next = model.Advance(s, sep);
            using (var scope = torch.NewDisposeScope())
            {
                var a = WorldChannels.ToGrid(model.Solver, s);
                var b = WorldChannels.ToGrid(model.Solver, next);
                zs += WorldDiagnostics.RmsDifference(model.Solver, a[0], b[0]).pow(2).item<double>();
                vs += WorldDiagnostics.RmsDifference(model.Solver, a[3], b[3]).pow(2).item<double>();
            }
            s.Dispose();
            s = next;
        }
        s.Dispose();
        return (Math.Sqrt(zs / pairs), Math.Sqrt(vs / pairs));
    }

    /// <summary>First lead (days) at which <paramref name="error"/> reaches <paramref name="fraction"/> of <paramref name="distance"/>; NaN if never.</summary>
    public static double TimeToReach(TwinErrorCurve curve, double[] error, double distance, double fraction)
    {
        for (int i = 0; i < error.Length; i++) if (error[i] >= fraction * distance) return curve.LeadDays[i];
        return double.NaN;
    }
}
