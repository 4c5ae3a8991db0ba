using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;

namespace Ensemble.Campaigns;

/// <summary>The stages a config asks for, in dependency order.</summary>
public static class CampaignPlan
{
    public static IReadOnlyList<CampaignStage> Stages(CampaignConfig config)
    {
        var stages = new List<CampaignStage>();
        var data = new List<string>();
        if (config.World is not null)
        {
            stages.Add(new WorldStage());
            data.Add(WorldStage.StageName);
        }
        var models = new List<string>(data);
        for (int k = 0; k < (config.Checkpoints.Train?.Count ?? 0); k++)
        {
            stages.Add(new TrainStage(k, data));
            models.Add(TrainStage.NameOf(k));
        }
        stages.Add(new SkillStage([.. models]));
        var afterSkill = new List<string>(models) { SkillStage.StageName };
        var scoreInputs = new List<string>();
        if (config.Climate.Enabled)
        {
            stages.Add(new ClimateStage([.. afterSkill]));
            scoreInputs.Add(ClimateStage.StageName);
        }
        stages.Add(new MlEnsembleStage([.. afterSkill]));
        scoreInputs.Add(MlEnsembleStage.StageName);
        var forecasts = new List<(string, Func<CampaignContext, string>)> { (ScoresStage.MlModel, MlEnsembleStage.FieldsPath) };
        if (config.Baseline.Physics)
        {
            stages.Add(new PhysicsBaselineStage());
            scoreInputs.Add(PhysicsBaselineStage.StageName);
            forecasts.Add((PhysicsBaselineStage.Model, PhysicsBaselineStage.FieldsPath));
        }
        stages.Add(new ScoresStage([.. data, .. scoreInputs], forecasts));
        if (config.Report.Enabled) stages.Add(new ReportStage());
        return stages;
    }
}
