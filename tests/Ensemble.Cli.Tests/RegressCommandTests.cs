using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class RegressCommandTests
{
    static ScoreRow Row(string metric, double lead, double value, string model = "ml") => new(model, "z500", "", lead, metric, value, 10, "coslat");

    static ScoreTable Table(params ScoreRow[] rows) => new(rows);

    [Fact]
    public void Sense_per_metric_lower_higher_and_distance_from_one()
    {
        var basis = Table(Row("crps", 24, 1.0), Row("ssr", 24, 0.9), Row("roc_auc@p95", 24, 0.8), Row("rmse", 24, 2.0));
        var now = Table(Row("crps", 24, 1.04), Row("ssr", 24, 1.03), Row("roc_auc@p95", 24, 0.75), Row("rmse", 24, 1.0));
        var r = ScoreRegression.Compare(now, basis, 0.05, ["crps", "ssr", "roc_auc", "rmse"]);
        Assert.Equal(4, r.Compared.Count);
        // crps +4 % ok; ssr 0.9 → 1.03 is closer to 1 (ok); auc −6.25 % worse; rmse halved ok.
        Assert.Equal(["roc_auc@p95"], r.Worse.Select(w => w.Metric).ToArray());
        var far = ScoreRegression.Compare(Table(Row("ssr", 24, 1.2)), Table(Row("ssr", 24, 1.0)), 0.05, ["ssr"]);
        Assert.Single(far.Worse);
        Assert.Equal("further from 1", far.Worse[0].Reason);
        var nan = ScoreRegression.Compare(Table(Row("crps", 24, double.NaN)), Table(Row("crps", 24, 1)), 0.05);
        Assert.Equal("NaN", nan.Worse.Single().Reason);
        var missing = ScoreRegression.Compare(Table(Row("crps", 24, 1)), Table(Row("crps", 24, 1), Row("crps", 48, 1)), 0.05);
        Assert.Equal("missing", missing.Worse.Single().Reason);
    }

    [Fact]
    public void Worse_scores_exit_1_with_a_table_and_bad_input_exits_2()
    {
        using var tmp = new TempDir();
        Table(Row("crps", 24, 1.0), Row("crps", 48, 2.0), Row("rmse", 24, 3.0)).WriteParquet(tmp.File("base.parquet"));
        Table(Row("crps", 24, 1.2), Row("crps", 48, 2.0), Row("rmse", 24, 3.1)).WriteParquet(tmp.File("new.parquet"));
        var r = CliRunner.InProcess("regress", "--scores", tmp.File("new.parquet"), "--baseline", tmp.File("base.parquet"), "--tolerance", "0.05");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("1 of 3", r.Out);
        Assert.Contains("+20.00 %", r.Out);
        Assert.DoesNotContain("rmse", r.Out.Split('\n').Skip(2).FirstOrDefault() ?? "");
        var ok = CliRunner.InProcess("regress", "--scores", tmp.File("new.parquet"), "--baseline", tmp.File("base.parquet"), "--tolerance", "0.25");
        Assert.Equal(0, ok.ExitCode);
        Assert.Equal(2, CliRunner.InProcess("regress", "--scores", tmp.File("absent.parquet"), "--baseline", tmp.File("base.parquet")).ExitCode);
        Table(Row("crps", 24, 1.0, model: "other")).WriteParquet(tmp.File("other.parquet"));
        var none = CliRunner.InProcess("regress", "--scores", tmp.File("other.parquet"), "--baseline", tmp.File("base.parquet"));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("no overlapping rows", none.Err);
        Assert.Equal(2, CliRunner.InProcess("regress", "--scores", tmp.File("new.parquet"), "--baseline", tmp.File("base.parquet"), "--metrics", "spread").ExitCode);
    }
}
