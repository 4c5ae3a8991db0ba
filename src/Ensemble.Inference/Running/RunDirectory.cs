using System.Globalization;

namespace Ensemble.Inference.Running;

/// <summary>
/// The files of a run directory (docs/ensembles.md): <c>run.json</c> (resolved config and plan), <c>state/</c>
/// (one marker per completed work item, rank summaries), <c>statistics/items/</c> (per-item sums and member spills),
/// <c>statistics/&lt;init time&gt;/</c> (merged, finalised), <c>fields.zarr</c> / <c>fields.nc</c>, <c>scores.parquet</c>/<c>.csv</c>
/// and <c>summary.json</c>.
/// </summary>
public sealed class RunDirectory(string root)
{
    public string Root { get; } = Path.GetFullPath(root);
    public string RunJson => Path.Combine(Root, "run.json");
    public string StateDir => Path.Combine(Root, "state");
    public string ItemsDir => Path.Combine(Root, "statistics", "items");
    public string StatisticsDir => Path.Combine(Root, "statistics");
    public string FieldsZarr => Path.Combine(Root, "fields.zarr");
    public string FieldsNetCdf => Path.Combine(Root, "fields.nc");
    public string Scores => Path.Combine(Root, "scores.parquet");
    public string Summary => Path.Combine(Root, "summary.json");

    public string ItemDone(int item) => Path.Combine(StateDir, $"item_{item:D6}.done");
    public string ItemStats(int item) => Path.Combine(ItemsDir, $"item_{item:D6}.stats");
    public string ItemSpill(int item) => Path.Combine(ItemsDir, $"item_{item:D6}.members");
    public string RankSummary(int rank) => Path.Combine(StateDir, $"rank_{rank:D4}.json");
    public string InitTimeDir(DateTime t) => Path.Combine(StatisticsDir, t.ToString("yyyy-MM-ddTHH", CultureInfo.InvariantCulture));

    public void Create()
    {
        Directory.CreateDirectory(StateDir);
        Directory.CreateDirectory(ItemsDir);
    }
}
