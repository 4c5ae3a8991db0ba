using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.World;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// The physics baseline (the role IFS ENS plays in HENS): the world's own solver run as an ensemble from the truth's
/// exact restart states at the hindcast initial times, with seeded initial perturbations of the vorticity
/// (<see cref="WorldEnsembleRun"/>), written in the same ensemble layout as the ML ensemble.
/// </summary>
public sealed class PhysicsBaselineStage : CampaignStage
{
    public const string StageName = "physics-ensemble";
    public const string FieldsFolder = "fields.zarr";
    public const string Model = "physics-ensemble";
    public override string Name => StageName;
    public override IReadOnlyList<string> DependsOn => [WorldStage.StageName];

    public static int Members(CampaignContext ctx) => ctx.Config.Baseline.Members
        ?? CampaignCheckpoints.All(ctx).Count * (2 * ctx.Config.Ensemble.Pairs + (ctx.Config.Ensemble.Control ? 1 : 0));

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject
    {
        ["seed"] = ctx.Config.Seed,
        ["members"] = Members(ctx),
        ["perturbation_scale"] = ctx.Config.Baseline.PerturbationScale,
        ["init_times"] = new JsonArray(ctx.Config.Ensemble.InitTimes.Expand("ensemble.init_times").Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
        ["steps"] = ctx.Config.Ensemble.Steps,
    };

    public static string FieldsPath(CampaignContext ctx) => Path.Combine(ctx.StageDirectory(StageName), FieldsFolder);

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var world = WorldStage.ResolveConfig(ctx);
        var inits = ctx.Config.Ensemble.InitTimes.Expand("ensemble.init_times");
        int steps = ctx.Config.Ensemble.Steps;
        int members = Members(ctx);
        string output = FieldsPath(ctx);
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);   // a resumed attempt restarts the (cheap) baseline
        var options = new WorldEnsembleOptions(world, CampaignData.Root(ctx), inits, members, steps, output,
            ctx.Config.Baseline.PerturbationScale, Seeds.Derive(ctx.Config.Seed, Seeds.Of("physics")));
        double total = (double)inits.Count * (steps + 1);
        WorldEnsembleRun.Execute(options, new SyncProgress<(int Time, int Lead)>(p => ctx.Report(Name, $"{inits[p.Time]:yyyy-MM-dd HH}Z +{p.Lead * world.OutputHours} h",
            p.Time * (steps + 1.0) + p.Lead + 1, total)), cancel);
        return new JsonObject { ["fields"] = FieldsFolder, ["members"] = members, ["init_times"] = inits.Count };
    }
}
