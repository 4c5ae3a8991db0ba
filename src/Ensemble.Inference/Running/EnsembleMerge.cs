using System.Text.Json;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Inference.Statistics;
using Ensemble.Scoring.Tables;

namespace Ensemble.Inference.Running;

/// <summary>What <c>summary.json</c> holds after a merge.</summary>
public sealed record MergeSummary(
    string Name, int InitTimes, int Members, int Items, IReadOnlyList<FlaggedMember> Flagged, int ScoreRows,
    string? Scores, string? Fields, IReadOnlyList<RunSummary> Ranks);

/// <summary>
/// Combines a finished run directory: per initial time, the work items' statistics are merged in plan order (bit-identical
/// for any world size) and finalised; area-weighted scores go to scores.parquet/.csv; with format netcdf the zarr store
/// is converted to fields.nc; summary.json lists flagged members. Idempotent: running it again rewrites the same files.
/// </summary>
public static class EnsembleMerge
{
    public static MergeSummary Execute(string runDirectory)
    {
        var dir = new RunDirectory(runDirectory);
        var manifest = RunManifest.Read(dir.RunJson);
        var config = manifest.RunConfig();
        var plan = manifest.Plan();
        var missing = plan.Items.Where(i => !File.Exists(dir.ItemDone(i.Index))).ToList();
        if (missing.Count > 0)
            throw new EnsembleException($"{dir.Root}: {missing.Count} of {plan.Items.Count} work items are not done (first: item {missing[0].Index}); rerun `ensemble run` with the same config to complete them");
        var records = plan.Items.Select(i => ReadRecord(dir.ItemDone(i.Index))).ToList();
        var flagged = records.SelectMany(r => r.Flagged).OrderBy(f => f.InitTime).ThenBy(f => f.Member).ToList();
        var rows = new List<ScoreRow>();
        string? scores = null;
        if (config.Statistics.Enabled)
        {
            string model = config.Name;
            for (int t = 0; t < plan.InitTimes.Count; t++)
            {
                var items = plan.Items.Where(i => i.InitTimeIndex == t).ToList();     // plan order
                var result = StatisticsMerge.MergeInitTime(
                    items.Select(i => dir.ItemStats(i.Index)).ToList(),
                    config.Statistics.Crps ? items.Select(i => dir.ItemSpill(i.Index)).ToList() : [],
                    dir.InitTimeDir(plan.InitTimes[t]), manifest.StatisticsVariables, manifest.LeadHours, manifest.Lat, model,
                    ScoreRow.FormatInitTime(plan.InitTimes[t]), config.Statistics.Crps, config.Statistics.CrpsBlockMb, config.Statistics.RankSeed);
                using (result.Merged) rows.AddRange(result.Rows);
            }
            var table = new ScoreTable(rows);
            table.Metadata["campaign"] = config.Name;
            table.Metadata["flagged_members"] = flagged.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            table.WriteParquetAndCsv(dir.Scores);
            scores = dir.Scores;
        }
        string? fields = manifest.Format switch
        {
            "zarr" => dir.FieldsZarr,
            "netcdf" => dir.FieldsNetCdf,
            _ => null,
        };
        if (manifest.Format == "netcdf") EnsembleStore.ToNetCdf(dir.FieldsZarr, dir.FieldsNetCdf);
        var ranks = Directory.GetFiles(dir.StateDir, "rank_*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize<RunSummary>(File.ReadAllText(f), YamlConfig.Options)!).ToList();
        var summary = new MergeSummary(config.Name, plan.InitTimes.Count, plan.TotalMembers, plan.Items.Count, flagged, rows.Count, scores, fields, ranks);
        AtomicFile.WriteAllText(dir.Summary, JsonSerializer.Serialize(summary, YamlConfig.Options));
        return summary;
    }

    static ItemRecord ReadRecord(string path)
    {
        try { return JsonSerializer.Deserialize<ItemRecord>(File.ReadAllText(path), YamlConfig.Options) ?? throw new EnsembleException($"{path}: empty"); }
        catch (JsonException e) { throw new EnsembleException($"{path}: unreadable work-item record ({e.Message.Split('.')[0]})"); }
    }
}
