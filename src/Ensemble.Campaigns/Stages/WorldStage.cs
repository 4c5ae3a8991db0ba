using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.World;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// Simulates the built-in world (configs/world-*.yaml plus the campaign's overrides) into a Makani training
/// set: data/train (training years), data/valid (validation and hindcast years), data/stats.
/// </summary>
public sealed class WorldStage : CampaignStage
{
    public const string StageName = "world";
    public const string DataFolder = "data";
    public override string Name => StageName;

    public static WorldConfig ResolveConfig(CampaignContext ctx)
    {
        var section = ctx.Config.World ?? throw new InvalidOperationException("world stage without a world section");
        string path = ctx.Config.Resolve(section.Config);
        var tree = YamlConfig.ToJson(File.ReadAllText(path), path) ?? new JsonObject();
        foreach (var o in section.Overrides)
            YamlConfig.ApplyOverride(tree, o, $"{ctx.Config.Source}: world.overrides");
        return WorldConfig.Parse(tree.ToJsonString(), path);
    }

    /// <summary>First validation year: the configured one, else the last calendar year the world covers.</summary>
    public static int ValidationFromYear(CampaignContext ctx, WorldConfig world)
    {
        if (ctx.Config.World?.ValidationFromYear is { } y) return y;
        var end = world.StartTime + TimeSpan.FromHours(world.OutputHours * (world.OutputCount - 1));
        if (end.Year == world.StartTime.Year)
            throw new EnsembleException($"{ctx.Config.Source}: key 'world': the world covers only {world.StartTime.Year}; simulate at least into a second year (days) or set world.validation_from_year");
        return end.Year;
    }

    public override JsonNode Inputs(CampaignContext ctx)
    {
        var world = ResolveConfig(ctx);
        return new JsonObject
        {
            ["world"] = YamlConfig.ToJson(world.ToYaml(), "world"),
            ["validation_from_year"] = ValidationFromYear(ctx, world),
        };
    }

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var world = ResolveConfig(ctx);
        int validFrom = ValidationFromYear(ctx, world);
        string data = Path.Combine(directory, DataFolder);
        if (Directory.Exists(data)) Directory.Delete(data, recursive: true);   // the simulator restarts from scratch
        var progress = new SyncProgress<WorldProgress>(p => ctx.Report(Name, $"{p.Phase} {p.ModelTime:yyyy-MM-dd}", p.Written, p.Total));
        WorldSimulator.Run(world, new MakaniWorldSink(data, validFrom), progress, cancel);
        return new JsonObject { ["data"] = DataFolder, ["validation_from_year"] = validFrom };
    }
}
