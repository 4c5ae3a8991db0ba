using System.CommandLine;
using Ensemble.Campaigns;
using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble campaign CONFIG [key=value ...]`: runs a hindcast campaign, reusing or resuming its stages.</summary>
public static class CampaignCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var config = new Argument<FileInfo>("config") { Description = "Campaign YAML (configs/demo.yaml, configs/smoke.yaml, configs/hens-era5.yaml)" };
        var overrides = new Argument<string[]>("overrides") { Description = "Config overrides key.sub=value", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("campaign", "Run a hindcast campaign end to end: world, checkpoints, skill, M-climate, ML and physics ensembles, scores, report")
        {
            config, overrides,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Parse.GetValue(config)!.FullName, ctx.Parse.GetValue(overrides) ?? [])));
        return cmd;
    }

    public static int Run(CommandContext ctx, string configPath, string[] overrides)
    {
        var cfg = CampaignConfig.Load(configPath, overrides);
        ctx.Log.Information("Campaign {Name} → {Output}", cfg.Name, cfg.OutputDirectory);
        var reports = ProgressReporter.Run(ctx.Err, cfg.Name, update =>
        {
            var events = new CampaignEvents
            {
                Info = m => ctx.Log.Information("{Message}", m),
                Warning = m => ctx.Log.Warning("{Message}", m),
                Progress = new SyncProgress<StageProgress>(p => update($"{p.Stage}: {p.Message}", p.Done, p.Total)),
            };
            return CampaignRunner.Run(cfg, events);
        });
        foreach (var r in reports)
            ctx.Out.WriteLine($"{r.Stage,-20} {Describe(r.Outcome),-8} {r.Hash[..12]}  {r.Elapsed.TotalSeconds,8:F1} s");
        ctx.Log.Information("Campaign {Name} complete in {Output}", cfg.Name, cfg.OutputDirectory);
        return EnsembleCli.Ok;
    }

    static string Describe(StageOutcome o) => o switch
    {
        StageOutcome.Reused => "reused",
        StageOutcome.Resumed => "resumed",
        _ => "ran",
    };
}

/// <summary>`ensemble config show CONFIG [key=value ...]`: the resolved campaign config (after overrides and defaults).</summary>
public static class ConfigCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var config = new Argument<FileInfo>("config") { Description = "Campaign YAML" };
        var overrides = new Argument<string[]>("overrides") { Description = "Config overrides key.sub=value", Arity = ArgumentArity.ZeroOrMore };
        var show = new Command("show", "Print the resolved campaign config (defaults filled in, overrides applied, validated)") { config, overrides };
        show.SetAction(parse => wrap(parse, ctx =>
        {
            var cfg = CampaignConfig.Load(ctx.Parse.GetValue(config)!.FullName, ctx.Parse.GetValue(overrides) ?? []);
            ctx.Out.WriteLine(cfg.Show());
            return EnsembleCli.Ok;
        }));
        var cmd = new Command("config", "Campaign configs");
        cmd.Subcommands.Add(show);
        return cmd;
    }
}
