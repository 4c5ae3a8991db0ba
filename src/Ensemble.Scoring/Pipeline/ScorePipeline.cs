using Ensemble.Core;
using Ensemble.Scoring.Climate;
using Ensemble.Scoring.Deterministic;
using Ensemble.Scoring.Extremes;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Spectra;
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
    /// [101, lead_time, lat, lon] (lead order of the forecast variable). Takes precedence over <see cref="Climate"/>.
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> Climates { get; init; } = new Dictionary<string, Tensor>();
    /// <summary>M-climate file (per variable, lead and day-of-year window) for "efi": the window nearest the forecast's initial day.</summary>
    public ModelClimateFile? Climate { get; init; }
    /// <summary>EFI eps (earthkit: ≤ 0 plain method, &gt; 0 precipitation-like).</summary>
    public double EfiEps { get; init; } = -0.1;
    /// <summary>
    /// Truth percentile defining the extreme event of brier, twcrps, reliability and roc: ≥ 50 means y above the
    /// percentile (hot extremes), &lt; 50 below it (cold). Tagged in metric names as "@p95".
    /// </summary>
    public double EventPercentile { get; init; } = 95;
    /// <summary>
    /// Event thresholds per variable [lat, lon]; variables not listed use the <see cref="EventPercentile"/>-th
    /// percentile per grid point of every truth field of that variable (all valid times in the truth).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> EventThresholds { get; init; } = new Dictionary<string, Tensor>();
    /// <summary>Seed of the random tie break of the rank histogram (per variable, lead and initial time a derived seed).</summary>
    public long RankSeed { get; init; }
    /// <summary>Probability bins of the reliability diagram (edges linspace(0, 1, bins + 1), last bin closed).</summary>
    public int ReliabilityBins { get; init; } = 10;
    /// <summary>Probability thresholds of the ROC curve: linspace(0, 1, RocBins + 1), plus the (0,0) and (1,1) end points.</summary>
    public int RocBins { get; init; } = 10;
    /// <summary>Degrees of the spectra (default: the grid's exactness limit).</summary>
    public int? SpectrumLmax { get; init; }
    /// <summary>Latitude band whose per-latitude zonal spectra are averaged for the zonal_spectrum_* rows of "spectra" (default 30°–60° N/S).</summary>
    public LatitudeBand ZonalSpectrumBand { get; init; } = LatitudeBand.MidLatitudes;
    /// <summary>When set, receives the EFI field of the first scored initial time at every lead (for report maps).</summary>
    public ICollection<ScoreMap>? Maps { get; init; }
}

/// <summary>
/// Scores a forecast against truth and returns <see cref="ScoreRow"/>s: per variable, lead time and
/// metric one row per initial time and one aggregated row (empty init_time). Aggregation follows WB2
/// (verification-metrics.md §1, §3): spatial weighted mean per initial time, then the plain mean over
/// initial times; rmse and spread average MSE and variance before the root.
/// Scalar metrics: "crps" (fair, Ferro 2014), "rmse" (of the ensemble mean; of the forecast when deterministic),
/// "spread" (√ of the ddof-1 ensemble variance), "ssr" (√((M+1)/M)·spread/rmse, Fortin et al. 2014 —
/// recorded in <see cref="SsrCorrectionNote"/>), "efi" (spatial mean of the EFI against
/// <see cref="ScoreOptions.Climates"/> or <see cref="ScoreOptions.Climate"/>), "brier" (rows brier@pNN and
/// brier_fair@pNN) and "twcrps" (twcrps@pNN, chaining max(·, t)) for the event of <see cref="ScoreOptions.EventPercentile"/>.
/// Curves and histograms give aggregated rows only (init_time empty), one per point or bin, named
/// base[@tag]:index (<see cref="MetricName"/>): "rank" → rank:k (frequency of rank k, k = 0 … M, pooled over
/// points and initial times, random tie break); "spectra" → spectrum_members:l, spectrum_mean:l, spectrum_truth:l
/// (degree spectra E(l) averaged over initial times: mean of the member spectra, spectrum of the ensemble mean,
/// of the truth) and zonal_spectrum_members:k, zonal_spectrum_mean:k, zonal_spectrum_truth:k (the same for WB2's
/// zonal energy spectrum per zonal wavenumber k, averaged over the latitudes of <see cref="ScoreOptions.ZonalSpectrumBand"/>,
/// <see cref="ZonalBandSpectrum"/>; recorded in <see cref="ZonalSpectrumNote"/>); "reliability" → reliability@pNN:k (observed frequency), reliability_prob@pNN:k (mean forecast
/// probability), reliability_count@pNN:k; "roc" → roc_far@pNN:k, roc_hr@pNN:k (curve points) and roc_auc@pNN.
/// Deterministic forecasts allow rmse only; spread, efi and spectra need no truth.
/// Forecast variables absent from the truth are not scored; initial times whose verifying time
/// (init + lead) is absent from the truth are left out of that lead's scores.
/// </summary>
public static class ScorePipeline
{
    public static readonly string[] Metrics = ["crps", "rmse", "spread", "ssr", "efi", "rank", "spectra", "brier", "twcrps", "reliability", "roc", "sot"];
    public const string SsrCorrectionNote = "ssr = sqrt((M+1)/M) * spread / rmse (Fortin et al. 2014; HENS Part I eq. C4)";

