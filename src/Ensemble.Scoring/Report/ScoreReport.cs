using System.Globalization;
using System.Net;
using System.Text;
using Ensemble.Core;
using Ensemble.Scoring.Tables;

namespace Ensemble.Scoring.Report;

/// <summary>What <see cref="ScoreReport.Write"/> produced.</summary>
public sealed record ReportResult(string IndexPath, IReadOnlyList<string> Plots);

/// <summary>
/// The evaluation report (docs/report.md): PNG plots (ScottPlot) from score tables — CRPS/RMSE/spread and
/// spread–skill vs lead per variable (every model, so ML vs baseline), rank histograms, member/mean/truth
/// degree and zonal spectra by lead, reliability diagrams and ROC curves of the event scores, EFI maps from an extras folder —
/// and one self-contained index.html with every plot embedded as a base64 data URI and the summary tables
/// of the aggregated scalar scores.
/// </summary>
public static class ScoreReport
{
    static readonly string[] SummaryBases = ["crps", "rmse", "spread", "ssr", "efi", "brier", "brier_fair", "twcrps", "roc_auc"];

    public static ReportResult Write(IReadOnlyList<ScoreTable> tables, string outputDirectory, IReadOnlyList<ScoreMap>? maps = null, string title = "Ensemble evaluation report")
    {
        var rows = tables.SelectMany(t => t.Rows).Where(r => r.IsAggregate).ToList();
        if (rows.Count == 0) throw new EnsembleException("report: the score tables hold no aggregated rows (init_time empty)");
        Directory.CreateDirectory(outputDirectory);
        var sections = new List<(string Heading, List<(string File, string Caption)> Plots)>();
        var plots = new List<string>();
        var variables = rows.Select(r => r.Variable).Distinct().Order(StringComparer.Ordinal).ToList();

        foreach (var v in variables)
        {
            var vr = rows.Where(r => r.Variable == v).ToList();
            var list = new List<(string, string)>();
            void Add(string? file, string caption) { if (file is not null) { list.Add((file, caption)); plots.Add(Path.Combine(outputDirectory, file)); } }
            Add(ReportPlots.SkillVsLead(vr, v, outputDirectory), $"{v}: CRPS (solid), ensemble-mean RMSE (dashed) and spread (dotted) against lead time, every model.");
            Add(ReportPlots.SpreadSkill(vr, v, outputDirectory), $"{v}: spread-skill ratio sqrt((M+1)/M)·spread/RMSE against lead time; 1 is a calibrated ensemble.");
            foreach (var model in vr.Select(r => r.Model).Distinct().Order(StringComparer.Ordinal))
            {
                Add(ReportPlots.RankHistogram(vr, v, model, outputDirectory), $"{v}, {model}: rank histograms (flat at 1/(M+1) when reliable; U-shape: underdispersive).");
                Add(ReportPlots.Spectra(vr, v, model, outputDirectory), $"{v}, {model}: degree spectra E(l) — mean of the member spectra (solid), spectrum of the ensemble mean (dashed), truth (dotted) — by lead time.");
                Add(ReportPlots.ZonalSpectra(vr, v, model, outputDirectory), $"{v}, {model}: zonal energy spectra S(k) (WB2 per-latitude FFT, averaged over a latitude band, 30°–60° N/S unless the table's zonal_spectrum note says otherwise) — members (solid), ensemble mean (dashed), truth (dotted) — by lead time.");
            }
            foreach (var tag in vr.Select(r => MetricName.Parse(r.Metric)).Where(n => n.Base == "reliability" && n.Tag is not null).Select(n => n.Tag!).Distinct())
            {
                Add(ReportPlots.Reliability(vr, v, tag, outputDirectory), $"{v}: reliability diagram of the event {tag} (observed frequency against forecast probability) at the shortest and longest lead.");
                Add(ReportPlots.RocCurves(vr, v, tag, outputDirectory), $"{v}: ROC curves of the event {tag} (hit rate against false-alarm rate) with the area under the curve.");
            }
            foreach (var tag in vr.Select(r => MetricName.Parse(r.Metric)).Where(n => n.Base == "roc_far" && n.Tag is not null).Select(n => n.Tag!).Distinct()
                         .Except(vr.Select(r => MetricName.Parse(r.Metric)).Where(n => n.Base == "reliability").Select(n => n.Tag!)))
                Add(ReportPlots.RocCurves(vr, v, tag, outputDirectory), $"{v}: ROC curves of the event {tag}.");
            sections.Add((v, list));
        }
        if (maps is { Count: > 0 })
        {
            var list = new List<(string, string)>();
            foreach (var map in maps.Take(8))
            {
                string file = ReportPlots.Map(map, outputDirectory);
                list.Add((file, $"{map.Quantity.ToUpperInvariant()} of {map.Model} {map.Variable}, initialised {map.InitTime:yyyy-MM-dd HH:mm} UTC, lead {map.LeadTimeHours} h."));
                plots.Add(Path.Combine(outputDirectory, file));
            }
            sections.Add(("Maps", list));
        }

        string index = Path.Combine(outputDirectory, "index.html");
        AtomicFile.WriteAllText(index, Html(title, tables, rows, sections, outputDirectory));
        return new ReportResult(index, plots);
    }

