using System.CommandLine;
using Ensemble.Inference.Running;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble merge`: combine the ranks' work items of a run directory into statistics, scores and fields.</summary>
public static class MergeCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var input = new Option<DirectoryInfo>("--input", "-i") { Description = "Run directory (output.path of the campaign)", Required = true };
        var cmd = new Command("merge", "Merge the statistics of every work item (in plan order: identical for any world size), write scores and netCDF-4 if configured") { input };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(input).FullName)));
        return cmd;
    }

    public static int Run(CommandContext ctx, string runDirectory)
    {
        var s = EnsembleMerge.Execute(runDirectory);
        ctx.Log.Information("{Name}: {Members} members × {Times} initial time(s), {Items} work items merged; {Rows} score rows{Scores}{Fields}",
            s.Name, s.Members, s.InitTimes, s.Items, s.ScoreRows, s.Scores is null ? "" : $" in {s.Scores}", s.Fields is null ? "" : $"; fields {s.Fields}");
        foreach (var f in s.Flagged)
            ctx.Log.Warning("Member {Member} (init {Init:yyyy-MM-ddTHH:mm}) was flagged at step {Step}: {Reason}", f.Member, f.InitTime, f.Step, f.Reason);
        return EnsembleCli.Ok;
    }
}
