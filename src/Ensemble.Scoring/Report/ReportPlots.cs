using System.Globalization;
using Ensemble.Scoring.Tables;
using ScottPlot;

namespace Ensemble.Scoring.Report;

/// <summary>The individual report plots; each returns the PNG file name written in the folder, or null when the table lacks the rows.</summary>
internal static class ReportPlots
{
    const int Width = 900, Height = 560;
    static readonly IPalette Palette = new ScottPlot.Palettes.Category10();

    static string Safe(string s) => string.Concat(s.Select(c => char.IsLetterOrDigit(c) || c is '-' or '.' ? c : '_'));

    static string Save(Plot p, string dir, string name)
    {
        string file = Safe(name) + ".png";
        string path = Path.Combine(dir, file);
        string tmp = path + ".tmp.png";
        p.SavePng(tmp, Width, Height);
        File.Move(tmp, path, overwrite: true);
        return file;
    }

    static string Lead(double h) => "+" + h.ToString("0.##", CultureInfo.InvariantCulture) + " h";

    /// <summary>Values of one indexed series (e.g. "rank") of a model at a lead, ordered by index.</summary>
    static double[] Series(List<ScoreRow> rows, string model, double lead, string series) =>
        rows.Where(r => r.Model == model && r.LeadTimeHours == lead)
            .Select(r => (Row: r, Name: MetricName.Parse(r.Metric)))
            .Where(x => x.Name.Index is not null && x.Name.Series == series)
            .OrderBy(x => x.Name.Index).Select(x => x.Row.Value).ToArray();

    static List<double> Leads(List<ScoreRow> rows, Func<ScoreRow, bool> which) => rows.Where(which).Select(r => r.LeadTimeHours).Distinct().Order().ToList();

    /// <summary>Up to <paramref name="n"/> leads spread over the list (first and last included).</summary>
    static List<double> Pick(List<double> leads, int n) =>
        leads.Count <= n ? leads : Enumerable.Range(0, n).Select(k => leads[(int)Math.Round(k * (leads.Count - 1) / (double)(n - 1))]).Distinct().ToList();

    public static string? SkillVsLead(List<ScoreRow> rows, string variable, string dir)
    {
        var p = new Plot();
        var models = rows.Select(r => r.Model).Distinct().Order(StringComparer.Ordinal).ToList();
        int n = 0;
        foreach (var (metric, pattern) in new[] { ("crps", LinePattern.Solid), ("rmse", LinePattern.Dashed), ("spread", LinePattern.Dotted) })
            for (int mi = 0; mi < models.Count; mi++)
            {
                var pts = rows.Where(r => r.Model == models[mi] && r.Metric == metric).OrderBy(r => r.LeadTimeHours).ToList();
                if (pts.Count == 0) continue;
                var s = p.Add.Scatter(pts.Select(r => r.LeadTimeHours).ToArray(), pts.Select(r => r.Value).ToArray());
                s.LegendText = $"{models[mi]} {metric}";
                s.Color = Palette.GetColor(mi);
                s.LinePattern = pattern;
                s.LineWidth = 2;
                s.MarkerSize = 5;
                n++;
            }
        if (n == 0) return null;
        p.Title($"{variable}: CRPS, RMSE, spread vs lead");
        p.XLabel("lead time (h)");
        p.YLabel(variable);
        p.ShowLegend(Alignment.UpperLeft);
        return Save(p, dir, $"skill_{variable}");
    }

    public static string? SpreadSkill(List<ScoreRow> rows, string variable, string dir)
    {
        var p = new Plot();
        var models = rows.Where(r => r.Metric == "ssr").Select(r => r.Model).Distinct().Order(StringComparer.Ordinal).ToList();
        if (models.Count == 0) return null;
        for (int mi = 0; mi < models.Count; mi++)
        {
            var pts = rows.Where(r => r.Model == models[mi] && r.Metric == "ssr").OrderBy(r => r.LeadTimeHours).ToList();
            var s = p.Add.Scatter(pts.Select(r => r.LeadTimeHours).ToArray(), pts.Select(r => r.Value).ToArray());
            s.LegendText = models[mi];
            s.Color = Palette.GetColor(mi);
            s.LineWidth = 2;
        }
        var one = p.Add.HorizontalLine(1);
        one.LinePattern = LinePattern.Dashed;
        one.Color = Colors.Gray;
        p.Title($"{variable}: spread-skill ratio (Fortin-corrected)");
        p.XLabel("lead time (h)");
        p.YLabel("spread / RMSE");
        p.ShowLegend(Alignment.UpperRight);
        return Save(p, dir, $"ssr_{variable}");
    }

