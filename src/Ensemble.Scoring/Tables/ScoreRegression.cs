using System.Globalization;
using System.Text;
using Ensemble.Core;

namespace Ensemble.Scoring.Tables;

/// <summary>Which way a metric improves.</summary>
public enum MetricSense { LowerIsBetter, HigherIsBetter, CloserToOneIsBetter }

/// <summary>One compared score: baseline and new value, the allowed limit and whether it got worse.</summary>
public sealed record RegressionItem(string Model, string Variable, double LeadTimeHours, string Metric, string Weighting,
    double Baseline, double Current, double Limit, bool Worse, string Reason);

public sealed record RegressionResult(IReadOnlyList<RegressionItem> Compared, IReadOnlyList<RegressionItem> Worse)
{
    public bool Passed => Worse.Count == 0;
}

/// <summary>
/// Skill regression check (issue 7, "Skill regression in CI"): compares the aggregated rows (empty init_time)
/// of a new score table with a baseline per (model, variable, lead, metric, weighting). Relative tolerance τ:
/// lower-is-better metrics (crps, rmse, brier*, twcrps*) are worse when new &gt; base + τ|base|; roc_auc when
/// new &lt; base − τ|base|; ssr when |new − 1| &gt; |base − 1| + τ·base (the distance from 1 may grow by τ of the
/// ratio itself, so a baseline of exactly 1 still tolerates libtorch/BLAS noise). A NaN where the baseline is
/// finite, and a baseline row missing from the new table, are regressions. Metrics without a sense (spread,
/// efi, curves) are only compared when asked for explicitly, which is an error.
/// <para>
/// Rounding floor: a change is only a regression if it also exceeds <see cref="RoundingFraction"/> of its series' scale
/// (the largest |value| of the same model, variable, metric and weighting over all leads), and an ssr is not compared
/// where the rmse of the same row is at that level. At lead 0 an ensemble whose mean equals the analysis has an rmse
/// of ≈ 1e−15 (float rounding), which any change of summation order moves by percents, and its ssr (spread / rmse) is
/// then ≈ 1e7 and just as arbitrary: an exact CI gate (τ = 1e−6) flagged both whenever the model code changed its rounding.
/// </para>
/// </summary>
public static class ScoreRegression
{
    /// <summary>Changes below this fraction of a series' largest |value| are float rounding, not skill.</summary>
    public const double RoundingFraction = 1e-6;

    /// <summary>Default metrics checked when none are given.</summary>
    public static readonly string[] DefaultMetrics = ["crps", "rmse", "ssr"];

    public static MetricSense? SenseOf(string metric)
    {
        var n = MetricName.Parse(metric);
        if (n.Index is not null) return null;
        return n.Base switch
        {
            "crps" or "rmse" or "brier" or "brier_fair" or "twcrps" => MetricSense.LowerIsBetter,
            "roc_auc" => MetricSense.HigherIsBetter,
            "ssr" => MetricSense.CloserToOneIsBetter,
            _ => null,
        };
    }

