using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Scoring.Climate;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Tables;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// Scores the ML ensemble and every baseline (the physics ensemble, listed files) with one pipeline against the
/// same truth: scores.parquet (+ .csv) in the long format, plus EFI maps for the report.
/// </summary>
public sealed class ScoresStage(IReadOnlyList<string> dependsOn, IReadOnlyList<(string Model, Func<CampaignContext, string> Path)> forecasts) : CampaignStage
{
    public const string StageName = "scores";
    public const string TableFile = "scores.parquet";
    public const string MapsFolder = "maps";
    public const string MlModel = "sfno-ensemble";
    public override string Name => StageName;
    public override IReadOnlyList<string> DependsOn => dependsOn;

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject
    {
        ["data"] = ctx.Config.Data is null ? null : CampaignData.Fingerprint(ctx),
        ["scores"] = JsonNode.Parse(Core.Config.YamlConfig.Show(ctx.Config.Scores)),
        ["seed"] = ctx.Config.Seed,
        ["forecasts"] = new JsonArray(forecasts.Select(f => (JsonNode)JsonValue.Create(f.Model)!).ToArray()),
        ["baseline_files"] = new JsonArray(ctx.Config.Baseline.Files.Select(f => (JsonNode)JsonValue.Create(ctx.Config.Resolve(f))!).ToArray()),
    };

