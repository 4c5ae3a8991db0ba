using Ensemble.Core;
using System.Text.Json.Nodes;
using Ensemble.Inference.Planning;
using Ensemble.Inference.Running;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// The ML ensemble: checkpoints × bred-vector (or other) ± pairs (+ control) for the hindcast initial times, through
/// the runner (fields in zarr/netCDF, float64 streaming statistics, resume by work item). A crash resumes in place:
/// the runner skips its finished work items.
/// </summary>
public sealed class MlEnsembleStage(IReadOnlyList<string> dependsOn) : CampaignStage
{
    public const string StageName = "ml-ensemble";
    public const string RunFolder = "run";
    /// <summary>The runner config this stage executes, written before it runs (`ensemble run --config` / SLURM use it).</summary>
    public const string RunConfigFile = "run-config.yaml";
    public override string Name => StageName;
    public override IReadOnlyList<string> DependsOn => dependsOn;

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject
    {
        ["data"] = ctx.Config.Data is null ? null : CampaignData.Fingerprint(ctx),
        ["seed"] = ctx.Config.Seed,
        ["ensemble"] = JsonNode.Parse(Core.Config.YamlConfig.Show(ctx.Config.Ensemble)),
        ["perturbation"] = RunConfigBuilder.Perturbation(ctx),
        ["checkpoints"] = CampaignCheckpoints.Fingerprints(ctx),
        ["scored_variables"] = ctx.Config.Scores.Variables is { } v ? new JsonArray(v.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()) : null,
    };

    /// <summary>The run config this stage executes (also what `--slurm-submit` hands to the cluster).</summary>
    public static Inference.Config.EnsembleRunConfig RunConfig(CampaignContext ctx)
    {
        var e = ctx.Config.Ensemble;
        var variables = e.Output.Variables ?? ctx.Config.Scores.Variables;
        return RunConfigBuilder.Build(ctx, ctx.Config.Name, e.InitTimes.Expand("ensemble.init_times"), e.Pairs, e.Control,
            RunConfigBuilder.Perturbation(ctx), Path.Combine(ctx.StageDirectory(StageName), RunFolder),
            e.Output.Format, variables, e.Output.LeadTimes, statistics: true, e.Output);
    }

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var config = RunConfig(ctx);
        WriteRunConfig(ctx, config);
        var progress = new SyncProgress<RunProgress>(p => ctx.Report(Name,
            $"{p.MemberStepsPerSecond:F1} member-steps/s" + (p.Eta is { } eta ? $", ETA {eta:hh\\:mm\\:ss}" : ""), p.MemberStepsDone, p.MemberStepsTotal));
        var summary = EnsembleRun.Execute(config, RankInfo.Single, new RunOptions { Warning = ctx.Events.Warning }, progress, cancel);
        return new JsonObject
        {
            ["run"] = RunFolder,
            ["member_steps"] = summary.MemberSteps,
            ["member_steps_per_second"] = summary.MemberStepsPerSecond,
            ["flagged_members"] = summary.Flagged.Count,
        };
    }

    /// <summary>Writes the runner config (JSON, which is YAML) beside the run folder and returns its path.</summary>
    public static string WriteRunConfig(CampaignContext ctx, Inference.Config.EnsembleRunConfig config)
    {
        string path = Path.Combine(ctx.StageDirectory(StageName), RunConfigFile);
        Core.AtomicFile.WriteAllText(path, "# Written by `ensemble campaign`: the ML ensemble of this campaign as an `ensemble run` config.\n" + config.ToJson() + "\n");
        return path;
    }

    public static string FieldsPath(CampaignContext ctx)
    {
        string run = Path.Combine(ctx.StageDirectory(StageName), RunFolder);
        return ctx.Config.Ensemble.Output.Format == "netcdf" ? Path.Combine(run, "fields.nc") : Path.Combine(run, "fields.zarr");
    }
}
