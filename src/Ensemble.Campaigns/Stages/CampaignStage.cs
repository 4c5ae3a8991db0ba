using System.Text.Json.Nodes;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// One step of a campaign. Its <see cref="Inputs"/> (plus the hashes of <see cref="DependsOn"/>) decide
/// whether a previous result can be reused; <see cref="Run"/> writes only inside its own folder and
/// returns a small results object recorded in stage.json.
/// </summary>
public abstract class CampaignStage
{
    public abstract string Name { get; }
    public virtual IReadOnlyList<string> DependsOn => [];
    public abstract JsonNode Inputs(CampaignContext context);
    /// <param name="directory">The stage's folder (exists; holds a previous unfinished attempt when <paramref name="resume"/>).</param>
    public abstract JsonObject Run(CampaignContext context, string directory, bool resume, CancellationToken cancel);
}
