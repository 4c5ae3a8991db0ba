using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;
using Ensemble.Core;
using static TorchSharp.torch;

namespace Ensemble.Campaigns;

/// <summary>What stages share while a campaign runs: the config, the cache, the device and results of earlier stages.</summary>
public sealed class CampaignContext(CampaignConfig config, CampaignEvents events)
{
    public CampaignConfig Config { get; } = config;
    public CampaignEvents Events { get; } = events;
    public StageCache Cache { get; } = new(config.OutputDirectory);
    public Device Device { get; } = Devices.Parse(config.Device);
    /// <summary>Hash of every stage resolved so far, by name.</summary>
    public Dictionary<string, string> Hashes { get; } = new();

    public string StageDirectory(string stage) => Cache.DirectoryOf(stage);

    public void Report(string stage, string message, double done, double total) =>
        Events.Progress?.Report(new StageProgress(stage, message, done, total));
}
