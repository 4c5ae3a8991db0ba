using System.Text.RegularExpressions;
using Ensemble.Data.Cf;
using Ensemble.Data.NetCdf;
using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

/// <summary>
/// climate build → score (all metrics, a baseline, EFI maps) → report → regress, on small synthetic netCDF-4
/// files in our output layout (global 1… equiangular 13×24 grid).
/// </summary>
public class ReportCommandTests
{
    const int Nlat = 13, Nlon = 24, L = 3;
    static readonly DateTime T0 = new(2024, 6, 1);
    static readonly double[] Lat = Enumerable.Range(0, Nlat).Select(i => 90.0 - 15.0 * i).ToArray();
    static readonly double[] Lon = Enumerable.Range(0, Nlon).Select(j => 15.0 * j).ToArray();
    static readonly double[] Leads = [24, 48, 72];

    static double Noise(params int[] k)
    {
        double a = 0;
        for (int i = 0; i < k.Length; i++) a += (12.9898 + 7.1 * i) * (k[i] + 1);
        double u = Math.Sin(a) * 43758.5453;
        return u - Math.Floor(u) - 0.5;
    }

    static double Truth(int day, int i, int j) =>
        280 + 20 * Math.Cos(Lat[i] * Math.PI / 180) + 4 * Math.Sin((Lon[j] + 10 * day) * Math.PI / 90) + 3 * Noise(day, i, j);

    static void Forecast(string path, string model, int members, int[] initDays, double spread)
    {
        var data = new double[members * initDays.Length * L * Nlat * Nlon];
        int k = 0;
        for (int m = 0; m < members; m++) for (int t = 0; t < initDays.Length; t++) for (int l = 0; l < L; l++)
                    for (int i = 0; i < Nlat; i++) for (int j = 0; j < Nlon; j++)
                        data[k++] = Truth(initDays[t] + l + 1, i, j) + spread * (l + 1) * (2 * Noise(m, t, l, i, j) + Noise(t, l, i, j, 3));
        var w = new NetCdf4Writer();
        w.GlobalAttributes["model"] = model;
        w.AddCoordinate("ensemble", Enumerable.Range(0, members).ToArray(), CfCoordinates.Ensemble())
         .AddCoordinate("time", CfCoordinates.HoursSince(T0, initDays.Select(d => T0.AddDays(d)).ToArray()), CfCoordinates.Time(T0))
         .AddCoordinate("lead_time", Leads.Select(h => (long)h).ToArray(), CfCoordinates.LeadTime())
         .AddCoordinate("lat", Lat, CfCoordinates.Latitude())
         .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
         .AddVariable("t850", ["ensemble", "time", "lead_time", "lat", "lon"], data);
        w.Write(path);
    }

    static void TruthFile(string path, int days)
    {
        var y = new double[days * Nlat * Nlon];
        int k = 0;
        for (int d = 0; d < days; d++) for (int i = 0; i < Nlat; i++) for (int j = 0; j < Nlon; j++) y[k++] = Truth(d, i, j);
        var w = new NetCdf4Writer();
        w.AddCoordinate("time", CfCoordinates.HoursSince(T0, Enumerable.Range(0, days).Select(d => T0.AddDays(d)).ToArray()), CfCoordinates.Time(T0))
         .AddCoordinate("lat", Lat, CfCoordinates.Latitude())
         .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
         .AddVariable("t850", ["time", "lat", "lon"], y);
        w.Write(path);
    }

    static bool IsPng(byte[] b) => b.Length > 8 && b[0] == 0x89 && b[1] == (byte)'P' && b[2] == (byte)'N' && b[3] == (byte)'G' && b[4] == 0x0D && b[5] == 0x0A && b[6] == 0x1A && b[7] == 0x0A;

