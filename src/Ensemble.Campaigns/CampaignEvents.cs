namespace Ensemble.Campaigns;

/// <summary>Progress of the running stage: a message and done/total work units.</summary>
public readonly record struct StageProgress(string Stage, string Message, double Done, double Total);

/// <summary>How a campaign reports to its caller (the CLI maps these to Serilog and the progress bar).</summary>
public sealed class CampaignEvents
{
    public Action<string> Info { get; init; } = _ => { };
    public Action<string> Warning { get; init; } = _ => { };
    public IProgress<StageProgress>? Progress { get; init; }

    public static readonly CampaignEvents Silent = new();
}
