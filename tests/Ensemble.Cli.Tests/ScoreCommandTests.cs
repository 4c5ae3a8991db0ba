using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class ScoreCommandTests
{
    [SkippableFact]
    public void Scores_an_ifs_forecast_against_its_analysis_like_ecCodes()
    {
        string fc = Shared.Require("data/verification/ifs_fc_20160925_00z_step0_120/t_pl.grib");
        string an = Shared.Require("data/verification/ifs_an_20160925_20161001_12h/t_pl.grib");
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("score", "--forecast", fc, "--truth", an, "--metrics", "rmse", "--weighting", "coslat", "--model", "ifs-hres", "-o", tmp.File("s.parquet"));
        Assert.True(r.ExitCode == 0, r.Err);
        var table = ScoreTable.ReadParquet(tmp.File("s.parquet"));
        var row = table.Rows.Single(x => x.Variable == "t850" && x.LeadTimeHours == 120 && x.Metric == "rmse" && x.IsAggregate);
        Assert.Equal(1.7129, row.Value, 3);
        Assert.Equal("ifs-hres", row.Model);
        Assert.True(File.Exists(tmp.File("s.csv")));
        Assert.Contains("t850", r.Out);
    }

    [SkippableFact]
    public void Ensemble_grib_spread_and_efi_without_truth()
    {
        string ens = Shared.Require("data/ensemble/ecmwf_ens_z500_20120920_step96.grib");
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("score", "-f", ens, "-m", "spread", "-o", tmp.File("s.parquet"));
        Assert.True(r.ExitCode == 0, r.Err);
        var rows = ScoreTable.ReadParquet(tmp.File("s.parquet")).Rows;
        Assert.Contains(rows, x => x.Metric == "spread" && x.Members > 1 && x.Value > 0);
    }

    [Theory]
    [InlineData("--metrics", "crps,bogus", "unknown metric")]
    [InlineData("--weighting", "sideways", "sideways")]
    public void Bad_options_exit_2(string option, string value, string message)
    {
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("score", "-f", tmp.File("x.nc"), "-t", tmp.File("y.nc"), option, value, "-o", tmp.File("s.parquet"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Err);
    }

    [Fact]
    public void Missing_forecast_exits_2()
    {
        using var tmp = new TempDir();
        var r = CliRunner.InProcess("score", "-f", tmp.File("x.nc"), "-o", tmp.File("s.parquet"));
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
