using Ensemble.Campaigns.Stages;
using Ensemble.Core;
using Ensemble.Data.Datasets;

namespace Ensemble.Campaigns;

/// <summary>Where a campaign's data live: the world stage's Makani set, or the user's Makani root.</summary>
public static class CampaignData
{
    public static string Root(CampaignContext ctx) => ctx.Config.Data is { } d
        ? ctx.Config.Resolve(d.Path)
        : Path.Combine(ctx.StageDirectory(WorldStage.StageName), WorldStage.DataFolder);

    public static (MakaniDataset Train, MakaniDataset Validation) TrainingSets(CampaignContext ctx)
    {
        string root = Root(ctx);
        return (new MakaniDataset(Path.Combine(root, "train")), new MakaniDataset(TruthFolder(ctx)));
    }

    /// <summary>The folder holding analyses/truth for the hindcast period.</summary>
    public static string TruthFolder(CampaignContext ctx)
    {
        string root = Root(ctx);
        if (ctx.Config.Data?.Truth is { } t) return Path.Combine(root, t);
        var folder = new[] { "valid", "validation", "test" }.Select(v => Path.Combine(root, v)).FirstOrDefault(Directory.Exists);
        return folder ?? throw new EnsembleException($"{root}: no valid/ or test/ folder with the hindcast period (Makani layout)");
    }

    /// <summary>A user data root's identity: data.json bytes plus name, size and write time of every year file.</summary>
    public static System.Text.Json.Nodes.JsonNode Fingerprint(CampaignContext ctx)
    {
        string root = Root(ctx);
        var o = new System.Text.Json.Nodes.JsonObject { ["path"] = root };
        string meta = Path.Combine(root, "data.json");
        o["data.json"] = File.Exists(meta) ? StageCache.FileHash(meta) : null;
        foreach (var f in Directory.EnumerateFiles(root, "*.h5", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(f);
            o[Path.GetRelativePath(root, f)] = $"{info.Length}@{info.LastWriteTimeUtc:O}";
        }
        return o;
    }

    public static MakaniDataset Truth(CampaignContext ctx) => new(TruthFolder(ctx));

    /// <summary>Index of a valid time in a dataset, or a one-line error naming the time and the covered span.</summary>
    public static int IndexOf(MakaniDataset data, DateTime time, string what)
    {
        for (int i = 0; i < data.Count; i++)
            if (data.TimeOf(i) == time) return i;
        throw new EnsembleException($"{what}: {time:yyyy-MM-ddTHH:mm}Z is not in the truth data ({data.TimeOf(0):yyyy-MM-ddTHH:mm}Z … {data.TimeOf(data.Count - 1):yyyy-MM-ddTHH:mm}Z, every {data.Step.TotalHours} h)");
    }
}
