using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.Npy;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>What <see cref="WorldEnsembleRun.Execute"/> runs: the physics baseline ensemble from a truth folder.</summary>
/// <param name="Config">The world (must have the truth's physics, clock and seed; only <c>days</c> may differ).</param>
/// <param name="TruthDirectory">Output of <c>ensemble world simulate</c> (restart/, stats/).</param>
/// <param name="InitTimes">Initial times (output times of the truth).</param>
/// <param name="Members">Ensemble size M.</param>
/// <param name="Steps">Output intervals (output_hours each) after the initial time; leads 0 … Steps.</param>
/// <param name="OutputPath">Ensemble output store (zarr v2 folder).</param>
/// <param name="Amplitude">Perturbation RMS as a fraction of the truth's climate std of vorticity (stats/global_stds.npy).</param>
/// <param name="Seed">Campaign seed; member m at time t uses Seeds.Derive(Seed, ticks(t), m).</param>
/// <param name="Control">Member 0 is the unperturbed control with the truth's stirring (it reproduces the truth).</param>
/// <param name="StochasticForcing">
/// Each (non-control) member sees its own stirring after the initial time: the AR(1) continues from the truth's stirring
/// state at t0 with innovations seeded by <see cref="WorldEnsembleRun.StirringSeed"/> (the future forcing is unknown to a
/// forecast). False: all members see the truth's stirring (initial-state uncertainty only).
/// </param>
public sealed record WorldEnsembleOptions(WorldConfig Config, string TruthDirectory, IReadOnlyList<DateTime> InitTimes, int Members,
    int Steps, string OutputPath, double Amplitude = 0.05, long Seed = 0, bool Control = false, bool StochasticForcing = true);

/// <summary>
/// The physics baseline ensemble (the role IFS ENS plays for the ML ensembles): for each initial time, M members
/// start from the truth's exact restart state, each with its vorticity perturbed by a seeded spherical Gaussian field
/// (white in degree 1 … lmax−1, unit grid RMS, <see cref="PhysicsEnsemble.UnitNoise"/>) of RMS amplitude × the
/// climate std of vo; they run as one batch, each (except a control) under its own future stirring by default, and every 6-hourly lead is written to the
/// ensemble output store (dims ensemble, time, lead_time, lat, lon).
/// </summary>
public static class WorldEnsembleRun
{
    public const string PerturbationName = "spherical-noise-vorticity";

