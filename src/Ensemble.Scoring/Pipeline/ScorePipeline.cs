using Ensemble.Core;
using Ensemble.Scoring.Deterministic;
using Ensemble.Scoring.Extremes;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Tables;
using Ensemble.Scoring.Weights;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Pipeline;

/// <summary>Latitude weighting of the spatial means: none, cos φ (mean 1) or WB2 cell area (mean 1).</summary>
public enum ScoreWeighting { None, CosLat, CellArea }

/// <summary>Options of <see cref="ScorePipeline.Score"/>.</summary>
public sealed class ScoreOptions
{
    /// <summary>
    /// Model climate per variable for "efi": 101 percentiles (0…100) [101, lat, lon] or per lead
    /// [101, lead_time, lat, lon] (lead order of the forecast variable).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Climates { get; init; } = new Dictionary<string, Tensor>();
    /// <summary>EFI eps (earthkit: ≤ 0 plain method, &gt; 0 precipitation-like).</summary>
    public double EfiEps { get; init; } = -0.1;
}

/// <summary>
/// Scores a forecast against truth and returns <see cref="ScoreRow"/>s: per variable, lead time and
/// metric one row per initial time and one aggregated row (empty init_time). Aggregation follows WB2
/// (verification-metrics.md §1, §3): spatial weighted mean per initial time, then the plain mean over
/// initial times; rmse and spread average MSE and variance before the root.
/// Metrics: "crps" (fair, Ferro 2014), "rmse" (of the ensemble mean; of the forecast when deterministic),
/// "spread" (√ of the ddof-1 ensemble variance), "ssr" (√((M+1)/M)·spread/rmse, Fortin et al. 2014 —
/// recorded in <see cref="SsrCorrectionNote"/>), "efi" (spatial mean of the EFI against
/// <see cref="ScoreOptions.Climates"/>). Deterministic forecasts allow rmse only; spread and efi need no truth.
/// Forecast variables absent from the truth are not scored; initial times whose verifying time
/// (init + lead) is absent from the truth are left out of that lead's scores.
/// </summary>
public static class ScorePipeline
{
    public static readonly string[] Metrics = ["crps", "rmse", "spread", "ssr", "efi"];
    public const string SsrCorrectionNote = "ssr = sqrt((M+1)/M) * spread / rmse (Fortin et al. 2014; HENS Part I eq. C4)";

    public static string Name(ScoreWeighting w) => w switch
    {
        ScoreWeighting.None => "none", ScoreWeighting.CosLat => "coslat", _ => "cellarea",
    };

    public static ScoreWeighting ParseWeighting(string s) => s.Trim().ToLowerInvariant() switch
    {
        "none" or "unweighted" => ScoreWeighting.None,
        "coslat" or "cos-lat" or "cos" => ScoreWeighting.CosLat,
        "cellarea" or "cell-area" or "area" => ScoreWeighting.CellArea,
        _ => throw new EnsembleException($"unknown weighting '{s}' (use none, coslat or cellarea)"),
    };

    public static double[] LatitudeWeightsFor(ScoreGrid grid, ScoreWeighting w) => w switch
    {
        ScoreWeighting.None => Enumerable.Repeat(1.0, grid.Nlat).ToArray(),
        ScoreWeighting.CosLat => LatitudeWeights.CosLat(grid.Latitudes),
        _ => LatitudeWeights.CellArea(grid.Latitudes),
    };

    /// <summary>Scores and wraps the rows in a table whose metadata records the weighting and the ssr correction.</summary>
    public static ScoreTable ScoreTable(ForecastSet forecast, TruthSet? truth, IReadOnlyList<string> metrics, ScoreWeighting weighting, ScoreOptions? options = null)
    {
        var table = new ScoreTable(Score(forecast, truth, metrics, weighting, options));
        table.Metadata["ssr_correction"] = SsrCorrectionNote;
        table.Metadata["crps_estimator"] = "fair";
        table.Metadata["weighting"] = Name(weighting);
        table.Metadata["forecast"] = forecast.Source;
        if (truth is not null) table.Metadata["truth"] = truth.Source;
        return table;
    }