    public static string? RankHistogram(List<ScoreRow> rows, string variable, string model, string dir)
    {
        var leads = Pick(Leads(rows, r => r.Model == model && MetricName.Parse(r.Metric) is { Base: "rank", Index: not null }), 4);
        if (leads.Count == 0) return null;
        var p = new Plot();
        int bins = 0;
        double width = 0.8 / leads.Count;
        for (int k = 0; k < leads.Count; k++)
        {
            var f = Series(rows, model, leads[k], "rank");
            bins = f.Length;
            var bars = p.Add.Bars(Enumerable.Range(0, f.Length).Select(i => i - 0.4 + width * (k + 0.5)).ToArray(), f);
            bars.LegendText = Lead(leads[k]);
            bars.Color = Palette.GetColor(k);
            foreach (var b in bars.Bars) b.Size = width;
        }
        var flat = p.Add.HorizontalLine(1.0 / bins);
        flat.LinePattern = LinePattern.Dashed;
        flat.Color = Colors.Black;
        p.Title($"{variable}, {model}: rank histogram ({bins - 1} members)");
        p.XLabel("rank of the truth among the members");
        p.YLabel("frequency");
        p.Axes.Margins(bottom: 0);
        p.ShowLegend(Alignment.UpperCenter);
        return Save(p, dir, $"rank_{variable}_{model}");
    }

    public static string? Spectra(List<ScoreRow> rows, string variable, string model, string dir) =>
        SpectrumCurves(rows, variable, model, dir, "spectrum", $"{variable}, {model}: degree spectra", "log10 degree l", "log10 E(l)", $"spectra_{variable}_{model}");

    public static string? ZonalSpectra(List<ScoreRow> rows, string variable, string model, string dir) =>
        SpectrumCurves(rows, variable, model, dir, "zonal_spectrum", $"{variable}, {model}: zonal spectra (latitude band mean)", "log10 zonal wavenumber k", "log10 S(k)", $"zonal_spectra_{variable}_{model}");

    /// <summary>
    /// Members (solid), ensemble mean (dashed) and truth (dotted, black) of the <paramref name="prefix"/>_members/_mean/_truth
    /// series at up to 3 leads, log–log from index 1 (index 0 is the mean, off a log axis).
    /// </summary>
    static string? SpectrumCurves(List<ScoreRow> rows, string variable, string model, string dir, string prefix, string title, string xLabel, string yLabel, string file)
    {
        var leads = Pick(Leads(rows, r => r.Model == model && MetricName.Parse(r.Metric) is { Index: not null } n && n.Series == prefix + "_members"), 3);
        if (leads.Count == 0) return null;
        var p = new Plot();
        for (int k = 0; k < leads.Count; k++)
        {
            foreach (var (suffix, pattern, label) in new[] { ("_members", LinePattern.Solid, "members"), ("_mean", LinePattern.Dashed, "ens. mean"), ("_truth", LinePattern.Dotted, "truth") })
            {
                var e = Series(rows, model, leads[k], prefix + suffix);
                if (e.Length < 2) continue;
                var xs = Enumerable.Range(1, e.Length - 1).Select(l => Math.Log10(l)).ToArray();
                var ys = e.Skip(1).Select(v => Math.Log10(Math.Max(v, 1e-300))).ToArray();
                var s = p.Add.Scatter(xs, ys);
                s.LegendText = $"{label} {Lead(leads[k])}";
                s.Color = suffix == "_truth" ? Colors.Black : Palette.GetColor(k);
                s.LinePattern = pattern;
                s.LineWidth = 2;
                s.MarkerSize = 0;
            }
        }
        p.Title(title);
        p.XLabel(xLabel);
        p.YLabel(yLabel);
        p.ShowLegend(Alignment.LowerLeft);
        return Save(p, dir, file);
    }

    public static string? Reliability(List<ScoreRow> rows, string variable, string tag, string dir) =>
        UnitSquareCurves(rows, $"reliability@{tag}", $"reliability_prob@{tag}", legendSuffix: (_, _) => "", markerSize: 6,
            $"{variable}: reliability, event {tag}", "forecast probability", "observed frequency", Alignment.UpperLeft, dir, $"reliability_{variable}_{tag}");

