using System.CommandLine;
using Ensemble.Data.Conversion;
using Ensemble.Scoring.Pipeline;

namespace Ensemble.Cli.Commands;

/// <summary>
/// `ensemble convert`: GRIB, netCDF, zarr or Makani HDF5 input to the ensemble output layout (zarr or netCDF-4).
/// The converter lives in Ensemble.Data; GRIB names come from the scoring side's GribVariableNames so converted and
/// scored GRIB use the same variable names.
/// </summary>
public static class ConvertCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var inputs = new Argument<string[]>("inputs") { Description = "GRIB files, netCDF files, zarr stores or Makani folders/year files (merged: union of times and lead times)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--output", "-o") { Description = "Output: *.zarr (zarr v2 folder) or *.nc (netCDF-4); must not exist", Required = true };
        var variables = new Option<string[]>("--variables", "-v") { Description = "Variables to keep, in this order (comma-separated or repeated; default: all)", AllowMultipleArgumentsPerToken = true };
        var model = new Option<string?>("--model") { Description = "Model name recorded in the store (default: the first input's name)" };
        var cmd = new Command("convert", "Convert forecasts/analyses to the ensemble layout (ensemble, time, lead_time, lat, lon), keeping members, levels, steps and CF units")
            { inputs, output, variables, model };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Parse.GetValue(inputs)!, ctx.Get(output), ctx.Parse.GetValue(variables), ctx.Parse.GetValue(model))));
        return cmd;
    }

    public static int Run(CommandContext ctx, IReadOnlyList<string> inputs, string output, IReadOnlyList<string>? variables, string? model)
    {
        var selected = variables?.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var converter = new EnsembleConverter(GribVariableNames.Of);
        var r = converter.Convert(inputs, output, new ConversionOptions(selected is { Count: > 0 } ? selected : null, model));
        var l = r.Layout;
        ctx.Log.Information("{Output} ({Format}): {Variables} variable(s) [{Names}], {Members} member(s), {Times} initial time(s), {Leads} lead time(s), {Nlat}×{Nlon} grid; {Slots} field sets written",
            r.Output, r.Format, l.Variables.Count, string.Join(", ", l.Variables.Take(12)) + (l.Variables.Count > 12 ? ", …" : ""),
            l.Members, l.Times.Count, l.LeadTimeHours.Count, l.Nlat, l.Nlon, r.SlotsWritten);
        return EnsembleCli.Ok;
    }
}
