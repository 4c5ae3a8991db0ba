namespace Ensemble.Scoring.Tables;

/// <summary>
/// One score: columns model, variable, init_time, lead_time_hours, metric, value, n_members, weighting.
/// <see cref="InitTime"/> is ISO-8601 ("yyyy-MM-ddTHH:mm:ss", UTC) for a per-initial-time score and empty
/// for the score aggregated over all initial times.
/// </summary>
public sealed record ScoreRow(
    string Model, string Variable, string InitTime, double LeadTimeHours, string Metric, double Value, int Members, string Weighting)
{
    public const string InitTimeFormat = "yyyy-MM-ddTHH:mm:ss";

    public bool IsAggregate => InitTime.Length == 0;

    public static string FormatInitTime(DateTime t) => t.ToString(InitTimeFormat, System.Globalization.CultureInfo.InvariantCulture);
}