    public static List<ScoreRow> Score(ForecastSet forecast, TruthSet? truth, IReadOnlyList<string> metrics, ScoreWeighting weighting, ScoreOptions? options = null)
    {
        options ??= new ScoreOptions();
        var wanted = metrics.Select(m => m.Trim().ToLowerInvariant()).Distinct().ToList();
        if (wanted.Count == 0) throw new EnsembleException("score: no metrics requested (choose from " + string.Join(", ", Metrics) + ")");
        foreach (var m in wanted)
            if (!Metrics.Contains(m)) throw new EnsembleException($"score: unknown metric '{m}' (choose from {string.Join(", ", Metrics)})");
        if (forecast.IsDeterministic && wanted.Any(m => m != "rmse"))
            throw new EnsembleException($"{forecast.Source}: deterministic forecast: only rmse can be scored (asked for {string.Join(", ", wanted)})");
        bool needTruth = wanted.Any(m => m is "crps" or "rmse" or "ssr");
        if (needTruth && truth is null)
            throw new EnsembleException($"score: {string.Join(", ", wanted.Where(m => m is "crps" or "rmse" or "ssr"))} need truth (only spread and efi can be scored without)");
        if (truth is not null) forecast.Grid.RequireSame(truth.Grid, $"forecast {forecast.Source}", $"truth {truth.Source}");

        var names = forecast.Variables.Keys.Where(v => truth is null || truth.Variables.ContainsKey(v)).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
            throw new EnsembleException($"score: no variable of the forecast ({string.Join(", ", forecast.Variables.Keys)}) is in the truth ({string.Join(", ", truth!.Variables.Keys)})");
        if (wanted.Contains("efi"))
            foreach (var v in names)
                if (!options.Climates.ContainsKey(v))
                    throw new EnsembleException($"score: efi needs a model climate for '{v}' (ScoreOptions.Climates)");

        using var w = LatitudeWeights.ToTensor(LatitudeWeightsFor(forecast.Grid, weighting));
        string wname = Name(weighting);
        var rows = new List<ScoreRow>();
        foreach (var name in names)
        {
            var fv = forecast.Variables[name];
            var tv = truth?.Variables[name];
            int m = fv.Members;
            if (m < 2 && wanted.Any(x => x is "crps" or "spread" or "ssr"))
                throw new EnsembleException($"{forecast.Source}: '{name}' has {m} member; crps, spread and ssr need at least 2");
            for (int li = 0; li < fv.LeadHours.Length; li++)
            {
                double lead = fv.LeadHours[li];
                var per = new Dictionary<string, List<(DateTime Init, double Value)>>();
                foreach (var x in wanted) per[x] = [];
                var mse = new List<double>();
                var variance = new List<double>();
                for (int ti = 0; ti < fv.InitTimes.Length; ti++)
                {
                    var init = fv.InitTimes[ti];
                    int yi = -1;
                    if (tv is not null)
                    {
                        yi = tv.IndexOf(init + TimeSpan.FromHours(lead));
                        if (yi < 0) continue;
                    }
                    using var scope = NewDisposeScope();
                    var x = fv.Data[.., ti, li];                       // [M, lat, lon]
                    var y = yi >= 0 ? tv!.Data[yi] : null;             // [lat, lon]
                    double mseT = double.NaN, varT = double.NaN;
                    if (y is not null && (wanted.Contains("rmse") || wanted.Contains("ssr")))
                        mseT = Scalar(SpreadSkill.EnsembleMeanSquaredError(x, y), w);
                    if (wanted.Contains("spread") || wanted.Contains("ssr"))
                        varT = Scalar(SpreadSkill.EnsembleVariance(x), w);
                    mse.Add(mseT);
                    variance.Add(varT);
                    foreach (var metric in wanted)
                    {
                        double v = metric switch
                        {
                            "crps" => Scalar(Crps.Ensemble(x, y!, CrpsEstimator.Fair), w),
                            "rmse" => Math.Sqrt(mseT),
                            "spread" => Math.Sqrt(varT),
                            "ssr" => Math.Sqrt((m + 1.0) / m) * Math.Sqrt(varT) / Math.Sqrt(mseT),
                            _ => Scalar(Efi.FromPercentiles(ClimateFor(options, name, li, fv), x, options.EfiEps), w),
                        };
                        per[metric].Add((init, v));
                    }
                }
                if (mse.Count == 0) continue;
                foreach (var metric in wanted)
                {
                    foreach (var (init, v) in per[metric])
                        rows.Add(new ScoreRow(forecast.Model, name, ScoreRow.FormatInitTime(init), lead, metric, v, m, wname));
                    double agg = metric switch
                    {
                        "rmse" => Math.Sqrt(mse.Average()),
                        "spread" => Math.Sqrt(variance.Average()),
                        "ssr" => SpreadSkill.FromPerTime(m, mse.ToArray(), variance.ToArray(), applyCorrection: true).Ratio,
                        _ => per[metric].Average(p => p.Value),
                    };
                    rows.Add(new ScoreRow(forecast.Model, name, "", lead, metric, agg, m, wname));
                }
            }
        }
        if (rows.Count == 0)
            throw new EnsembleException($"score: no verifying time (init + lead) of {forecast.Source} is in the truth {truth?.Source}");
        return rows;
    }

    static double Scalar(Tensor perPoint, Tensor w) => Aggregation.SpatialMean(perPoint, w).item<double>();

    static Tensor ClimateFor(ScoreOptions o, string name, int lead, ForecastVariable fv)
    {
        var c = o.Climates[name];
        if (c.dim() == 3) return c;
        if (c.dim() == 4 && c.shape[1] == fv.LeadHours.Length) return c[.., lead];
        throw new EnsembleException($"score: climate of '{name}' {Shapes.Show(c.shape)} must be [101, lat, lon] or [101, lead_time = {fv.LeadHours.Length}, lat, lon]");
    }
}
