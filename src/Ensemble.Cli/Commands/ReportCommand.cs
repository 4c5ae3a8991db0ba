using System.CommandLine;
using Ensemble.Scoring.Report;
using Ensemble.Scoring.Tables;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble report`: PNG plots and one self-contained index.html from score tables (docs/report.md).</summary>
public static class ReportCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var scores = new Option<string[]>("--scores", "-s") { Description = "Score table(s) (.parquet or .csv; repeat for several, e.g. ML and baseline runs)", Required = true, AllowMultipleArgumentsPerToken = true };
        var extras = new Option<DirectoryInfo?>("--extras") { Description = "Folder of score maps written by 'ensemble score --extras' (EFI maps)" };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Report folder (index.html and PNGs)", Required = true };
        var title = new Option<string>("--title") { Description = "Report title", DefaultValueFactory = _ => "Ensemble evaluation report" };
        var cmd = new Command("report", "Plots (CRPS/RMSE/spread/SSR vs lead, rank histograms, spectra, reliability, ROC, EFI maps) and a self-contained index.html")
        {
            scores, extras, output, title,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(scores), ctx.Parse.GetValue(extras)?.FullName, ctx.Get(output).FullName, ctx.Get(title))));
        return cmd;
    }

    public static int Run(CommandContext ctx, string[] scorePaths, string? extrasDir, string outputDir, string title)
    {
        var tables = scorePaths.Select(RegressCommand.Read).ToList();
        var maps = extrasDir is null ? null : ScoreMapFiles.ReadAll(extrasDir);
        var result = ScoreReport.Write(tables, outputDir, maps, title);
        ctx.Out.WriteLine($"Wrote {result.IndexPath} ({result.Plots.Count} plots)");
        return EnsembleCli.Ok;
    }
}
