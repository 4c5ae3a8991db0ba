using System.CommandLine;
using Ensemble.Core;
using Ensemble.World;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble world ...`: the built-in shallow-water world (truth and training data).</summary>
public static class WorldCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var world = new Command("world", "The built-in forced shallow-water atmosphere: truth, training data and the physics baseline");
        var config = new Option<FileInfo>("--config", "-c") { Description = "World YAML (e.g. configs/world.yaml)", Required = true };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Output folder in the Makani layout (train/, valid/ YYYY.h5, data.json, stats/)", Required = true };
        var validFrom = new Option<int?>("--validation-from-year") { Description = "Years from this one on go to valid/ (default: the last simulated year)" };
        var simulate = new Command("simulate", "Simulate the world and write 6-hourly truth in the Makani HDF5 layout") { config, output, validFrom };
        simulate.SetAction(parse => wrap(parse, ctx => Simulate(ctx, ctx.Get(config).FullName, ctx.Get(output).FullName, ctx.Parse.GetValue(validFrom))));
        world.Subcommands.Add(simulate);
        world.Subcommands.Add(CreateEnsemble(wrap));
        return world;
    }

    static Command CreateEnsemble(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var config = new Option<FileInfo?>("--config", "-c") { Description = "World YAML (default: the truth's restart/world.yaml); must be the truth's world" };
        var truth = new Option<DirectoryInfo>("--truth") { Description = "Truth folder written by 'ensemble world simulate'", Required = true };
        var times = new Option<string[]>("--init-times") { Description = "Initial times (ISO 8601, UTC; comma-separated or repeated), output times of the truth", Required = true, AllowMultipleArgumentsPerToken = true };
        var members = new Option<int>("--members", "-m") { Description = "Ensemble size", Required = true };
        var steps = new Option<int>("--steps", "-n") { Description = "Output intervals after the initial time (leads 0 … steps · output_hours)", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Ensemble output store (zarr v2 folder, dims ensemble, time, lead_time, lat, lon)", Required = true };
        var amplitude = new Option<double>("--amplitude") { Description = "Perturbation RMS as a fraction of the truth's climate std of vorticity", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<long>("--seed") { Description = "Seed; member m at time t uses Seeds.Derive(seed, t, m)", DefaultValueFactory = _ => 0 };
        var control = new Option<bool>("--control") { Description = "Member 0 is the unperturbed control with the truth's stirring (it reproduces the truth)" };
        var sameStirring = new Option<bool>("--same-stirring") { Description = "All members see the truth's stirring (default: each member its own future stirring, continued from the truth's at the initial time)" };
        var cmd = new Command("ensemble", "Run the physics baseline ensemble (perturbed truth states) into the ensemble output format")
            { config, truth, times, members, steps, output, amplitude, seed, control, sameStirring };
        cmd.SetAction(parse => wrap(parse, ctx => Ensemble(ctx, ctx.Parse.GetValue(config)?.FullName, ctx.Get(truth).FullName,
            ParseTimes(ctx.Get(times)), ctx.Get(members), ctx.Get(steps), ctx.Get(output).FullName, ctx.Parse.GetValue(amplitude),
            ctx.Parse.GetValue(seed), ctx.Parse.GetValue(control), !ctx.Parse.GetValue(sameStirring))));
        return cmd;
    }

    /// <summary>Initial times from ISO 8601 strings (each may hold a comma-separated list); UTC unless an offset is given.</summary>
    public static IReadOnlyList<DateTime> ParseTimes(IEnumerable<string> values)
    {
        var list = new List<DateTime>();
        foreach (var part in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!DateTime.TryParse(part, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var t))
                throw new EnsembleException($"--init-times: '{part}' is not an ISO 8601 time");
            list.Add(DateTime.SpecifyKind(t, DateTimeKind.Utc));
        }
        if (list.Count == 0) throw new EnsembleException("--init-times: no times given");
        return list;
    }

    public static int Ensemble(CommandContext ctx, string? configPath, string truthDir, IReadOnlyList<DateTime> initTimes, int members, int steps,
        string outputPath, double amplitude, long seed, bool control, bool stochasticForcing = true)
    {
        var cfg = WorldConfig.Load(configPath ?? WorldRestartFile.ConfigPath(truthDir));
        ctx.Log.Information("Physics ensemble: {Members} members × {Times} initial times, {Steps} leads of {Hours} h, amplitude {Amplitude} × climate std of vo, {Stirring}, into {Output}",
            members, initTimes.Count, steps, cfg.OutputHours, amplitude, stochasticForcing ? "own future stirring per member" : "the truth's stirring", outputPath);
        var options = new WorldEnsembleOptions(cfg, truthDir, initTimes, members, steps, outputPath, amplitude, seed, control, stochasticForcing);
        ProgressReporter.Run(ctx.Err, "world ensemble", update =>
        {
            int total = initTimes.Count * (steps + 1), done = 0;
            var progress = new SyncProgress<(int Time, int Lead)>(p => update($"{initTimes[p.Time]:yyyy-MM-dd HH}Z +{p.Lead * cfg.OutputHours:F0} h", ++done, total));
            WorldEnsembleRun.Execute(options, progress);
            return 0;
        });
        ctx.Log.Information("Wrote {Output}", outputPath);
        return EnsembleCli.Ok;
    }

    public static int Simulate(CommandContext ctx, string configPath, string outputDir, int? validationFromYear)
    {
        var cfg = WorldConfig.Load(configPath);
        Directory.CreateDirectory(outputDir);
        ctx.Log.Information("Simulating the world ({Grid} {NLat}x{NLon}, T{Lmax}) for {Days} days after {Spinup} days of spin-up into {Output}",
            cfg.Grid, cfg.Nlat, cfg.Nlon, cfg.Lmax - 1, cfg.Days, cfg.SpinupDays, outputDir);
        var sink = new MakaniWorldSink(outputDir, validationFromYear);
        ProgressReporter.Run(ctx.Err, "world", update =>
        {
            var progress = new SyncProgress<WorldProgress>(p => update($"{p.Phase} {p.ModelTime:yyyy-MM-dd HH}Z", p.Written, p.Total));
            WorldSimulator.Run(cfg, sink, progress);
            return 0;
        });
        ctx.Log.Information("Wrote {Count} 6-hourly states to {Output}", cfg.OutputCount, outputDir);
        return EnsembleCli.Ok;
    }
}
