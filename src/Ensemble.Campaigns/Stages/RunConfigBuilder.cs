using System.Text.Json.Nodes;
using Ensemble.Campaigns.Configuration;
using Ensemble.Core.Config;
using Ensemble.Inference.Config;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// Turns the campaign's ensemble section into the runner's <see cref="EnsembleRunConfig"/>: the campaign knows the
/// checkpoints (trained or listed), where the analyses are and where the skill table is; the user says only what
/// the ensemble is.
/// </summary>
public static class RunConfigBuilder
{
    /// <summary>The perturbation section with the skill table resolved: absent or "skill" means this campaign's skill stage.</summary>
    public static JsonObject Perturbation(CampaignContext ctx)
    {
        var p = (JsonObject?)ctx.Config.Ensemble.Perturbation?.DeepClone() ?? new JsonObject { ["method"] = "bred_vector" };
        string method = p["method"]?.GetValue<string>() ?? "bred_vector";
        bool needsSkill = p["amplitudes"] is null && method is "bred_vector" or "spherical_gaussian" or "gaussian";
        string? table = p["skill_table"]?.GetValue<string>();
        if (needsSkill && (table is null || table == "skill"))
            p["skill_table"] = Path.Combine(ctx.StageDirectory(SkillStage.StageName), SkillStage.TableFile);
        else if (table is not null && table != "skill")
            p["skill_table"] = ctx.Config.Resolve(table);
        if (needsSkill && p["skill_model"] is null) p["skill_model"] = SkillStage.AllCheckpoints;
        return p;
    }

    public static EnsembleRunConfig Build(CampaignContext ctx, string name, IReadOnlyList<DateTime> initTimes, int pairs, bool control,
        JsonObject perturbation, string runDirectory, string format, IReadOnlyList<string>? variables, IReadOnlyList<double>? leadTimes,
        bool statistics, OutputSection? output = null)
    {
        var e = ctx.Config.Ensemble;
        var tree = new JsonObject
        {
            ["name"] = name,
            ["seed"] = ctx.Config.Seed,
            ["models"] = new JsonArray(CampaignCheckpoints.All(ctx).Select(c => (JsonNode)JsonValue.Create(c.PackageDirectory)!).ToArray()),
            ["initial_conditions"] = new JsonObject
            {
                ["path"] = CampaignData.TruthFolder(ctx),
                ["times"] = new JsonArray(initTimes.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            },
            ["steps"] = e.Steps,
            ["members"] = new JsonObject { ["pairs"] = pairs, ["control"] = control },
            ["perturbation"] = perturbation,
            ["batch_size"] = int.TryParse(e.BatchSize, out int b) ? JsonValue.Create(b) : JsonValue.Create("auto"),
            ["device"] = ctx.Config.Device,
            ["threads"] = ctx.Config.Threads,
            ["output"] = new JsonObject
            {
                ["path"] = runDirectory,
                ["format"] = format,
                ["variables"] = variables is null ? null : new JsonArray(variables.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()),
                ["lead_times"] = leadTimes is null ? null : new JsonArray(leadTimes.Select(h => (JsonNode)JsonValue.Create(h)!).ToArray()),
                ["crop"] = output?.Crop is { } crop ? new JsonArray(crop.Select(x => (JsonNode)JsonValue.Create(x)!).ToArray()) : null,
                ["stride"] = output?.Stride ?? 1,
            },
            ["statistics"] = new JsonObject { ["enabled"] = statistics },
        };
        return YamlConfig.Bind<EnsembleRunConfig>(tree, $"{ctx.Config.Source} ({name})");
    }
}
