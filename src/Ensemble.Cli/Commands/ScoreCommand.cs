using System.CommandLine;
using Ensemble.Core;
using Ensemble.Data;
using Ensemble.Scoring.Climate;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Tables;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble score`: one scoring pipeline for our ensembles and for baselines (netCDF-4, zarr, GRIB).</summary>
public static class ScoreCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var forecast = new Option<string[]>("--forecast", "-f") { Description = "Forecast: our netCDF-4/zarr layout (ensemble, time, lead_time, lat, lon) or GRIB file(s) (IFS ENS style)", Required = true, AllowMultipleArgumentsPerToken = true };
        var truth = new Option<string[]>("--truth", "-t") { Description = "Truth: netCDF-4/zarr (time, lat, lon) per variable or GRIB analyses", AllowMultipleArgumentsPerToken = true };
        var baseline = new Option<string[]>("--baseline", "-b") { Description = "Baseline forecast(s) scored the same way (repeat for several)" };
        var model = new Option<string?>("--model") { Description = "Name of the forecast model in the table (default: the file's 'model' attribute or name)" };
        var metrics = new Option<string>("--metrics", "-m") { Description = $"Comma-separated: {string.Join(",", ScorePipeline.Metrics)}", DefaultValueFactory = _ => "crps,rmse,spread,ssr" };
        var weighting = new Option<string>("--weighting", "-w") { Description = "Latitude weighting: coslat (normalised to mean 1), cellarea or none", DefaultValueFactory = _ => "coslat" };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Score table (.parquet; the same table as .csv is written beside it)", Required = true };
        var climate = new Option<FileInfo?>("--climate") { Description = "M-climate .npz from 'ensemble climate build' (needed for efi)" };
        var percentile = new Option<double>("--event-percentile") { Description = "Truth percentile defining the extreme event of brier, twcrps, reliability and roc (>= 50: above, < 50: below)", DefaultValueFactory = _ => 95 };
        var seed = new Option<long>("--rank-seed") { Description = "Seed of the rank histogram's random tie break", DefaultValueFactory = _ => 0 };
        var extras = new Option<DirectoryInfo?>("--extras") { Description = "Folder for score maps (EFI of the first initial time per lead) used by 'ensemble report --extras'" };
        var cmd = new Command("score", "Score forecasts (and baselines) against truth: CRPS, RMSE, spread, spread-skill, rank histograms, spectra, EFI, event Brier/twCRPS/reliability/ROC → Parquet + CSV")
        {
            forecast, truth, baseline, model, metrics, weighting, output, climate, percentile, seed, extras,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(forecast), ctx.Parse.GetValue(truth), ctx.Parse.GetValue(baseline) ?? [],
            ctx.Parse.GetValue(model), ctx.Get(metrics), ctx.Get(weighting), ctx.Get(output).FullName,
            ctx.Parse.GetValue(climate)?.FullName, ctx.Get(percentile), ctx.Get(seed), ctx.Parse.GetValue(extras)?.FullName)));
        return cmd;
    }

    public static int Run(CommandContext ctx, string[] forecastPaths, string[]? truthPaths, string[] baselines, string? model,
        string metricList, string weightingName, string output) =>
        Run(ctx, forecastPaths, truthPaths, baselines, model, metricList, weightingName, output, null, 95, 0, null);

    public static int Run(CommandContext ctx, string[] forecastPaths, string[]? truthPaths, string[] baselines, string? model,
        string metricList, string weightingName, string output, string? climatePath, double eventPercentile, long rankSeed, string? extrasDir)
    {
        if (!output.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
            throw new EnsembleException($"--output {output}: expected a .parquet file (a .csv is written beside it)");
        var metrics = metricList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = metrics.Where(m => !ScorePipeline.Metrics.Contains(m)).ToList();
        if (unknown.Count > 0) throw new EnsembleException($"--metrics: unknown metric(s) {string.Join(", ", unknown)} (known: {string.Join(", ", ScorePipeline.Metrics)})");
        var weighting = ScorePipeline.ParseWeighting(weightingName);
        foreach (var m in new[] { "efi", "sot" })
            if (metrics.Contains(m) && climatePath is null)
                throw new EnsembleException($"--metrics {m} needs --climate (build one with 'ensemble climate build')");
        var maps = new List<ScoreMap>();
        var options = new ScoreOptions
        {
            Climate = climatePath is null ? null : ModelClimateFile.Open(climatePath),
            EventPercentile = eventPercentile,
            RankSeed = rankSeed,
            Maps = extrasDir is null ? null : maps,
        };
        using var truth = truthPaths is { Length: > 0 } ? OpenTruth(truthPaths) : null;
        var rows = new List<ScoreRow>();
        var sources = new List<(string[] Paths, string? Model)> { (forecastPaths, model) };
        sources.AddRange(baselines.Select(b => (new[] { b }, (string?)null)));
        foreach (var (paths, name) in sources)
        {
            using var f = OpenForecast(paths, name);
            if (truth != null)
            {
                var skipped = f.Variables.Keys.Where(v => !truth.Variables.ContainsKey(v)).ToList();
                if (skipped.Count > 0) ctx.Log.Warning("{Model}: no truth for {Variables}; not scored", f.Model, string.Join(", ", skipped));
            }
            var scored = ScorePipeline.Score(f, truth, f.IsDeterministic ? metrics.Where(m => m == "rmse").ToArray() : metrics, weighting, options);
            ctx.Log.Information("{Model}: {Rows} score rows ({Members} member(s), {Variables})", f.Model, scored.Count,
                f.Variables.Values.FirstOrDefault()?.Members ?? 0, string.Join(", ", f.Variables.Keys));
            rows.AddRange(scored);
        }
        var table = new ScoreTable(rows);
        table.Metadata["ssr_correction"] = ScorePipeline.SsrCorrectionNote;
        table.Metadata["weighting"] = ScorePipeline.Name(weighting);
        table.Metadata["crps_estimator"] = "fair";
        if (metrics.Any(m => m is "brier" or "twcrps" or "reliability" or "roc")) table.Metadata["event"] = ScorePipeline.EventNote(options);
        if (extrasDir is not null)
            foreach (var map in maps) ScoreMapFiles.Write(extrasDir, map);
        string csv = table.WriteParquetAndCsv(output);
        var scalar = new ScoreTable(rows.Where(r => MetricName.Parse(r.Metric).Index is null));
        foreach (var line in ScoreTable.Summarise(scalar.ToDataFrame()).ToString().Split('\n').Take(40))
            ctx.Out.WriteLine(line.TrimEnd());
        ctx.Log.Information("Wrote {Rows} rows to {Parquet} and {Csv}", rows.Count, output, csv);
        return EnsembleCli.Ok;
    }

    static ForecastSet OpenForecast(string[] paths, string? model) =>
        paths.Length > 1 || (paths.Length == 1 && File.Exists(paths[0]) && FileFormats.Detect(paths[0]) == FileFormat.Grib)
            ? ForecastReader.FromGrib(paths, model)
            : ForecastReader.Open(paths[0], model);

    static TruthSet OpenTruth(string[] paths) =>
        paths.Length > 1 || (File.Exists(paths[0]) && FileFormats.Detect(paths[0]) == FileFormat.Grib)
            ? TruthReader.FromGrib(paths)
            : TruthReader.Open(paths[0]);
}
