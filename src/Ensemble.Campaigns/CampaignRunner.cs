using System.Diagnostics;
using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;

namespace Ensemble.Campaigns;

/// <summary>One stage's fate in a campaign invocation.</summary>
public sealed record StageReport(string Stage, StageOutcome Outcome, string Hash, TimeSpan Elapsed);

/// <summary>
/// Runs a campaign's stages in dependency order, reusing every stage whose content hash matches a
/// completed result and resuming one that was interrupted (see <see cref="StageCache"/>).
/// </summary>
public static class CampaignRunner
{
    /// <summary>Every stage's content hash for a config, without running anything (what a rerun would reuse).</summary>
    public static IReadOnlyDictionary<string, string> Hashes(CampaignConfig config, IReadOnlyList<CampaignStage>? stages = null)
    {
        var ctx = new CampaignContext(config, CampaignEvents.Silent);
        foreach (var stage in stages ?? CampaignPlan.Stages(config))
            ctx.Hashes[stage.Name] = HashOf(ctx, stage, stage.Inputs(ctx));
        return ctx.Hashes;
    }

    /// <summary>Writes the ML ensemble's runner config (all stages before it must be complete) and returns its path.</summary>
    public static string WriteEnsembleRunConfig(CampaignConfig config)
    {
        var ctx = new CampaignContext(config, CampaignEvents.Silent);
        Directory.CreateDirectory(ctx.StageDirectory(MlEnsembleStage.StageName));
        return MlEnsembleStage.WriteRunConfig(ctx, MlEnsembleStage.RunConfig(ctx));
    }

    /// <summary>The ML ensemble's run folder (what a cluster merge job reads).</summary>
    public static string EnsembleRunDirectory(CampaignConfig config) =>
        Path.Combine(new StageCache(config.OutputDirectory).DirectoryOf(MlEnsembleStage.StageName), MlEnsembleStage.RunFolder);

    static string HashOf(CampaignContext ctx, CampaignStage stage, System.Text.Json.Nodes.JsonNode inputs) =>
        StageCache.Hash(stage.Name, inputs, stage.DependsOn.Select(d => ctx.Hashes.TryGetValue(d, out var h) ? h
            : throw new InvalidOperationException($"stage {stage.Name} depends on {d}, which has not been planned before it")));

    /// <param name="stopBefore">Run only the stages before this one (e.g. ml-ensemble when its work goes to a cluster).</param>
    public static IReadOnlyList<StageReport> Run(CampaignConfig config, CampaignEvents? events = null, CancellationToken cancel = default,
        IReadOnlyList<CampaignStage>? stages = null, string? stopBefore = null)
    {
        var ctx = new CampaignContext(config, events ?? CampaignEvents.Silent);
        stages ??= CampaignPlan.Stages(config);
        if (config.Threads is { } threads) TorchSharp.torch.set_num_threads(threads);
        Directory.CreateDirectory(ctx.Cache.Root);
        var reports = new List<StageReport>();
        if (stopBefore is not null && stages.All(s => s.Name != stopBefore))
            throw new InvalidOperationException($"no stage {stopBefore} in the plan");
        foreach (var stage in stages)
        {
            if (stage.Name == stopBefore) break;
            cancel.ThrowIfCancellationRequested();
            var inputs = stage.Inputs(ctx);
            string hash = HashOf(ctx, stage, inputs);
            ctx.Hashes[stage.Name] = hash;
            if (ctx.Cache.IsComplete(stage.Name, hash))
            {
                ctx.Events.Info($"{stage.Name}: up to date ({hash[..12]}), reused");
                reports.Add(new StageReport(stage.Name, StageOutcome.Reused, hash, TimeSpan.Zero));
                continue;
            }
            bool resume = ctx.Cache.Prepare(stage.Name, hash);
            ctx.Events.Info($"{stage.Name}: {(resume ? "resuming" : "running")} ({hash[..12]})");
            var clock = Stopwatch.StartNew();
            var results = stage.Run(ctx, ctx.StageDirectory(stage.Name), resume, cancel);
            ctx.Cache.Complete(stage.Name, hash, inputs, results);
            ctx.Events.Info($"{stage.Name}: done in {clock.Elapsed.TotalSeconds:F1} s");
            reports.Add(new StageReport(stage.Name, resume ? StageOutcome.Resumed : StageOutcome.Ran, hash, clock.Elapsed));
        }
        return reports;
    }
}