    static readonly string[] TruthMetrics = ["crps", "rmse", "ssr", "rank", "brier", "twcrps", "reliability", "roc"];
    static readonly string[] EventMetrics = ["brier", "twcrps", "reliability", "roc"];

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
        if (metrics.Any(m => EventMetrics.Contains(m.Trim().ToLowerInvariant())))
            table.Metadata["event"] = EventNote(options ?? new ScoreOptions());
        if (metrics.Any(m => m.Trim().ToLowerInvariant() == "spectra"))
            table.Metadata["zonal_spectrum"] = ZonalSpectrumNote(options ?? new ScoreOptions());
        return table;
    }

    /// <summary>What the zonal_spectrum_* rows of "spectra" are (table metadata key "zonal_spectrum").</summary>
    public static string ZonalSpectrumNote(ScoreOptions o) =>
        $"zonal_spectrum_*:k: WB2 zonal energy spectrum S_k (m·unit², R = {ZonalEnergySpectrum.Wb2EarthRadius:0} m, Nyquist doubled), plain mean over the grid latitudes {o.ZonalSpectrumBand.Describe()}, then over initial times";

    /// <summary>What the event tag of brier/twcrps/reliability/roc rows means.</summary>
    public static string EventNote(ScoreOptions o) =>
        $"{MetricName.PercentileTag(o.EventPercentile)}: truth {(o.EventPercentile >= 50 ? "above" : "below")} its {o.EventPercentile}th percentile per grid point (over all truth times unless thresholds were given)";

    public static List<ScoreRow> Score(ForecastSet forecast, TruthSet? truth, IReadOnlyList<string> metrics, ScoreWeighting weighting, ScoreOptions? options = null)
    {
        options ??= new ScoreOptions();
        var wanted = metrics.Select(m => m.Trim().ToLowerInvariant()).Distinct().ToList();
        if (wanted.Count == 0) throw new EnsembleException("score: no metrics requested (choose from " + string.Join(", ", Metrics) + ")");
        foreach (var m in wanted)
            if (!Metrics.Contains(m)) throw new EnsembleException($"score: unknown metric '{m}' (choose from {string.Join(", ", Metrics)})");
        if (forecast.IsDeterministic && wanted.Any(m => m != "rmse"))
            throw new EnsembleException($"{forecast.Source}: deterministic forecast: only rmse can be scored (asked for {string.Join(", ", wanted)})");
        bool needTruth = wanted.Any(TruthMetrics.Contains);
        if (needTruth && truth is null)
            throw new EnsembleException($"score: {string.Join(", ", wanted.Where(TruthMetrics.Contains))} need truth (only spread, efi and spectra can be scored without)");
        if (truth is not null) forecast.Grid.RequireSame(truth.Grid, $"forecast {forecast.Source}", $"truth {truth.Source}");
        if (wanted.Any(EventMetrics.Contains) && !(options.EventPercentile > 0 && options.EventPercentile < 100))
            throw new EnsembleException($"score: event percentile {options.EventPercentile} must lie strictly between 0 and 100");
        if (wanted.Contains("reliability") && options.ReliabilityBins < 1) throw new EnsembleException($"score: reliability bins {options.ReliabilityBins} must be ≥ 1");
        if (wanted.Contains("roc") && options.RocBins < 1) throw new EnsembleException($"score: ROC bins {options.RocBins} must be ≥ 1");

        var names = forecast.Variables.Keys.Where(v => truth is null || truth.Variables.ContainsKey(v)).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
            throw new EnsembleException($"score: no variable of the forecast ({string.Join(", ", forecast.Variables.Keys)}) is in the truth ({string.Join(", ", truth!.Variables.Keys)})");
        if (wanted.Contains("efi") || wanted.Contains("sot"))
        {
            foreach (var v in names)
                if (!options.Climates.ContainsKey(v) && options.Climate is null)
                    throw new EnsembleException($"score: efi and sot need a model climate for '{v}' (ScoreOptions.Climates or a climate file)");
            options.Climate?.RequireGrid(forecast.Grid, $"forecast {forecast.Source}");
        }
        using var sht = wanted.Contains("spectra") ? SpectralGrid.Transform(forecast.Grid, $"forecast {forecast.Source}", options.SpectrumLmax) : null;
        if (sht is not null) ZonalBandSpectrum.RequireIndices(forecast.Grid.Latitudes, options.ZonalSpectrumBand);

        using var w = LatitudeWeights.ToTensor(LatitudeWeightsFor(forecast.Grid, weighting));
        string wname = Name(weighting);
        string tag = MetricName.PercentileTag(options.EventPercentile);
        bool upper = options.EventPercentile >= 50;
        // Scalar series per initial time, in output order: the requested metrics, event scores expanded.
        var scalars = new List<string>();
        foreach (var x in wanted)
        {
            if (x is "crps" or "rmse" or "spread" or "ssr" or "efi") scalars.Add(x);
            else if (x == "brier") { scalars.Add($"brier@{tag}"); scalars.Add($"brier_fair@{tag}"); }
            else if (x == "twcrps") scalars.Add($"twcrps@{tag}");
            else if (x == "sot") { scalars.Add("sot@p90"); scalars.Add("sot@p10"); }   // ECMWF's upper and lower tails
        }
        var rows = new List<ScoreRow>();
        for (int vi = 0; vi < names.Count; vi++)
        {
            string name = names[vi];
            var fv = forecast.Variables[name];
            var tv = truth?.Variables[name];
            int m = fv.Members;
            if (m < 2 && wanted.Any(x => x is "crps" or "spread" or "ssr" or "rank" or "brier" or "twcrps" or "reliability" or "roc"))
                throw new EnsembleException($"{forecast.Source}: '{name}' has {m} member; crps, spread, ssr and the probabilistic scores need at least 2");
            using var threshold = wanted.Any(EventMetrics.Contains) ? EventThreshold(options, name, tv!, forecast.Grid) : null;
            for (int li = 0; li < fv.LeadHours.Length; li++)
            {
                double lead = fv.LeadHours[li];
                var per = new Dictionary<string, List<(DateTime Init, double Value)>>();
                foreach (var x in scalars) per[x] = [];
                var mse = new List<double>();
                var variance = new List<double>();
                var rankCounts = new long[m + 1];
                var prob = new List<double>();
                var obs = new List<double>();
                double[]? specMembers = null, specMean = null, specTruth = null;
                double[]? zonalMembers = null, zonalMean = null, zonalTruth = null;
                int specCount = 0, specTruthCount = 0;
                bool mapped = false;
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
                    // Events as exceedances: cold events (y < t) are warm events of −y > −t.
                    var xe = threshold is null ? null : upper ? x : -x;
                    var ye = threshold is null || y is null ? null : upper ? y : -y;
                    var te = threshold is null ? null : upper ? threshold : -threshold;
                    foreach (var metric in scalars)
                    {
                        double v = metric switch
                        {
                            "crps" => Scalar(Crps.Ensemble(x, y!, CrpsEstimator.Fair), w),
                            "rmse" => Math.Sqrt(mseT),
                            "spread" => Math.Sqrt(varT),
                            "ssr" => Math.Sqrt((m + 1.0) / m) * Math.Sqrt(varT) / Math.Sqrt(mseT),
                            "efi" => Efi(options, name, li, ti, fv, x, w, forecast, ref mapped),
                            _ when metric.StartsWith("sot@p", StringComparison.Ordinal) =>
                                Scalar(Extremes.Sot.Compute(ClimateFor(options, name, li, ti, fv), x, int.Parse(metric[5..], System.Globalization.CultureInfo.InvariantCulture)), w),
                            _ when metric.StartsWith("brier_fair@", StringComparison.Ordinal) => Scalar(Brier.Score(xe!, ye!, te!, fair: true), w),
                            _ when metric.StartsWith("brier@", StringComparison.Ordinal) => Scalar(Brier.Score(xe!, ye!, te!, fair: false), w),
                            _ => Scalar(Crps.ThresholdWeighted(xe!, ye!, te!, CrpsEstimator.Fair), w),
                        };
                        per[metric].Add((init, v));
                    }
                    if (wanted.Contains("rank"))
                    {
                        long seed = options.RankSeed + 1_000_003L * vi + 10_007L * li + ti;
                        var counts = RankHistogram.Counts(x, y!, seed);
                        for (int k = 0; k <= m; k++) rankCounts[k] += counts[k];
                    }
                    if (wanted.Contains("reliability") || wanted.Contains("roc"))
                    {
                        var p = xe!.gt(te!.unsqueeze(0)).to(ScalarType.Float64).mean([0L]).cpu().reshape(-1);
                        var o = ye!.gt(te!).to(ScalarType.Float64).cpu().reshape(-1);
                        prob.AddRange(p.data<double>().ToArray());
                        obs.AddRange(o.data<double>().ToArray());
                    }
                    if (sht is not null)
                    {
                        using var spec = EnsembleSpectrum.Compute(sht, x, y);
                        Accumulate(ref specMembers, spec.MemberMean);
                        Accumulate(ref specMean, spec.OfMean);
                        specCount++;
                        if (spec.Truth is not null) { Accumulate(ref specTruth, spec.Truth); specTruthCount++; }
                        using var zonal = ZonalBandSpectrum.Ensemble(x, forecast.Grid.Latitudes, options.ZonalSpectrumBand, y);
                        Accumulate(ref zonalMembers, zonal.MemberMean);
                        Accumulate(ref zonalMean, zonal.OfMean);
                        if (zonal.Truth is not null) Accumulate(ref zonalTruth, zonal.Truth);
                    }
                }
                if (mse.Count == 0) continue;
                foreach (var metric in scalars)
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
                void Curve(string series, IReadOnlyList<double> values)
                {
                    for (int k = 0; k < values.Count; k++)
                        rows.Add(new ScoreRow(forecast.Model, name, "", lead, $"{series}:{k}", values[k], m, wname));
                }
                if (wanted.Contains("rank"))
                {
                    double total = rankCounts.Sum();
                    Curve("rank", rankCounts.Select(c => c / total).ToArray());
                }
                if (wanted.Contains("reliability"))
                {
                    var d = Reliability.Compute(prob.ToArray(), obs.ToArray(), options.ReliabilityBins);
                    Curve($"reliability@{tag}", d.ObservedFrequency);
                    Curve($"reliability_prob@{tag}", d.MeanForecast);
                    Curve($"reliability_count@{tag}", d.Counts.Select(c => (double)c).ToArray());
                }
                if (wanted.Contains("roc"))
                {
                    var r = Roc.WithEdges(prob.ToArray(), obs.ToArray(), Reliability.Linspace(0, 1, options.RocBins + 1));
                    Curve($"roc_far@{tag}", r.FalseAlarmRate);
                    Curve($"roc_hr@{tag}", r.HitRate);
                    rows.Add(new ScoreRow(forecast.Model, name, "", lead, $"roc_auc@{tag}", r.Auc, m, wname));
                }
                if (sht is not null && specCount > 0)
                {
                    Curve("spectrum_members", specMembers!.Select(v => v / specCount).ToArray());
                    Curve("spectrum_mean", specMean!.Select(v => v / specCount).ToArray());
                    if (specTruthCount > 0) Curve("spectrum_truth", specTruth!.Select(v => v / specTruthCount).ToArray());
                    Curve("zonal_spectrum_members", zonalMembers!.Select(v => v / specCount).ToArray());
                    Curve("zonal_spectrum_mean", zonalMean!.Select(v => v / specCount).ToArray());
                    if (specTruthCount > 0) Curve("zonal_spectrum_truth", zonalTruth!.Select(v => v / specTruthCount).ToArray());
                }
            }
        }
        if (rows.Count == 0)
            throw new EnsembleException($"score: no verifying time (init + lead) of {forecast.Source} is in the truth {truth?.Source}");
        return rows;
    }

    static void Accumulate(ref double[]? sum, Tensor spectrum)
    {
        var v = spectrum.cpu().data<double>().ToArray();
        if (sum is null) { sum = v; return; }
        for (int i = 0; i < v.Length; i++) sum[i] += v[i];
    }

    static double Scalar(Tensor perPoint, Tensor w) => Aggregation.SpatialMean(perPoint, w).item<double>();

    static double Efi(ScoreOptions o, string name, int li, int ti, ForecastVariable fv, Tensor x, Tensor w, ForecastSet forecast, ref bool mapped)
    {
        var efi = Extremes.Efi.FromPercentiles(ClimateFor(o, name, li, ti, fv), x, o.EfiEps);
        if (o.Maps is not null && !mapped)
        {
            o.Maps.Add(new ScoreMap(forecast.Model, name, fv.InitTimes[ti], fv.LeadHours[li], "efi",
                forecast.Grid.Latitudes, forecast.Grid.Longitudes, efi.cpu().reshape(-1).data<double>().ToArray()));
            mapped = true;
        }
        return Scalar(efi, w);
    }

    /// <summary>Event threshold [lat, lon] of a variable: given, or the event percentile of every truth field.</summary>
    static Tensor EventThreshold(ScoreOptions o, string name, TruthVariable tv, ScoreGrid grid)
    {
        if (o.EventThresholds.TryGetValue(name, out var t))
        {
            if (t.dim() != 2 || t.shape[0] != grid.Nlat || t.shape[1] != grid.Nlon)
                throw new EnsembleException($"score: event threshold of '{name}' {Shapes.Show(t.shape)} must be [lat = {grid.Nlat}, lon = {grid.Nlon}]");
            return t.to(ScalarType.Float64).clone();
        }
        if (tv.Data.shape[0] < 2)
            throw new EnsembleException($"score: the {o.EventPercentile}th-percentile event of '{name}' needs at least 2 truth times (the truth has {tv.Data.shape[0]}); pass thresholds instead");
        return Percentiles.Of(tv.Data, o.EventPercentile);
    }

    static Tensor ClimateFor(ScoreOptions o, string name, int lead, int ti, ForecastVariable fv)
    {
        if (!o.Climates.TryGetValue(name, out var c))
            return o.Climate!.Percentiles(name, fv.InitTimes[ti], fv.LeadHours[lead]);
        if (c.dim() == 3) return c;
        if (c.dim() == 4 && c.shape[1] == fv.LeadHours.Length) return c[.., lead];
        throw new EnsembleException($"score: climate of '{name}' {Shapes.Show(c.shape)} must be [101, lat, lon] or [101, lead_time = {fv.LeadHours.Length}, lat, lon]");
    }
}
