using System.CommandLine;
using Ensemble.Core;
using Ensemble.Data;
using Ensemble.Scoring.Climate;
using Ensemble.Scoring.Pipeline;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble climate build`: the M-climate (101 percentiles per point, lead and day-of-year window) from our own hindcasts.</summary>
public static class ClimateCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var hindcasts = new Option<string[]>("--hindcast", "-f") { Description = "Hindcast ensemble(s): our zarr/netCDF-4 output layout or GRIB (repeat or list several)", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "M-climate file (.npz)", Required = true };
        var half = new Option<int>("--window-days") { Description = "Half width of the day-of-year window of initial dates (days)", DefaultValueFactory = _ => 15 };
        var step = new Option<int>("--step-days") { Description = "Spacing of the window centres (days of the year, from day 1)", DefaultValueFactory = _ => 7 };
        var build = new Command("build", "Build an M-climate from hindcasts over configurable dates: 101 percentiles per grid point, lead time and day-of-year window")
        {
            hindcasts, output, half, step,
        };
        build.SetAction(parse => wrap(parse, ctx => Build(ctx, ctx.Get(hindcasts), ctx.Get(output).FullName, ctx.Get(half), ctx.Get(step))));
        return new Command("climate", "Model climate (M-climate) for the EFI") { build };
    }

    public static int Build(CommandContext ctx, string[] paths, string output, int halfWidth, int stepDays)
    {
        if (!output.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            throw new EnsembleException($"--output {output}: expected a .npz file");
        var sets = new List<ForecastSet>();
        try
        {
            foreach (var p in paths)
                sets.Add(File.Exists(p) && FileFormats.Detect(p) == FileFormat.Grib ? ForecastReader.FromGrib([p]) : ForecastReader.Open(p));
            var progress = new Progress<string>(m => ctx.Log.Debug("{Message}", m));
            var clim = ModelClimateFile.Build(sets, output, new ClimateBuildOptions { WindowHalfWidthDays = halfWidth, StepDays = stepDays }, progress);
            foreach (var v in clim.Variables)
                ctx.Out.WriteLine($"{v}: {clim.CentreDays(v).Count} window(s) centred on day(s) {string.Join(", ", clim.CentreDays(v))}, leads {string.Join(", ", clim.LeadHours)} h");
            ctx.Log.Information("Wrote the M-climate to {Output}", output);
            return EnsembleCli.Ok;
        }
        finally
        {
            foreach (var s in sets) s.Dispose();
        }
    }
}
