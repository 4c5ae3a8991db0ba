using System.Diagnostics;
using System.Globalization;
using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>Climate statistics of a long run from daily samples (see <see cref="ClimateReport.Run"/>).</summary>
/// <param name="Latitudes">Degrees, north → south (the solver grid).</param>
/// <param name="Longitudes">Degrees east.</param>
/// <param name="ZonalMeanU">Time- and zonal-mean u per latitude (m/s).</param>
/// <param name="ZonalU05">5th percentile over days and longitudes of u per latitude (m/s).</param>
/// <param name="ZonalU95">95th percentile of u per latitude (m/s).</param>
/// <param name="ZStd">Temporal standard deviation of z per grid point, [nlat·nlon] row-major (m).</param>
/// <param name="AnomalyEdges">Bin edges of the standardised z anomaly histogram (z − time mean)/std, in std units.</param>
/// <param name="AnomalyCounts">Counts per bin over all points and days (area-weighted, summing to the number of days).</param>
/// <param name="Skewness">Area-weighted skewness of the standardised z anomalies.</param>
/// <param name="ExcessKurtosis">Area-weighted excess kurtosis of the standardised z anomalies (0 for a Gaussian).</param>
/// <param name="MaxWindPercentiles">Daily maximum wind speed (m/s): 50th, 90th, 99th percentile and maximum over the days.</param>
public sealed record WorldClimate(
    double[] Latitudes, double[] Longitudes, double[] ZonalMeanU, double[] ZonalU05, double[] ZonalU95, double[] ZStd,
    double[] AnomalyEdges, double[] AnomalyCounts, double Skewness, double ExcessKurtosis, double[] MaxWindPercentiles);

/// <summary>Results of <see cref="ClimateReport.Run"/>: energy series, stationarity, twin-error growth and climate.</summary>
/// <param name="Twin">Twin error curve, RMS over the start dates (in square).</param>
/// <param name="Twins">The twin pair of each start date.</param>
/// <param name="DaysTo90PerStart">Per start date, the lead at which its z error reaches 90 % of <paramref name="ClimZ"/> (NaN: never).</param>
public sealed record ClimateReportResult(
    double[] EnergyDays, double[] Energy, double FirstHalfMean, double SecondHalfMean, double Drift,
    TwinErrorCurve Twin, IReadOnlyList<TwinErrorCurve> Twins, double[] TwinStartDays,
    double ClimZ, double ClimVo, double DaysTo50, double DaysTo90, double[] DaysTo90PerStart,
    WorldClimate Climate, double SimulatedDaysPerSecond);

/// <summary>
/// The acceptance run of a world configuration (docs/world.md): spin-up, a long run of the control with 6-hourly
/// domain-mean energy (drift = |mean of second half − mean of first half| / mean of first half) and daily samples of
/// z, u and vo (climate statistics; the climatological distance is the RMS difference between samples 20 days apart),
/// restarts saved at evenly spaced start dates, then from each start a twin pair — the control and a copy whose
/// vorticity is perturbed by 1e−6 of its RMS, both with the truth's stirring — so the twin error measures the chaos of
/// the world's deterministic dynamics. Plots are written with ScottPlot. Long (a year at 64×128 is ~10–30 minutes on
/// 2 cores): run it from a gated test, not in CI.
/// </summary>
public static class ClimateReport
{
    const int DistanceLagDays = 20;