    static string Html(string title, IReadOnlyList<ScoreTable> tables, List<ScoreRow> rows, List<(string Heading, List<(string File, string Caption)> Plots)> sections, string dir)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title>\n<style>")
          .Append("body{font-family:sans-serif;margin:2em;max-width:1300px;color:#222}table{border-collapse:collapse;margin:0.5em 0 1.5em}")
          .Append("td,th{border:1px solid #bbb;padding:3px 8px;text-align:right;font-size:13px}th{background:#eee}td.l{text-align:left}")
          .Append("figure{display:inline-block;margin:0.5em;vertical-align:top;width:620px}img{width:600px;border:1px solid #ddd}figcaption{font-size:13px}")
          .Append("</style></head><body>\n<h1>").Append(E(title)).Append("</h1>\n");
        var models = rows.Select(r => r.Model).Distinct().Order(StringComparer.Ordinal).ToList();
        sb.Append("<p>Models: ").Append(E(string.Join(", ", models))).Append(". Weighting: ")
          .Append(E(string.Join(", ", rows.Select(r => r.Weighting).Distinct()))).Append(". Members: ")
          .Append(E(string.Join(", ", models.Select(m => $"{m} {string.Join("/", rows.Where(r => r.Model == m).Select(r => r.Members).Distinct())}")))).Append(".</p>\n");
        var notes = tables.SelectMany(t => t.Metadata).Where(kv => kv.Key is "ssr_correction" or "crps_estimator" or "event" or "zonal_spectrum").Distinct().ToList();
        if (notes.Count > 0)
        {
            sb.Append("<ul>");
            foreach (var (k, v) in notes) sb.Append("<li>").Append(E(k)).Append(": ").Append(E(v)).Append("</li>");
            sb.Append("</ul>\n");
        }
        sb.Append("<h2>Summary (aggregated over initial times)</h2>\n");
        foreach (var v in rows.Select(r => r.Variable).Distinct().Order(StringComparer.Ordinal))
        {
            var vr = rows.Where(r => r.Variable == v && MetricName.Parse(r.Metric).Index is null && SummaryBases.Contains(MetricName.Parse(r.Metric).Base)).ToList();
            if (vr.Count == 0) continue;
            var leads = vr.Select(r => r.LeadTimeHours).Distinct().Order().ToList();
            sb.Append("<h3>").Append(E(v)).Append("</h3>\n<table><tr><th>metric</th><th>model</th>");
            foreach (var l in leads) sb.Append("<th>+").Append(l.ToString("0.##", CultureInfo.InvariantCulture)).Append(" h</th>");
            sb.Append("</tr>\n");
            foreach (var g in vr.GroupBy(r => (r.Metric, r.Model)).OrderBy(g => Array.IndexOf(SummaryBases, MetricName.Parse(g.Key.Metric).Base)).ThenBy(g => g.Key.Metric, StringComparer.Ordinal).ThenBy(g => g.Key.Model, StringComparer.Ordinal))
            {
                sb.Append("<tr><td class=\"l\">").Append(E(g.Key.Metric)).Append("</td><td class=\"l\">").Append(E(g.Key.Model)).Append("</td>");
                foreach (var l in leads)
                {
                    var r = g.FirstOrDefault(x => x.LeadTimeHours == l);
                    sb.Append("<td>").Append(r is null ? "" : r.Value.ToString("G4", CultureInfo.InvariantCulture)).Append("</td>");
                }
                sb.Append("</tr>\n");
            }
            sb.Append("</table>\n");
        }
        foreach (var (heading, plots) in sections)
        {
            if (plots.Count == 0) continue;
            sb.Append("<h2>").Append(E(heading)).Append("</h2>\n");
            foreach (var (file, caption) in plots)
            {
                string b64 = Convert.ToBase64String(File.ReadAllBytes(Path.Combine(dir, file)));
                sb.Append("<figure><img alt=\"").Append(E(file)).Append("\" src=\"data:image/png;base64,").Append(b64)
                  .Append("\"><figcaption>").Append(E(caption)).Append("</figcaption></figure>\n");
            }
        }
        sb.Append("</body></html>\n");
        return sb.ToString();
    }
}
