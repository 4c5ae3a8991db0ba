using System.CommandLine;
using Ensemble.Core;
using Ensemble.Scoring.Tables;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble regress`: fails (exit 1) with a table when a skill score got worse than a baseline table beyond a relative tolerance.</summary>
public static class RegressCommand
{
    public const int Worse = 1;

    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var scores = new Option<FileInfo>("--scores", "-s") { Description = "New score table (.parquet or .csv)", Required = true };
        var baseline = new Option<FileInfo>("--baseline", "-b") { Description = "Baseline score table (.parquet or .csv)", Required = true };
        var tolerance = new Option<double>("--tolerance") { Description = "Relative tolerance (0.05 = 5 %)", DefaultValueFactory = _ => 0.05 };
        var metrics = new Option<string?>("--metrics", "-m") { Description = $"Comma-separated metrics with a sense (default {string.Join(",", ScoreRegression.DefaultMetrics)}; also brier, brier_fair, twcrps, roc_auc or tagged names like brier@p95)" };
        var cmd = new Command("regress", "Compare aggregated scores with a baseline table: exit 1 and a table of what got worse beyond the tolerance, 0 otherwise")
        {
            scores, baseline, tolerance, metrics,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(scores).FullName, ctx.Get(baseline).FullName, ctx.Get(tolerance), ctx.Parse.GetValue(metrics))));
        return cmd;
    }

    public static ScoreTable Read(string path) =>
        path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ScoreTable.ReadCsv(path) : ScoreTable.ReadParquet(path);

    public static int Run(CommandContext ctx, string scoresPath, string baselinePath, double tolerance, string? metricList)
    {
        var current = Read(scoresPath);
        var baseline = Read(baselinePath);
        var metrics = metricList?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var result = ScoreRegression.Compare(current, baseline, tolerance, metrics);
        if (result.Passed)
        {
            ctx.Out.WriteLine($"OK: {result.Compared.Count} scores within {tolerance:P1} of {baselinePath}");
            return EnsembleCli.Ok;
        }
        ctx.Out.WriteLine($"REGRESSION: {result.Worse.Count} of {result.Compared.Count} scores worse than {baselinePath} beyond {tolerance:P1}:");
        ctx.Out.Write(ScoreRegression.Format(result.Worse));
        return Worse;
    }
}