    public static ClimateReportResult Run(WorldConfig config, double days, double twinDays, string? plotDirectory,
        Action<string>? log = null, int twinStarts = 4, double twinAmplitude = 1e-6, string name = "world", CancellationToken cancel = default)
    {
        if (twinStarts < 1) throw new EnsembleException($"climate report: twin starts must be ≥ 1, got {twinStarts}");
        if (days < 2 * DistanceLagDays) throw new EnsembleException($"climate report: {days} days is too short for {DistanceLagDays}-day pairs");
        var inv = CultureInfo.InvariantCulture;
        var (model, state) = TwinExperiment.SpinUp(config);
        using var _ = model;
        var solver = model.Solver;
        log?.Invoke($"spun up {config.SpinupDays} days");

        var sw = Stopwatch.StartNew();
        int n = (int)Math.Round(days * 24 / config.OutputHours);
        int perDay = (int)Math.Round(24 / config.OutputHours);
        // start dates evenly spaced so that every twin run ends inside the run (the state is then a sample of the climate)
        double span = Math.Max(0, days - twinDays);
        var startIndices = Enumerable.Range(0, twinStarts).Select(s => (int)Math.Round(s * span / twinStarts * 24 / config.OutputHours)).ToHashSet();
        var eDays = new double[n];
        var e = new double[n];
        var daily = new List<Tensor>();   // [3, nlat, nlon]: z, u, vo
        var maxWind = new List<double>();
        var starts = TwinExperiment.ClimateRun(model, state, n, startIndices.Contains, (i, st) =>
        {
            eDays[i] = (i + 1) * config.OutputHours / 24.0;
            using var en = WorldDiagnostics.Energy(solver, st);
            e[i] = en.item<double>();
            if (!double.IsFinite(e[i])) throw new EnsembleException($"world run blew up at day {eDays[i]:F2}");
            if ((i + 1) % perDay == 0)
            {
                using var scope = torch.NewDisposeScope();
                var g = WorldChannels.ToGrid(solver, st);
                daily.Add(torch.stack([g[0], g[1], g[3]]).MoveToOuterDisposeScope());
                maxWind.Add(torch.sqrt(g[1].pow(2) + g[2].pow(2)).max().item<double>());
            }
            if ((i + 1) % (30 * perDay) == 0) log?.Invoke(string.Format(inv, "day {0:F0} energy {1:E4} ({2:F0} s)", eDays[i], e[i], sw.Elapsed.TotalSeconds));
        }, cancel);
        double speed = days / sw.Elapsed.TotalSeconds;
        double m1 = e.Take(n / 2).Average(), m2 = e.Skip(n / 2).Average();
        double drift = Math.Abs(m2 - m1) / m1;

        double zs = 0, vs = 0;
        int pairs = 0;
        for (int i = 0; i + DistanceLagDays < daily.Count; i++, pairs++)
        {
            zs += WorldDiagnostics.RmsDifference(solver, daily[i][0], daily[i + DistanceLagDays][0]).pow(2).item<double>();
            vs += WorldDiagnostics.RmsDifference(solver, daily[i][2], daily[i + DistanceLagDays][2]).pow(2).item<double>();
        }
        double cz = Math.Sqrt(zs / pairs), cv = Math.Sqrt(vs / pairs);
        var climate = Climate(solver, daily, maxWind);
        foreach (var d in daily) d.Dispose();
        log?.Invoke(string.Format(inv, "control {0} d: energy drift {1:P2}, climatological distance z {2:F1} m, vo {3:E3} 1/s ({4:F2} simulated days/s)", days, drift, cz, cv, speed));

        var twins = new List<TwinErrorCurve>();
        var t90 = new List<double>();
        for (int s = 0; s < starts.Count; s++)
        {
            var (step, output, st, stir) = starts[s];
            double day = output * config.OutputHours / 24.0;
            model.Restart(step, stir);
            var twin = TwinExperiment.Run(model, st, twinAmplitude, Seeds.Derive(12345, s), twinDays);
            st.Dispose();
            stir?.Dispose();
            twins.Add(twin);
            t90.Add(TwinExperiment.TimeToReach(twin, twin.ZRms, cz, 0.9));
            log?.Invoke(string.Format(inv, "twin from day {0:F1}: z error / climatological distance at day 1 {1:E2}, 5 {2:E2}, 10 {3:E2}; 90 % at {4:F2} d",
                day, At(twin, twin.ZRms, 1) / cz, At(twin, twin.ZRms, 5) / cz, At(twin, twin.ZRms, 10) / cz, t90[^1]));
        }
        var lead = twins[0].LeadDays;
        var mean = new TwinErrorCurve(lead,
            lead.Select((_, i) => Math.Sqrt(twins.Average(t => t.ZRms[i] * t.ZRms[i]))).ToArray(),
            lead.Select((_, i) => Math.Sqrt(twins.Average(t => t.VoRms[i] * t.VoRms[i]))).ToArray(),
            Math.Sqrt(twins.Average(t => t.ControlDriftZ * t.ControlDriftZ)));
        var result = new ClimateReportResult(eDays, e, m1, m2, drift, mean, twins, [.. starts.Select(x => x.Output * config.OutputHours / 24.0)], cz, cv,
            TwinExperiment.TimeToReach(mean, mean.ZRms, cz, 0.5), TwinExperiment.TimeToReach(mean, mean.ZRms, cz, 0.9), [.. t90],
            climate, speed);
        if (plotDirectory != null) WritePlots(result, plotDirectory, name);
        return result;
    }

    static double At(TwinErrorCurve c, double[] v, double day)
    {
        int i = Array.FindIndex(c.LeadDays, d => d >= day - 1e-9);
        return i < 0 ? double.NaN : v[i];
    }

