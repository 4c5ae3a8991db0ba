using System.Globalization;
using Ensemble.Core;

namespace Ensemble.Scoring.Tables;

/// <summary>
/// Parsed form of a score-table metric name <c>base[@tag][:index]</c>. Scalar scores use the base alone
/// ("crps"); scores of an extreme event carry the event tag ("brier@p95": truth above its 95th
/// percentile, "@p05": below the 5th); curves and histograms carry the point or bin index
/// ("rank:3", "spectrum_members:12", "roc_hr@p95:4"). See docs/algorithms/scoring.md §8.
/// </summary>
public readonly record struct MetricName(string Base, string? Tag, int? Index)
{
    public override string ToString() =>
        Base + (Tag is null ? "" : "@" + Tag) + (Index is null ? "" : ":" + Index.Value.ToString(CultureInfo.InvariantCulture));

    /// <summary>The name without its index ("roc_hr@p95:4" → "roc_hr@p95"): one curve or histogram.</summary>
    public string Series => Base + (Tag is null ? "" : "@" + Tag);

    public static MetricName Parse(string metric)
    {
        string s = metric.Trim();
        int? index = null;
        int colon = s.LastIndexOf(':');
        if (colon >= 0)
        {
            if (!int.TryParse(s[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int i))
                throw new EnsembleException($"metric '{metric}': the part after ':' must be a non-negative integer index");
            index = i;
            s = s[..colon];
        }
        string? tag = null;
        int at = s.IndexOf('@');
        if (at >= 0) { tag = s[(at + 1)..]; s = s[..at]; }
        if (s.Length == 0) throw new EnsembleException($"metric '{metric}': empty name");
        return new MetricName(s, tag, index);
    }

    /// <summary>Event tag for a truth percentile: 95 → "p95", 99.9 → "p99.9", 5 → "p05".</summary>
    public static string PercentileTag(double percent) =>
        "p" + (percent < 10 ? "0" : "") + percent.ToString("0.###", CultureInfo.InvariantCulture);
}
