using Ensemble.Core;
using System.Text.Json.Nodes;
using Ensemble.Inference.Planning;
using Ensemble.Inference.Running;
using Ensemble.Scoring.Climate;
using Ensemble.Scoring.Pipeline;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// The M-climate for the EFI: hindcasts of the ML system itself (every checkpoint × one ± pair, as the HENS
/// M-climate's 6 checkpoints × 1 pair) from the climate initial times, with the ensemble's lead times, reduced to
/// 101 percentiles per grid point, lead and day-of-year window (<see cref="ModelClimateFile"/>).
/// </summary>
public sealed class ClimateStage(IReadOnlyList<string> dependsOn) : CampaignStage
{
    public const string StageName = "climate";
    public const string FileName = "mclimate.npz";
    const string RunFolder = "hindcasts";
    public override string Name => StageName;
    public override IReadOnlyList<string> DependsOn => dependsOn;

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject
    {
        ["data"] = ctx.Config.Data is null ? null : CampaignData.Fingerprint(ctx),
        ["seed"] = ctx.Config.Seed,
        ["climate"] = JsonNode.Parse(Core.Config.YamlConfig.Show(ctx.Config.Climate)),
        ["steps"] = ctx.Config.Ensemble.Steps,
        ["lead_times"] = ctx.Config.Ensemble.Output.LeadTimes is { } l ? new JsonArray(l.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()) : null,
        ["variables"] = Variables(ctx) is { } v ? new JsonArray(v.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()) : null,
        ["perturbation"] = RunConfigBuilder.Perturbation(ctx),
        ["checkpoints"] = CampaignCheckpoints.Fingerprints(ctx),
    };

    static IReadOnlyList<string>? Variables(CampaignContext ctx) => ctx.Config.Scores.Variables ?? ctx.Config.Ensemble.Output.Variables;

    public static string FilePath(CampaignContext ctx) => Path.Combine(ctx.StageDirectory(StageName), FileName);

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var inits = ctx.Config.Climate.InitTimes.Expand("climate.init_times");
        var config = RunConfigBuilder.Build(ctx, $"{ctx.Config.Name}-mclimate", inits, pairs: 1, control: false,
            RunConfigBuilder.Perturbation(ctx), Path.Combine(directory, RunFolder), "zarr", Variables(ctx),
            ctx.Config.Ensemble.Output.LeadTimes, statistics: false);
        var progress = new SyncProgress<RunProgress>(p => ctx.Report(Name, "hindcasts", p.MemberStepsDone, p.MemberStepsTotal));
        var summary = EnsembleRun.Execute(config, RankInfo.Single, new RunOptions { Warning = ctx.Events.Warning }, progress, cancel);
        ctx.Report(Name, "percentiles", 0, 1);
        using var hindcasts = ForecastReader.Open(Path.Combine(directory, RunFolder, "fields.zarr"), "mclimate");
        var climate = ModelClimateFile.Build([hindcasts], FilePath(ctx), new ClimateBuildOptions { WindowHalfWidthDays = ctx.Config.Climate.WindowDays },
            new SyncProgress<string>(m => ctx.Report(Name, m, 0, 1)));
        return new JsonObject
        {
            ["file"] = FileName,
            ["hindcasts"] = inits.Count,
            ["members_per_hindcast"] = hindcasts.Variables.Values.First().Members,
            ["member_steps"] = summary.MemberSteps,
            ["variables"] = new JsonArray(climate.Variables.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
        };
    }
}