    public static string? RocCurves(List<ScoreRow> rows, string variable, string tag, string dir) =>
        UnitSquareCurves(rows, $"roc_hr@{tag}", $"roc_far@{tag}",
            legendSuffix: (model, lead) => rows.FirstOrDefault(r => r.Model == model && r.LeadTimeHours == lead && r.Metric == $"roc_auc@{tag}") is { } auc
                ? $" AUC {auc.Value.ToString("0.000", CultureInfo.InvariantCulture)}" : "",
            markerSize: 5, $"{variable}: ROC, event {tag}", "false-alarm rate", "hit rate", Alignment.LowerRight, dir, $"roc_{variable}_{tag}");

    /// <summary>
    /// Curves on the unit square with the no-skill diagonal (reliability diagrams, ROC curves): per model, the
    /// <paramref name="ySeries"/> rows against the <paramref name="xSeries"/> rows at two leads (dashed early, solid late).
    /// </summary>
    static string? UnitSquareCurves(List<ScoreRow> rows, string ySeries, string xSeries, Func<string, double, string> legendSuffix,
        int markerSize, string title, string xLabel, string yLabel, Alignment legend, string dir, string file)
    {
        var models = rows.Where(r => MetricName.Parse(r.Metric).Series == ySeries).Select(r => r.Model).Distinct().Order(StringComparer.Ordinal).ToList();
        if (models.Count == 0) return null;
        var p = new Plot();
        var diag = p.Add.Line(0, 0, 1, 1);
        diag.LinePattern = LinePattern.Dashed;
        diag.Color = Colors.Gray;
        for (int mi = 0; mi < models.Count; mi++)
        {
            var leads = Leads(rows, r => r.Model == models[mi] && MetricName.Parse(r.Metric).Series == ySeries);
            foreach (var (lead, pattern) in Pick(leads, 2).Zip(new[] { LinePattern.Dashed, LinePattern.Solid }.TakeLast(Math.Min(2, leads.Count))))
            {
                var y = Series(rows, models[mi], lead, ySeries);
                var x = Series(rows, models[mi], lead, xSeries);
                var keep = Enumerable.Range(0, Math.Min(y.Length, x.Length)).Where(k => !double.IsNaN(y[k]) && !double.IsNaN(x[k])).ToList();
                if (keep.Count == 0) continue;
                var s = p.Add.Scatter(keep.Select(k => x[k]).ToArray(), keep.Select(k => y[k]).ToArray());
                s.LegendText = $"{models[mi]} {Lead(lead)}" + legendSuffix(models[mi], lead);
                s.Color = Palette.GetColor(mi);
                s.LinePattern = pattern;
                s.LineWidth = 2;
                s.MarkerSize = markerSize;
            }
        }
        p.Axes.SetLimits(0, 1, 0, 1);
        p.Title(title);
        p.XLabel(xLabel);
        p.YLabel(yLabel);
        p.ShowLegend(legend);
        return Save(p, dir, file);
    }

    public static string Map(ScoreMap map, string dir)
    {
        int nlat = map.Lat.Length, nlon = map.Lon.Length;
        // Heatmap row 0 is drawn at the top: put the northernmost latitude first.
        bool southFirst = nlat > 1 && map.Lat[0] < map.Lat[^1];
        var z = new double[nlat, nlon];
        for (int i = 0; i < nlat; i++)
            for (int j = 0; j < nlon; j++)
                z[i, j] = map.Values[(southFirst ? nlat - 1 - i : i) * nlon + j];
        var p = new Plot();
        var hm = p.Add.Heatmap(z);
        hm.Colormap = new ScottPlot.Colormaps.Viridis();
        double dlat = nlat > 1 ? Math.Abs(map.Lat[1] - map.Lat[0]) : 1, dlon = nlon > 1 ? Math.Abs(map.Lon[1] - map.Lon[0]) : 1;
        double north = map.Lat.Max(), south = map.Lat.Min();
        var extent = new CoordinateRect(map.Lon[0] - dlon / 2, map.Lon[^1] + dlon / 2, south - dlat / 2, north + dlat / 2);
        hm.Extent = extent;
        p.Axes.SetLimits(extent.Left, extent.Right, extent.Bottom, extent.Top);
        if (map.Quantity == "efi") hm.ManualRange = new ScottPlot.Range(-1, 1);
        p.Add.ColorBar(hm);
        p.Title($"{map.Quantity.ToUpperInvariant()} {map.Model} {map.Variable} {map.InitTime:yyyy-MM-dd HH}Z {Lead(map.LeadTimeHours)}");
        p.XLabel("longitude (deg)");
        p.YLabel("latitude (deg)");
        return Save(p, dir, $"{map.Quantity}_{map.Model}_{map.Variable}_{map.InitTime:yyyyMMddHH}_{map.LeadTimeHours}h");
    }
}