    public static string TablePath(CampaignContext ctx) => Path.Combine(ctx.StageDirectory(StageName), TableFile);

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var s = ctx.Config.Scores;
        var weighting = ScorePipeline.ParseWeighting(s.Weighting);
        var maps = new List<ScoreMap>();
        var options = new ScoreOptions
        {
            Climate = s.Metrics.Contains("efi") || s.Metrics.Contains("sot") ? ModelClimateFile.Open(ClimateStage.FilePath(ctx)) : null,
            EventPercentile = s.ExtremePercentile,
            RankSeed = Seeds.Derive(ctx.Config.Seed, Seeds.Of("rank")),
            Maps = maps,
        };
        var sources = forecasts.Select(f => (f.Model, Path: f.Path(ctx))).ToList();
        sources.AddRange(ctx.Config.Baseline.Files.Select(f => ((string)Path.GetFileNameWithoutExtension(f.TrimEnd('/')), ctx.Config.Resolve(f))));
        using var data = CampaignData.Truth(ctx);
        var rows = new List<ScoreRow>();
        int done = 0;
        foreach (var (model, path) in sources)
        {
            cancel.ThrowIfCancellationRequested();
            ctx.Report(Name, model, done++, sources.Count);
            using var loaded = Load(path, model, s.Variables, ctx.Config.Source);
            using var subset = WithoutFlaggedMembers(loaded, ctx);
            using var truth = Truth(data, subset);
            var metrics = subset.IsDeterministic ? ["rmse"] : s.Metrics.Select(m => m == "fair_crps" ? "crps" : m).Distinct().ToList();
            rows.AddRange(ScorePipeline.Score(subset, truth, metrics, weighting, options));
        }
        var table = new ScoreTable(rows);
        table.Metadata["ssr_correction"] = ScorePipeline.SsrCorrectionNote;
        table.Metadata["weighting"] = ScorePipeline.Name(weighting);
        table.Metadata["crps_estimator"] = "fair";
        table.Metadata["event"] = ScorePipeline.EventNote(options);
        if (s.Metrics.Contains("spectra")) table.Metadata["zonal_spectrum"] = ScorePipeline.ZonalSpectrumNote(options);
        table.Metadata["campaign"] = ctx.Config.Name;
        table.WriteParquetAndCsv(Path.Combine(directory, TableFile));
        foreach (var map in maps.Where(m => s.MapLeadHours is null || s.MapLeadHours.Any(h => Math.Abs(h - m.LeadTimeHours) < 1e-9)))
            ScoreMapFiles.Write(Path.Combine(directory, MapsFolder), map);
        return new JsonObject { ["table"] = TableFile, ["rows"] = rows.Count, ["maps"] = maps.Count };
    }

    /// <summary>
    /// Members the runner flagged (blow-up or NaN: their fields are NaN from the flagged step on) are left out of the
    /// scores, as they are left out of the runner's streaming statistics, with a warning naming how many.
    /// </summary>
    static ForecastSet WithoutFlaggedMembers(ForecastSet f, CampaignContext ctx)
    {
        int m = f.Variables.Values.First().Members;
        var finite = torch.ones(m, dtype: ScalarType.Bool);
        foreach (var v in f.Variables.Values)
        {
            using var ok = torch.isfinite(v.Data).reshape(m, -1).all(1);
            finite = finite.logical_and(ok);
        }
        var keep = Enumerable.Range(0, m).Where(i => finite[i].item<bool>()).ToArray();
        finite.Dispose();
        if (keep.Length == m) return new ForecastSet(f.Model, f.Source, f.IsDeterministic, f.Grid, f.Variables.Values.Select(Copy));
        if (keep.Length < 2)
            throw new EnsembleException($"{f.Source}: only {keep.Length} of {m} members are finite; nothing to score");
        ctx.Events.Warning($"{f.Model}: {m - keep.Length} of {m} members were flagged (non-finite fields) and are left out of the scores");
        using var idx = torch.tensor(keep.Select(i => (long)i).ToArray());
        return new ForecastSet(f.Model, f.Source, f.IsDeterministic, f.Grid,
            f.Variables.Values.Select(v => new ForecastVariable(v.Name, v.InitTimes, v.LeadHours, v.Data.index_select(0, idx))));

        static ForecastVariable Copy(ForecastVariable v) => new(v.Name, v.InitTimes, v.LeadHours, v.Data.clone());
    }

    /// <summary>
    /// The scored variables of a forecast: our ensemble stores are read variable by variable (only those scored),
    /// other formats (GRIB, foreign netCDF) through <see cref="ForecastReader"/>.
    /// </summary>
    static ForecastSet Load(string path, string model, IReadOnlyList<string>? wanted, string source)
    {
        bool ours = Directory.Exists(path) || Path.GetExtension(path) == ".nc";
        if (ours)
        {
            using var reader = EnsembleStore.Open(path);
            var layout = reader.Layout;
            var names = layout.Variables.Where(v => wanted is null || wanted.Contains(v)).Order(StringComparer.Ordinal).ToList();
            if (names.Count == 0)
                throw new EnsembleException($"{source}: key 'scores.variables': none of {string.Join(", ", wanted ?? [])} is in {path} ({string.Join(", ", layout.Variables)})");
            var vars = names.Select(v =>
            {
                using var data = reader.Read(v);
                return new ForecastVariable(v, layout.Times, layout.LeadTimeHours, data);
            }).ToList();
            return new ForecastSet(model, path, layout.Members == 1, new ScoreGrid(layout.Lat, layout.Lon), vars);
        }
        var all = ForecastReader.Open(path, model);
        var keep = all.Variables.Keys.Where(v => wanted is null || wanted.Contains(v)).Order(StringComparer.Ordinal).ToList();
        if (keep.Count == 0)
            throw new EnsembleException($"{source}: key 'scores.variables': none of {string.Join(", ", wanted ?? [])} is in {path} ({string.Join(", ", all.Variables.Keys)})");
        return new ForecastSet(model, path, all.IsDeterministic, all.Grid, keep.Select(v => all.Variables[v]).ToList());
    }

    /// <summary>The truth at every valid time (init + lead) of a forecast, read from the campaign's Makani data.</summary>
    static TruthSet Truth(MakaniDataset data, ForecastSet forecast)
    {
        var valid = forecast.Variables.Values.SelectMany(v => v.InitTimes.SelectMany(t => v.LeadHours.Select(h => t.AddHours(h)))).Distinct().Order().ToList();
        var index = new Dictionary<DateTime, int>();
        for (int i = 0; i < data.Count; i++) index[data.TimeOf(i)] = i;
        var times = valid.Where(index.ContainsKey).ToList();
        if (times.Count == 0) throw new EnsembleException($"{forecast.Source}: no verifying time is in the truth data ({data.TimeOf(0):yyyy-MM-dd} … {data.TimeOf(data.Count - 1):yyyy-MM-dd})");
        var channels = data.Channels.ToList();
        var grid = new ScoreGrid(data.Metadata.Lat, data.Metadata.Lon);
        var fields = new List<Tensor>();
        foreach (var t in times) fields.Add(data.Get(index[t]).to(ScalarType.Float64));
        using var stack = torch.stack(fields.ToArray(), 0);   // [T, C, lat, lon]
        foreach (var f in fields) f.Dispose();
        var vars = new List<TruthVariable>();
        foreach (var name in forecast.Variables.Keys)
        {
            int c = channels.IndexOf(name);
            if (c < 0) throw new EnsembleException($"{forecast.Source}: variable '{name}' is not in the truth data ({string.Join(", ", channels)})");
            vars.Add(new TruthVariable(name, times, stack[.., c].clone()));
        }
        return new TruthSet("truth", grid, vars);
    }
}
