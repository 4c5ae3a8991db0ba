using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;

namespace Ensemble.Campaigns;

/// <summary>The stages a config asks for, in dependency order.</summary>
public static class CampaignPlan
{
    public static IReadOnlyList<CampaignStage> Stages(CampaignConfig config)
    {
        var stages = new List<CampaignStage>();
        var upstream = new List<string>();
        if (config.World is not null)
        {
            stages.Add(new WorldStage());
            upstream.Add(WorldStage.StageName);
        }
        for (int k = 0; k < (config.Checkpoints.Train?.Count ?? 0); k++)
        {
            stages.Add(new TrainStage(k));
            upstream.Add(TrainStage.NameOf(k));
        }
        stages.Add(new SkillStage([.. upstream]));
        return stages;
    }
}