    /// <summary>Climate statistics from daily [3, nlat, nlon] (z, u, vo) samples.</summary>
    static WorldClimate Climate(ShallowWaterSolver solver, List<Tensor> daily, List<double> maxWind)
    {
        using var scope = torch.NewDisposeScope();
        var all = torch.stack(daily);                       // [T, 3, nlat, nlon]
        var z = all.select(1, 0);
        var u = all.select(1, 1);
        var zMean = z.mean([0L]);
        var zStd = z.std(0, unbiased: false).clamp_min(1e-12);
        var anomaly = (z - zMean) / zStd;                   // standardised anomaly per point
        double Moment(int k) => solver.GlobalMean(anomaly.pow(k).mean([0L])).item<double>();
        double skew = Moment(3), kurt = Moment(4) - 3;

        int nlat = solver.NLat, nlon = solver.NLon;
        var uLat = u.permute(1, 0, 2).reshape(nlat, -1);   // [nlat, T·nlon]
        var q = torch.tensor(new[] { 0.05, 0.95 }, dtype: uLat.dtype);
        var uq = torch.quantile(uLat, q, dim: 1);          // [2, nlat]

        // histogram of standardised anomalies, area-weighted so it is a histogram over the sphere
        var edges = Enumerable.Range(0, 41).Select(i => -5.0 + 0.25 * i).ToArray();
        var counts = new double[edges.Length - 1];
        var a = anomaly.contiguous().data<double>().ToArray();
        var cellWeights = Enumerable.Range(0, nlat * nlon).Select(p => solver.QuadratureWeights[p / nlon] / (2.0 * nlon)).ToArray();   // w_k·(2π/nlon)/(4π)
        int days = a.Length / (nlat * nlon);
        for (int t = 0; t < days; t++)
            for (int p = 0; p < nlat * nlon; p++)
            {
                double x = a[t * nlat * nlon + p];
                int b = (int)Math.Floor((x - edges[0]) / 0.25);
                if (b >= 0 && b < counts.Length) counts[b] += cellWeights[p];
            }
        var sortedWind = maxWind.OrderBy(x => x).ToArray();
        double Pct(double p) => sortedWind[(int)Math.Min(sortedWind.Length - 1, Math.Floor(p * sortedWind.Length))];
        return new WorldClimate(
            [.. solver.Latitudes.Select(x => x * 180 / Math.PI)], [.. solver.Longitudes.Select(x => x * 180 / Math.PI)],
            u.mean([0L, 2L]).data<double>().ToArray(), uq[0].contiguous().data<double>().ToArray(), uq[1].contiguous().data<double>().ToArray(),
            zStd.contiguous().data<double>().ToArray(), edges, counts, skew, kurt,
            [Pct(0.5), Pct(0.9), Pct(0.99), sortedWind[^1]]);
    }

