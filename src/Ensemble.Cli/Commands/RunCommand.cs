using Ensemble.Core;
using System.CommandLine;
using Ensemble.Inference.Config;
using Ensemble.Inference.Planning;
using Ensemble.Inference.Running;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble run`: an ensemble campaign (checkpoints × perturbation pairs × signs) on this rank's share of the work.</summary>
public static class RunCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "Campaign YAML (see docs/ensembles.md)", Required = true };
        var member = new Option<int?>("--member") { Description = "Recompute only this member (global ensemble index) alone, for every initial time" };
        var overrides = new Argument<string[]>("overrides") { Description = "Config overrides key.sub=value (Hydra style)", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("run", "Run an ensemble campaign (rank and world size from RANK/WORLD_SIZE, SLURM, OpenMPI or a job array); resumes where it stopped")
        {
            config, member, overrides,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(config).FullName, ctx.Parse.GetValue(overrides) ?? [], ctx.Parse.GetValue(member))));
        return cmd;
    }

    public static int Run(CommandContext ctx, string configPath, string[] overrides, int? member)
    {
        var config = EnsembleRunConfig.Load(configPath, overrides);
        var rank = RankInfo.FromEnvironment();
        ctx.Log.Information("Campaign {Name}: rank {Rank} of {World} ({Source}), output {Output}", config.Name, rank.Rank, rank.WorldSize, rank.Source, config.Output.Path);
        var options = new RunOptions { Member = member, Warning = w => ctx.Log.Warning("{Warning}", w) };
        var summary = ProgressReporter.Run(ctx.Err, "members × steps", update =>
        {
            var progress = new SyncProgress<RunProgress>(p =>
                update($"{p.MemberStepsDone}/{p.MemberStepsTotal} member-steps, {p.MemberStepsPerSecond:F1}/s, ETA {(p.Eta is { } e ? e.ToString(@"hh\:mm\:ss") : "?")}",
                    p.MemberStepsDone, p.MemberStepsTotal));
            return EnsembleRun.Execute(config, rank, options, progress);
        });
        ctx.Log.Information("Rank {Rank}: {Run} work item(s) run, {Skipped} already done, {Steps} member-steps in {Seconds:F1} s ({Rate:F1}/s, batch {Batch}; model {Model:F1} s, statistics {Stats:F1} s = {Share:P1} of model time, output {Output:F1} s); peak RSS {Rss} MB",
            summary.Rank, summary.ItemsRun, summary.ItemsSkipped, summary.MemberSteps, summary.Seconds, summary.MemberStepsPerSecond, summary.BatchSize,
            summary.InferenceSeconds, summary.StatisticsSeconds, summary.StatisticsShare, summary.OutputSeconds,
            System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64 >> 20);
        if (summary.Flagged.Count > 0)
            ctx.Log.Warning("{Count} member(s) flagged and excluded from the statistics (see summary.json)", summary.Flagged.Count);
        if (summary.Merged) ctx.Log.Information("Merged statistics and outputs in {Output}", config.Output.Path);
        else if (member is null) ctx.Log.Information("When every rank has finished: ensemble merge --input {Output}", config.Output.Path);
        return EnsembleCli.Ok;
    }
}
