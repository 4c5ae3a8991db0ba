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
        return world;
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
