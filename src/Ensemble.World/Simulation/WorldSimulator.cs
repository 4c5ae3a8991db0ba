using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>Progress of a world run: simulated time reached and snapshots written.</summary>
public readonly record struct WorldProgress(string Phase, DateTime ModelTime, int Written, int Total);

/// <summary>
/// Runs the world of a <see cref="WorldConfig"/>: starts from the balanced equilibrium jets at the clock origin,
/// spins up for spinup_days, then writes <see cref="WorldConfig.OutputCount"/> snapshots [C, nlat, nlon] (float32)
/// every output_hours from start. Same config and seed give bit-identical output on the CPU. The Adams–Bashforth
/// history is restarted at every output time, so the spectral state and stirring of an output (written to an
/// <see cref="IWorldRestartSink"/>) continue the truth exactly (<see cref="PhysicsEnsemble"/>).
/// </summary>
public static class WorldSimulator
{
    public static void Run(WorldConfig config, IWorldSink sink, IProgress<WorldProgress>? progress = null, CancellationToken cancel = default)
    {
        config.Validate();
        using var model = new WorldModel(config);
        var grid = new Ensemble.Spherical.SphericalGrid(config.GridType, config.Nlat, config.Nlon);
        var meta = new WorldMetadata(WorldChannels.All, grid.LatitudesDeg(), grid.LongitudesDeg(), config.StartTime,
            TimeSpan.FromHours(config.OutputHours), config.OutputCount, config);
        sink.Begin(meta);

        var state = model.EquilibriumState();
        model.Restart(0);
        long spin = config.SpinupSteps;
        long chunk = config.StepsPerOutput * 4L;
        for (long done = 0; done < spin; done += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            var next = model.Advance(state, Math.Min(chunk, spin - done));
            state.Dispose();
            state = next;
            progress?.Report(new WorldProgress("spin-up", model.TimeOf(model.StepIndex), 0, config.OutputCount));
        }

        for (int i = 0; i < config.OutputCount; i++)
        {
            cancel.ThrowIfCancellationRequested();
            if (i > 0)
            {
                var next = model.Advance(state, config.StepsPerOutput);
                state.Dispose();
                state = next;
            }
            var time = model.TimeOf(model.StepIndex);
            using (var snap = PhysicsEnsemble.Snapshot(model.Solver, state))
                sink.Write(time, snap);
            (sink as IWorldRestartSink)?.WriteRestart(time, state, model.StirringState);
            model.Restart(model.StepIndex);
            progress?.Report(new WorldProgress("output", model.TimeOf(model.StepIndex), i + 1, config.OutputCount));
        }
        state.Dispose();
        sink.Complete();
    }
}