    /// <summary>Runs everything; reports (initial time index, lead) after each written lead.</summary>
    public static EnsembleLayout Execute(WorldEnsembleOptions o, IProgress<(int Time, int Lead)>? progress = null, CancellationToken cancel = default)
    {
        if (o.Members < 1) throw new EnsembleException($"world ensemble: --members must be ≥ 1, got {o.Members}");
        if (o.Steps < 0) throw new EnsembleException($"world ensemble: --steps must be ≥ 0, got {o.Steps}");
        if (o.InitTimes.Count == 0) throw new EnsembleException("world ensemble: no initial times");
        if (!(o.Amplitude >= 0)) throw new EnsembleException($"world ensemble: amplitude must be ≥ 0, got {o.Amplitude}");
        var cfg = o.Config.Validate();
        CheckSameWorld(cfg, o.TruthDirectory);
        double voStd = ClimateStd(o.TruthDirectory, "vo");

        var grid = new Ensemble.Spherical.SphericalGrid(cfg.GridType, cfg.Nlat, cfg.Nlon);
        var infos = Enumerable.Range(0, o.Members).Select(m => o.Control && m == 0
            ? new EnsembleMemberInfo(0, "world-physics", "none", 0, 0, 0)
            : new EnsembleMemberInfo(0, "world-physics", PerturbationName, m, 1, o.Seed)).ToArray();
        var layout = new EnsembleLayout(WorldChannels.Names, WorldChannels.All.ToDictionary(c => c.Name, c => c.Units), o.InitTimes,
            Enumerable.Range(0, o.Steps + 1).Select(i => i * cfg.OutputHours).ToArray(), o.Members, grid.LatitudesDeg(), grid.LongitudesDeg(), infos,
            new Dictionary<string, string>
            {
                ["source"] = "ensemble world ensemble: physics baseline of the built-in shallow-water world",
                ["truth"] = Path.GetFullPath(o.TruthDirectory),
                ["perturbation"] = $"{PerturbationName}: vo += {o.Amplitude} * climate_std(vo) [{voStd:E4} s-1] * unit-RMS Gaussian field white in degree 1..lmax-1, seed Seeds.Derive(seed, ticks(init_time), member)",
                ["stirring"] = o.StochasticForcing
                    ? "per member: AR(1) continued from the truth's stirring at init_time, innovations seeded by Seeds.Derive(seed, ticks(init_time), member, Seeds.Of(\"stirring\"))" + (o.Control ? "; member 0 (control): the truth's stirring" : "")
                    : "the truth's stirring (all members)",
                ["seed"] = o.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        using var writer = EnsembleStore.Create(o.OutputPath, layout);
        var memberIds = Enumerable.Range(0, o.Members).ToArray();
        for (int ti = 0; ti < o.InitTimes.Count; ti++)
        {
            var t = DateTime.SpecifyKind(o.InitTimes[ti], DateTimeKind.Utc);
            using var restart = WorldRestartFile.Read(o.TruthDirectory, t, cfg.OutputHours, cfg.Lmax, cfg.Mmax);
            var members = memberIds.Select(m => o.Control && m == 0
                ? new MemberPerturbation(0, 0)
                : new MemberPerturbation(o.Amplitude, MemberSeed(o.Seed, t, m), o.StochasticForcing ? StirringSeed(o.Seed, t, m) : null)).ToArray();
            int timeIndex = ti;
            PhysicsEnsemble.RunFromRestart(cfg, restart, t, members, o.Steps, (lead, _, fields) =>
            {
                writer.Write(memberIds, timeIndex, lead, fields);
                progress?.Report((timeIndex, lead));
            }, voStd, cancel);
        }
        return layout;
    }

    /// <summary>The perturbation seed of member <paramref name="member"/> at <paramref name="initTime"/>.</summary>
    public static long MemberSeed(long seed, DateTime initTime, int member) => Seeds.Derive(seed, Seeds.Of(initTime), member);

    /// <summary>The stirring seed of member <paramref name="member"/> at <paramref name="initTime"/> (stochastic forcing).</summary>
    public static long StirringSeed(long seed, DateTime initTime, int member) => Seeds.Derive(seed, Seeds.Of(initTime), member, StirringTag);

    static readonly long StirringTag = Seeds.Of("stirring");

    /// <summary>The truth's climate std of a channel from DIR/stats/global_stds.npy.</summary>
    public static double ClimateStd(string truthDirectory, string channel)
    {
        string path = Path.Combine(truthDirectory, "stats", "global_stds.npy");
        if (!File.Exists(path)) throw new EnsembleException($"{path}: missing (the truth folder must be written by 'ensemble world simulate')");
        var stds = NpyFile.Read(path).ToDoubles();
        int c = WorldChannels.IndexOf(channel);
        if (stds.Length != WorldChannels.Count) throw new EnsembleException($"{path}: {stds.Length} channels, expected {WorldChannels.Count} ({string.Join(", ", WorldChannels.Names)})");
        return stds[c];
    }

    /// <summary>The config must be the truth's world (same physics, clock origin and seed); only days may differ.</summary>
    public static void CheckSameWorld(WorldConfig config, string truthDirectory)
    {
        string path = WorldRestartFile.ConfigPath(truthDirectory);
        if (!File.Exists(path)) throw new EnsembleException($"{path}: missing (the truth folder must be written by 'ensemble world simulate')");
        var truth = WorldConfig.Load(path);
        var a = config.Clone();
        a.Days = truth.Days;
        if (a.ToYaml() != truth.ToYaml())
            throw new EnsembleException($"{path}: the truth was simulated with a different world (physics, grid, clock or seed) than the given config");
    }
}