    /// <summary>
    /// energy.png (energy time series), twin-error.png (normalised twin error per start and their RMS, log scale),
    /// climate-zonal-wind.png, climate-z-std.png (map) and climate-z-anomalies.png (tails vs a Gaussian) in <paramref name="directory"/>.
    /// </summary>
    public static void WritePlots(ClimateReportResult r, string directory, string name = "world")
    {
        var inv = CultureInfo.InvariantCulture;
        Directory.CreateDirectory(directory);
        var p = new ScottPlot.Plot();
        p.Add.Scatter(r.EnergyDays, r.Energy.Select(x => x / 1e6).ToArray()).MarkerSize = 0;
        p.Title(string.Format(inv, "{0}: domain-mean energy (drift between halves {1:F2} %)", name, 100 * r.Drift));
        p.XLabel("days after spin-up");
        p.YLabel("⟨½h|u|² + ½g(h−H)²⟩ (10⁶ m³ s⁻²)");
        Save(p, Path.Combine(directory, "energy.png"));

        var q = new ScottPlot.Plot();
        foreach (var (t, k) in r.Twins.Select((t, k) => (t, k)))
        {
            var s = q.Add.Scatter(t.LeadDays, t.ZRms.Select(x => Math.Log10(Math.Max(x / r.ClimZ, 1e-12))).ToArray());
            s.MarkerSize = 0; s.LineWidth = 1; s.Color = ScottPlot.Colors.Gray.WithAlpha(0.6);
            if (k == 0) s.LegendText = "z, each start";
        }
        var z = q.Add.Scatter(r.Twin.LeadDays, r.Twin.ZRms.Select(x => Math.Log10(Math.Max(x / r.ClimZ, 1e-12))).ToArray());
        z.LegendText = $"z, RMS over {r.Twins.Count} starts"; z.MarkerSize = 0; z.LineWidth = 3;
        var v = q.Add.Scatter(r.Twin.LeadDays, r.Twin.VoRms.Select(x => Math.Log10(Math.Max(x / r.ClimVo, 1e-12))).ToArray());
        v.LegendText = $"vo, RMS over {r.Twins.Count} starts"; v.MarkerSize = 0; v.LineWidth = 3;
        q.Add.HorizontalLine(Math.Log10(0.9));
        q.ShowLegend(ScottPlot.Alignment.LowerRight);
        q.Title(string.Format(inv, "{0}: 1e-6 twins, same forcing: z at 90 % of clim. distance after {1:F1} d", name, r.DaysTo90));
        q.XLabel("lead (days)");
        q.YLabel("log10(RMS difference / climatological distance)");
        Save(q, Path.Combine(directory, "twin-error.png"));

        var c = r.Climate;
        var zw = new ScottPlot.Plot();
        var mu = zw.Add.Scatter(c.Latitudes, c.ZonalMeanU); mu.LegendText = "time and zonal mean"; mu.MarkerSize = 0; mu.LineWidth = 2;
        var lo = zw.Add.Scatter(c.Latitudes, c.ZonalU05); lo.LegendText = "5th percentile"; lo.MarkerSize = 0; lo.LinePattern = ScottPlot.LinePattern.Dashed;
        var hi = zw.Add.Scatter(c.Latitudes, c.ZonalU95); hi.LegendText = "95th percentile"; hi.MarkerSize = 0; hi.LinePattern = ScottPlot.LinePattern.Dashed;
        zw.ShowLegend();
        zw.Title(string.Format(inv, "{0}: zonal wind (daily max wind: median {1:F0}, p99 {2:F0} m/s)", name, c.MaxWindPercentiles[0], c.MaxWindPercentiles[2]));
        zw.XLabel("latitude (deg)");
        zw.YLabel("u (m/s)");
        Save(zw, Path.Combine(directory, "climate-zonal-wind.png"));

        int nlat = c.Latitudes.Length, nlon = c.Longitudes.Length;
        var grid = new double[nlat, nlon];
        for (int i = 0; i < nlat; i++) for (int j = 0; j < nlon; j++) grid[i, j] = c.ZStd[i * nlon + j];   // row 0 = north (top)
        var m = new ScottPlot.Plot();
        var hm = m.Add.Heatmap(grid);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        double dlon = 360.0 / nlon;
        var extent = new ScottPlot.CoordinateRect(-dlon / 2, 360 - dlon / 2, -90, 90);
        hm.Extent = extent;
        m.Axes.SetLimits(extent.Left, extent.Right, extent.Bottom, extent.Top);
        m.Add.ColorBar(hm).Label = "m";
        m.Title($"{name}: standard deviation of daily z");
        m.XLabel("longitude (deg)");
        m.YLabel("latitude (deg)");
        Save(m, Path.Combine(directory, "climate-z-std.png"));

        var h = new ScottPlot.Plot();
        double total = c.AnomalyCounts.Sum();
        var centres = c.AnomalyEdges.Take(c.AnomalyCounts.Length).Select(x => x + 0.125).ToArray();
        var keep = Enumerable.Range(0, centres.Length).Where(i => c.AnomalyCounts[i] > 0).ToArray();
        var obs = h.Add.Scatter(keep.Select(i => centres[i]).ToArray(), keep.Select(i => Math.Log10(c.AnomalyCounts[i] / total / 0.25)).ToArray());
        obs.LegendText = "world"; obs.LineWidth = 2;
        var gauss = h.Add.Scatter(centres, centres.Select(x => Math.Log10(Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI))).ToArray());
        gauss.LegendText = "Gaussian"; gauss.MarkerSize = 0; gauss.LinePattern = ScottPlot.LinePattern.Dashed;
        h.ShowLegend(ScottPlot.Alignment.UpperRight);
        h.Axes.SetLimitsY(-7, 0);
        h.Title(string.Format(inv, "{0}: daily z anomalies (skewness {1:F2}, excess kurtosis {2:F2})", name, c.Skewness, c.ExcessKurtosis));
        h.XLabel("(z − mean) / std at the grid point");
        h.YLabel("log10 probability density");
        Save(h, Path.Combine(directory, "climate-z-anomalies.png"));
    }

    static void Save(ScottPlot.Plot p, string path)
    {
        string tmp = path + ".tmp.png";
        p.SavePng(tmp, 1000, 520);
        File.Move(tmp, path, overwrite: true);
    }
}