    [Fact]
    public void Climate_score_report_and_regress_end_to_end()
    {
        using var tmp = new TempDir();
        Forecast(tmp.File("hindcast.nc"), "ml", 6, Enumerable.Range(0, 8).ToArray(), 1.0);
        Forecast(tmp.File("ml.nc"), "ml", 8, [8, 9, 10], 1.0);
        Forecast(tmp.File("physics.nc"), "physics", 8, [8, 9, 10], 0.4);
        TruthFile(tmp.File("truth.nc"), 16);

        var c = CliRunner.InProcess("climate", "build", "-f", tmp.File("hindcast.nc"), "-o", tmp.File("clim.npz"), "--window-days", "15", "--step-days", "10");
        Assert.True(c.ExitCode == 0, c.Err);

        var s = CliRunner.InProcess("score", "-f", tmp.File("ml.nc"), "-t", tmp.File("truth.nc"), "-b", tmp.File("physics.nc"),
            "-m", "crps,rmse,spread,ssr,rank,spectra,efi,brier,twcrps,reliability,roc", "--climate", tmp.File("clim.npz"),
            "--extras", tmp.File("extras"), "-o", tmp.File("scores.parquet"));
        Assert.True(s.ExitCode == 0, s.Err);
        var table = ScoreTable.ReadParquet(tmp.File("scores.parquet"));
        Assert.Equal(["ml", "physics"], table.Rows.Select(r => r.Model).Distinct().Order().ToArray());
        foreach (var m in new[] { "crps", "rank:8", "spectrum_truth:3", "efi", "brier@p95", "twcrps@p95", "reliability@p95:9", "roc_auc@p95" })
            Assert.Contains(table.Rows, r => r.Metric == m && r.Model == "physics");
        Assert.Equal(2 * L, Directory.GetFiles(tmp.File("extras"), "efi__*.npz").Length);

        var r = CliRunner.InProcess("report", "--scores", tmp.File("scores.parquet"), "--extras", tmp.File("extras"), "-o", tmp.File("report"));
        Assert.True(r.ExitCode == 0, r.Err);
        string html = File.ReadAllText(tmp.File("report/index.html"));
        // Self-contained: no external references of any kind; every image is an inline PNG.
        Assert.DoesNotMatch(new Regex(@"(src|href)\s*=\s*""(?!data:)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("url(", html);
        var images = Regex.Matches(html, "src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");
        var pngs = Directory.GetFiles(tmp.File("report"), "*.png");
        Assert.True(pngs.Length >= 8, $"{pngs.Length} plots");   // skill, ssr, 2×rank, 2×spectra, reliability, roc, maps
        Assert.Equal(pngs.Length, images.Count);
        foreach (Match m in images)
        {
            var bytes = Convert.FromBase64String(m.Groups[1].Value);
            Assert.True(IsPng(bytes));
        }
        foreach (var png in pngs)
        {
            var bytes = File.ReadAllBytes(png);
            Assert.True(IsPng(bytes), png);
            Assert.True(bytes.Length > 5000, $"{png}: {bytes.Length} bytes");   // a blank 900×560 PNG compresses to ~3 KB
        }
        foreach (var name in new[] { "skill_t850", "ssr_t850", "rank_t850_ml", "spectra_t850_physics", "reliability_t850_p95", "roc_t850_p95" })
            Assert.Contains(pngs, p => Path.GetFileNameWithoutExtension(p) == name);
        Assert.Contains("<td class=\"l\">crps</td>", html);

        // Regression: identical tables pass; a baseline that was better fails with a table; bad input exits 2.
        var same = CliRunner.InProcess("regress", "--scores", tmp.File("scores.parquet"), "--baseline", tmp.File("scores.csv"), "--tolerance", "0.05");
        Assert.True(same.ExitCode == 0, same.Out + same.Err);
        var better = new ScoreTable(table.Rows.Select(x => x.Metric == "crps" && x.Model == "ml" && x.LeadTimeHours == 48 ? x with { Value = x.Value * 0.8 } : x));
        better.WriteParquet(tmp.File("better.parquet"));
        var worse = CliRunner.InProcess("regress", "--scores", tmp.File("scores.parquet"), "--baseline", tmp.File("better.parquet"), "--tolerance", "0.05", "--metrics", "crps,rmse");
        Assert.Equal(1, worse.ExitCode);
        Assert.Contains("REGRESSION: 1 of", worse.Out);
        Assert.Matches(new Regex(@"ml\s+t850\s+48\s+crps\s+\S+\s+\S+\s+\+25\.00 %"), worse.Out);
        var missing = CliRunner.InProcess("regress", "--scores", tmp.File("nope.parquet"), "--baseline", tmp.File("better.parquet"));
        Assert.Equal(2, missing.ExitCode);
        var noOverlap = CliRunner.InProcess("regress", "--scores", tmp.File("scores.parquet"), "--baseline", tmp.File("better.parquet"), "--metrics", "brier@p99");
        Assert.Equal(2, noOverlap.ExitCode);
    }
}