    /// <summary>
    /// <paramref name="metrics"/>: metric names or bases ("brier" selects brier@p95 …); null → <see cref="DefaultMetrics"/>.
    /// Throws <see cref="EnsembleException"/> for a negative tolerance, a metric without a sense, or no overlapping rows.
    /// </summary>
    public static RegressionResult Compare(ScoreTable current, ScoreTable baseline, double tolerance, IReadOnlyList<string>? metrics = null)
    {
        if (!(tolerance >= 0)) throw new EnsembleException($"regress: tolerance {tolerance} must be ≥ 0");
        var wanted = (metrics ?? DefaultMetrics).Select(m => m.Trim()).Where(m => m.Length > 0).ToList();
        foreach (var m in wanted)
            if (SenseOf(m) is null)
                throw new EnsembleException($"regress: metric '{m}' has no better/worse sense (use crps, rmse, ssr, brier, brier_fair, twcrps or roc_auc, with an event tag if needed)");
        bool Selected(string metric) =>
            SenseOf(metric) is not null && wanted.Any(w => w == metric || (!w.Contains('@') && MetricName.Parse(metric).Base == w));
        static (string, string, double, string, string) Key(ScoreRow r) => (r.Model, r.Variable, r.LeadTimeHours, r.Metric, r.Weighting);
        var now = new Dictionary<(string, string, double, string, string), ScoreRow>();
        foreach (var r in current.Rows.Where(r => r.IsAggregate && Selected(r.Metric))) now[Key(r)] = r;
        var basis = baseline.Rows.Where(r => r.IsAggregate && Selected(r.Metric)).ToList();
        if (basis.Count == 0)
            throw new EnsembleException($"regress: the baseline has no aggregated rows of {string.Join(", ", wanted)}");
        if (!basis.Any(b => now.ContainsKey(Key(b))))
            throw new EnsembleException($"regress: no overlapping rows (model, variable, lead, metric, weighting) between the new scores and the baseline for {string.Join(", ", wanted)}");
        // Scale of each series (model, variable, metric, weighting) over its leads, from every aggregated baseline row.
        var scale = baseline.Rows.Where(r => r.IsAggregate && double.IsFinite(r.Value))
            .GroupBy(r => (r.Model, r.Variable, r.Metric, r.Weighting))
            .ToDictionary(g => g.Key, g => g.Max(r => Math.Abs(r.Value)));
        var rmse = baseline.Rows.Where(r => r.IsAggregate && r.Metric == "rmse")
            .GroupBy(r => (r.Model, r.Variable, r.LeadTimeHours, r.Weighting)).ToDictionary(g => g.Key, g => g.First().Value);
        double Floor(string model, string variable, string metric, string weighting) =>
            RoundingFraction * scale.GetValueOrDefault((model, variable, metric, weighting));
        var compared = new List<RegressionItem>();
        foreach (var b in basis.OrderBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Variable, StringComparer.Ordinal).ThenBy(r => r.Metric, StringComparer.Ordinal).ThenBy(r => r.LeadTimeHours))
        {
            var sense = SenseOf(b.Metric)!.Value;
            double slack = Math.Max(tolerance * Math.Abs(b.Value), Floor(b.Model, b.Variable, b.Metric, b.Weighting));
            double limit = sense switch
            {
                MetricSense.LowerIsBetter => b.Value + slack,
                MetricSense.HigherIsBetter => b.Value - slack,
                _ => Math.Abs(b.Value - 1) + tolerance * Math.Abs(b.Value),
            };
            if (sense == MetricSense.CloserToOneIsBetter
                && rmse.TryGetValue((b.Model, b.Variable, b.LeadTimeHours, b.Weighting), out double e)
                && Math.Abs(e) <= Floor(b.Model, b.Variable, "rmse", b.Weighting))
            {
                now.TryGetValue(Key(b), out var skipped);
                compared.Add(new RegressionItem(b.Model, b.Variable, b.LeadTimeHours, b.Metric, b.Weighting, b.Value,
                    skipped?.Value ?? double.NaN, limit, false, "not compared: rmse at rounding level"));
                continue;
            }
            if (!now.TryGetValue(Key(b), out var c))
            {
                compared.Add(new RegressionItem(b.Model, b.Variable, b.LeadTimeHours, b.Metric, b.Weighting, b.Value, double.NaN, limit, true, "missing"));
                continue;
            }
            bool worse; string reason;
            if (double.IsNaN(c.Value)) { worse = !double.IsNaN(b.Value); reason = worse ? "NaN" : ""; }
            else if (double.IsNaN(b.Value)) { worse = false; reason = ""; }
            else
            {
                worse = sense switch
                {
                    MetricSense.LowerIsBetter => c.Value > limit,
                    MetricSense.HigherIsBetter => c.Value < limit,
                    _ => Math.Abs(c.Value - 1) > limit,
                };
                reason = worse ? sense switch
                {
                    MetricSense.LowerIsBetter => "higher",
                    MetricSense.HigherIsBetter => "lower",
                    _ => "further from 1",
                } : "";
            }
            compared.Add(new RegressionItem(b.Model, b.Variable, b.LeadTimeHours, b.Metric, b.Weighting, b.Value, c.Value, limit, worse, reason));
        }
        return new RegressionResult(compared, compared.Where(x => x.Worse).ToList());
    }

    /// <summary>Fixed-width table of the given items (what got worse), relative change in percent.</summary>
    public static string Format(IEnumerable<RegressionItem> items)
    {
        var list = items.ToList();
        string[] head = ["model", "variable", "lead_h", "metric", "baseline", "new", "change", "limit", "why"];
        var cells = list.Select(i => new[]
        {
            i.Model, i.Variable, i.LeadTimeHours.ToString("0.##", CultureInfo.InvariantCulture), i.Metric,
            G(i.Baseline), G(i.Current),
            double.IsNaN(i.Current) || i.Baseline == 0 ? "" : ((i.Current - i.Baseline) / Math.Abs(i.Baseline) * 100).ToString("+0.00;-0.00", CultureInfo.InvariantCulture) + " %",
            (i.Metric.StartsWith("ssr", StringComparison.Ordinal) ? "|x-1| ≤ " : i.Metric.StartsWith("roc_auc", StringComparison.Ordinal) ? "≥ " : "≤ ") + G(i.Limit),
            i.Reason,
        }).ToList();
        var widths = head.Select((h, k) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[k].Length))).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine(string.Join("  ", head.Select((h, k) => h.PadRight(widths[k]))).TrimEnd());
        foreach (var c in cells) sb.AppendLine(string.Join("  ", c.Select((x, k) => x.PadRight(widths[k]))).TrimEnd());
        return sb.ToString();

        static string G(double v) => double.IsNaN(v) ? "NaN" : v.ToString("G6", CultureInfo.InvariantCulture);
    }
}
