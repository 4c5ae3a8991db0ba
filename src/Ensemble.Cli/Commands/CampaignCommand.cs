using System.CommandLine;
using Ensemble.Campaigns;
using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;
using Ensemble.Core;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble campaign CONFIG [key=value ...]`: runs a hindcast campaign, reusing or resuming its stages.</summary>
public static class CampaignCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var config = new Argument<FileInfo>("config") { Description = "Campaign YAML (configs/demo.yaml, configs/smoke.yaml, configs/hens-era5.yaml)" };
        var overrides = new Argument<string[]>("overrides") { Description = "Config overrides key.sub=value", Arity = ArgumentArity.ZeroOrMore };
        var submit = new Option<bool>("--slurm-submit") { Description = "Run the stages before the ML ensemble here, submit the ensemble to SLURM (with --tasks or --array), chain merge and a job finishing the campaign" };
        var tasks = new Option<int?>("--tasks") { Description = "With --slurm-submit: one job of N srun tasks (one per GPU on GPU nodes)" };
        var array = new Option<int?>("--array") { Description = "With --slurm-submit: a job array of N elements" };
        var gpus = new Option<int>("--gpus-per-task") { Description = "With --slurm-submit: GPUs per rank (0 = CPU)", DefaultValueFactory = _ => 0 };
        var partition = new Option<string?>("--partition") { Description = "With --slurm-submit: SLURM partition" };
        var time = new Option<string?>("--time") { Description = "With --slurm-submit: time limit of the ensemble job (e.g. 1:30:00)" };
        var dry = new Option<bool>("--dry-run") { Description = "With --slurm-submit: print the sbatch commands instead of submitting" };
        var cmd = new Command("campaign", "Run a hindcast campaign end to end: world, checkpoints, skill, M-climate, ML and physics ensembles, scores, report")
        {
            config, overrides, submit, tasks, array, gpus, partition, time, dry,
        };
        cmd.SetAction(parse => wrap(parse, ctx =>
        {
            string path = ctx.Parse.GetValue(config)!.FullName;
            string[] o = ctx.Parse.GetValue(overrides) ?? [];
            if (!ctx.Parse.GetValue(submit))
            {
                if (ctx.Parse.GetValue(tasks) is not null || ctx.Parse.GetValue(array) is not null || ctx.Parse.GetValue(dry))
                    throw new EnsembleException("--tasks, --array and --dry-run go with --slurm-submit");
                return Run(ctx, path, o);
            }
            int? t = ctx.Parse.GetValue(tasks), a = ctx.Parse.GetValue(array);
            if ((t is null) == (a is null)) throw new EnsembleException("--slurm-submit needs exactly one of --tasks N or --array N");
            if ((t ?? a) < 1) throw new EnsembleException($"--{(t is null ? "array" : "tasks")} must be ≥ 1");
            var request = new SlurmSubmission.Request(t is null ? "array" : "tasks", (t ?? a)!.Value, ctx.Parse.GetValue(gpus),
                ctx.Parse.GetValue(partition), ctx.Parse.GetValue(time), ctx.Parse.GetValue(dry));
            return Submit(ctx, path, o, request);
        }));
        return cmd;
    }

    /// <summary>Stages before the ML ensemble run here; the ensemble, its merge and the rest of the campaign go to SLURM.</summary>
    public static int Submit(CommandContext ctx, string configPath, string[] overrides, SlurmSubmission.Request request)
    {
        var cfg = CampaignConfig.Load(configPath, overrides);
        Execute(ctx, cfg, MlEnsembleStage.StageName);
        string runConfig = CampaignRunner.WriteEnsembleRunConfig(cfg);
        ctx.Log.Information("ML ensemble run config {Path}", runConfig);
        foreach (var line in SlurmSubmission.Submit(request, runConfig, CampaignRunner.EnsembleRunDirectory(cfg), Path.GetFullPath(configPath), overrides))
            ctx.Out.WriteLine(line);
        return EnsembleCli.Ok;
    }

    public static int Run(CommandContext ctx, string configPath, string[] overrides)
    {
        var cfg = CampaignConfig.Load(configPath, overrides);
        Execute(ctx, cfg, null);
        ctx.Log.Information("Campaign {Name} complete in {Output}", cfg.Name, cfg.OutputDirectory);
        return EnsembleCli.Ok;
    }

    static void Execute(CommandContext ctx, CampaignConfig cfg, string? stopBefore)
    {
        ctx.Log.Information("Campaign {Name} → {Output}", cfg.Name, cfg.OutputDirectory);
        var reports = ProgressReporter.Run(ctx.Err, cfg.Name, update =>
        {
            var events = new CampaignEvents
            {
                Info = m => ctx.Log.Information("{Message}", m),
                Warning = m => ctx.Log.Warning("{Message}", m),
                Progress = new SyncProgress<StageProgress>(p => update($"{p.Stage}: {p.Message}", p.Done, p.Total)),
            };
            return CampaignRunner.Run(cfg, events, stopBefore: stopBefore);
        });
        foreach (var r in reports)
            ctx.Out.WriteLine($"{r.Stage,-20} {Describe(r.Outcome),-8} {r.Hash[..12]}  {r.Elapsed.TotalSeconds,8:F1} s");
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
