using System.Text.Json.Nodes;
using Ensemble.Campaigns.Stages;
using Ensemble.Models.Packages;

namespace Ensemble.Campaigns;

/// <summary>A checkpoint of the campaign: a name, its model package folder, and what identifies its content.</summary>
public sealed record CampaignCheckpoint(int Index, string Name, string PackageDirectory, string? Stage, JsonNode Fingerprint);

/// <summary>The campaign's checkpoints in a fixed order: trained ones (checkpoint-0 …), then the listed packages.</summary>
public static class CampaignCheckpoints
{
    public static IReadOnlyList<CampaignCheckpoint> All(CampaignContext ctx)
    {
        var list = new List<CampaignCheckpoint>();
        int trained = ctx.Config.Checkpoints.Train?.Count ?? 0;
        for (int k = 0; k < trained; k++)
        {
            string stage = TrainStage.NameOf(k);
            list.Add(new CampaignCheckpoint(k, stage, Path.Combine(ctx.StageDirectory(stage), Models.Training.TrainingRun.PackageFolder), stage,
                JsonValue.Create(stage)!));
        }
        foreach (var p in ctx.Config.Checkpoints.Packages)
        {
            string dir = ctx.Config.Resolve(p);
            list.Add(new CampaignCheckpoint(list.Count, $"package-{list.Count - trained}-{Path.GetFileName(dir.TrimEnd('/'))}", dir, null, Fingerprint(dir)));
        }
        return list;
    }

    /// <summary>Names of the training stages (dependencies of everything that runs the models).</summary>
    public static IReadOnlyList<string> Stages(CampaignContext ctx) => All(ctx).Where(c => c.Stage != null).Select(c => c.Stage!).ToList();

    /// <summary>
    /// An external package's identity: the bytes of config.json and the statistics, and the size and write time
    /// of the checkpoint (hashing multi-GB weights on every invocation would cost minutes at HENS scale).
    /// </summary>
    static JsonNode Fingerprint(string dir)
    {
        var o = new JsonObject { ["path"] = dir };
        foreach (var f in new[] { "config.json", "global_means.npy", "global_stds.npy" })
        {
            string path = Path.Combine(dir, f);
            o[f] = File.Exists(path) ? StageCache.FileHash(path) : null;
        }
        var ckpt = new FileInfo(Path.Combine(dir, ModelPackage.CheckpointPath));
        o["checkpoint"] = ckpt.Exists ? $"{ckpt.Length}@{ckpt.LastWriteTimeUtc:O}" : null;
        return o;
    }

    public static JsonArray Fingerprints(CampaignContext ctx) => new(All(ctx).Select(c => c.Fingerprint.DeepClone()).ToArray());
}
