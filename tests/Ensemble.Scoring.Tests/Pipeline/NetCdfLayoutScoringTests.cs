using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.NetCdf;
using Ensemble.Data.Zarr;
using System.Text.Json.Nodes;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Scoring.Tests.Pipeline;

/// <summary>
/// Our netCDF-4 output layout written with <see cref="NetCdf4Writer"/>, read back and scored against a
/// synthetic truth; expected values from plain loops (pairwise fair CRPS, ensemble-mean MSE, ddof-1 variance).
/// </summary>
public class NetCdfLayoutScoringTests
{
    const int M = 5, T = 2, L = 3, Nlat = 4, Nlon = 6;
    static readonly DateTime Reference = new(2024, 1, 1);
    static readonly double[] Lat = [67.5, 22.5, -22.5, -67.5];
    static readonly double[] Lon = [0, 60, 120, 180, 240, 300];
    static readonly double[] LeadHours = [0, 24, 48];
    static readonly DateTime[] Inits = [Reference, Reference.AddHours(12)];

    static double Truth(DateTime valid, int i, int j) =>
        280 + 10 * Math.Cos(Lat[i] * Math.PI / 180) + Math.Sin(Lon[j] * Math.PI / 180 + (valid - Reference).TotalHours / 24);

    static double Member(int m, int t, int l, int i, int j)
    {
        // Deterministic pseudo-random spread growing with lead; members differ per point.
        double u = Math.Sin(12.9898 * (m + 1) + 78.233 * (t + 1) + 37.719 * (l + 1) + 4.581 * i + 9.173 * j) * 43758.5453;
        u -= Math.Floor(u);
        return Truth(Inits[t].AddHours(LeadHours[l]), i, j) + (0.3 + l) * (u - 0.4);
    }

    static (string Forecast, string Truth) Write(TempDir dir)
    {
        var z = new double[M * T * L * Nlat * Nlon];
        var t2m = new float[M * T * L * Nlat * Nlon];
        int k = 0;
        for (int m = 0; m < M; m++)
            for (int t = 0; t < T; t++)
                for (int l = 0; l < L; l++)
                    for (int i = 0; i < Nlat; i++)
                        for (int j = 0; j < Nlon; j++, k++) { z[k] = Member(m, t, l, i, j); t2m[k] = (float)z[k]; }
        var fw = new NetCdf4Writer();
        fw.GlobalAttributes["model"] = "synthetic";
        fw.AddCoordinate("ensemble", Enumerable.Range(0, M).ToArray(), CfCoordinates.Ensemble())
          .AddCoordinate("time", CfCoordinates.HoursSince(Reference, Inits), CfCoordinates.Time(Reference))
          .AddCoordinate("lead_time", LeadHours.Select(h => (long)h).ToArray(), CfCoordinates.LeadTime())
          .AddCoordinate("lat", Lat, CfCoordinates.Latitude())
          .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
          .AddVariable("z500", ["ensemble", "time", "lead_time", "lat", "lon"], z)
          .AddVariable("t2m", ["ensemble", "time", "lead_time", "lat", "lon"], t2m);
        fw.Write(dir.File("forecast.nc"));

        // Truth every 12 h over three days, enough for every init + lead.
        var times = Enumerable.Range(0, 6).Select(h => Reference.AddHours(12 * h)).ToArray();
        var y = new double[times.Length * Nlat * Nlon];
        k = 0;
        for (int t = 0; t < times.Length; t++)
            for (int i = 0; i < Nlat; i++)
                for (int j = 0; j < Nlon; j++, k++) y[k] = Truth(times[t], i, j);
        var tw = new NetCdf4Writer();
        tw.AddCoordinate("time", CfCoordinates.HoursSince(Reference, times), CfCoordinates.Time(Reference))
          .AddCoordinate("lat", Lat, CfCoordinates.Latitude())
          .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
          .AddVariable("z500", ["time", "lat", "lon"], y);
        tw.Write(dir.File("truth.nc"));
        return (dir.File("forecast.nc"), dir.File("truth.nc"));
    }

    [Fact]
    public void Scores_match_plain_loop_crps_rmse_spread_ssr()
    {
        using var dir = new TempDir();
        var (fpath, tpath) = Write(dir);
        using var fc = ForecastReader.Open(fpath);
        using var truth = TruthReader.Open(tpath);
        Assert.Equal("synthetic", fc.Model);
        Assert.Equal(Inits, fc.Variables["z500"].InitTimes);
        Assert.Equal(LeadHours, fc.Variables["z500"].LeadHours);

        var table = ScorePipeline.ScoreTable(fc, truth, ["crps", "rmse", "spread", "ssr"], ScoreWeighting.CosLat);
        var rows = table.Rows;
        Assert.DoesNotContain(rows, r => r.Variable == "t2m");   // not in the truth: not scored
        Assert.Equal(L * 4 * (T + 1), rows.Count);

        double wsum = Lat.Sum(a => Math.Cos(a * Math.PI / 180)) * Nlon;
        for (int l = 0; l < L; l++)
        {
            var crps = new double[T]; var mse = new double[T]; var variance = new double[T];
            for (int t = 0; t < T; t++)
            {
                var valid = Inits[t].AddHours(LeadHours[l]);
                for (int i = 0; i < Nlat; i++)
                    for (int j = 0; j < Nlon; j++)
                    {
                        double w = Math.Cos(Lat[i] * Math.PI / 180) / wsum, y = Truth(valid, i, j);
                        var x = Enumerable.Range(0, M).Select(m => Member(m, t, l, i, j)).ToArray();
                        double skill = x.Average(v => Math.Abs(v - y)), pairs = 0;
                        foreach (var a in x) foreach (var b in x) pairs += Math.Abs(a - b);
                        crps[t] += w * (skill - pairs / (2.0 * M * (M - 1)));
                        double mean = x.Average();
                        mse[t] += w * (mean - y) * (mean - y);
                        variance[t] += w * x.Sum(v => (v - mean) * (v - mean)) / (M - 1);
                    }
                Check(l, ScoreRow.FormatInitTime(Inits[t]), "crps", crps[t]);
                Check(l, ScoreRow.FormatInitTime(Inits[t]), "rmse", Math.Sqrt(mse[t]));
                Check(l, ScoreRow.FormatInitTime(Inits[t]), "spread", Math.Sqrt(variance[t]));
                Check(l, ScoreRow.FormatInitTime(Inits[t]), "ssr", Math.Sqrt((M + 1.0) / M) * Math.Sqrt(variance[t] / mse[t]));
            }
            Check(l, "", "crps", crps.Average());
            Check(l, "", "rmse", Math.Sqrt(mse.Average()));
            Check(l, "", "spread", Math.Sqrt(variance.Average()));
            Check(l, "", "ssr", Math.Sqrt((M + 1.0) / M) * Math.Sqrt(variance.Average() / mse.Average()));
        }
        Assert.Contains("sqrt((M+1)/M)", table.Metadata["ssr_correction"]);

        void Check(int l, string init, string metric, double expected)
        {
            var r = rows.Single(r => r.Variable == "z500" && r.LeadTimeHours == LeadHours[l] && r.InitTime == init && r.Metric == metric);
            Assert.True(Math.Abs(r.Value - expected) <= 1e-10 * Math.Max(1, Math.Abs(expected)), $"{metric} +{LeadHours[l]} h {init}: {r.Value} vs {expected}");
            Assert.Equal(M, r.Members);
            Assert.Equal("coslat", r.Weighting);
            Assert.Equal("synthetic", r.Model);
        }
    }

    [Fact]
    public void Verifying_times_missing_from_the_truth_are_left_out_and_no_overlap_is_an_error()
    {
        using var dir = new TempDir();
        var (fpath, _) = Write(dir);
        var times = new[] { Reference.AddHours(24) };   // only init 00 + 24 h verifies
        var tw = new NetCdf4Writer();
        tw.AddCoordinate("time", CfCoordinates.HoursSince(Reference, times), CfCoordinates.Time(Reference))
          .AddCoordinate("lat", Lat, CfCoordinates.Latitude())
          .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
          .AddVariable("z500", ["time", "lat", "lon"], new double[Nlat * Nlon]);
        tw.Write(dir.File("one.nc"));
        using var fc = ForecastReader.Open(fpath);
        using var truth = TruthReader.Open(dir.File("one.nc"));
        var rows = ScorePipeline.Score(fc, truth, ["rmse"], ScoreWeighting.None);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(24.0, r.LeadTimeHours));
        Assert.Equal("2024-01-01T00:00:00", rows[0].InitTime);

        var e = Assert.Throws<EnsembleException>(() => ScorePipeline.Score(fc, truth, ["bogus"], ScoreWeighting.None));
        Assert.Contains("unknown metric", e.Message);

        // No verifying time at all: an error, not an empty table.
        var late = new[] { Reference.AddDays(30) };
        var tw3 = new NetCdf4Writer();
        tw3.AddCoordinate("time", CfCoordinates.HoursSince(Reference, late), CfCoordinates.Time(Reference))
           .AddCoordinate("lat", Lat, CfCoordinates.Latitude())
           .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
           .AddVariable("z500", ["time", "lat", "lon"], new double[Nlat * Nlon]);
        tw3.Write(dir.File("late.nc"));
        using var lateTruth = TruthReader.Open(dir.File("late.nc"));
        var none = Assert.Throws<EnsembleException>(() => ScorePipeline.Score(fc, lateTruth, ["rmse"], ScoreWeighting.None));
        Assert.Contains("no verifying time", none.Message);

        // A truth on another grid is refused with both grids named.
        var tw2 = new NetCdf4Writer();
        tw2.AddCoordinate("time", CfCoordinates.HoursSince(Reference, times), CfCoordinates.Time(Reference))
           .AddCoordinate("lat", Lat.Select(a => a + 1).ToArray(), CfCoordinates.Latitude())
           .AddCoordinate("lon", Lon, CfCoordinates.Longitude())
           .AddVariable("z500", ["time", "lat", "lon"], new double[Nlat * Nlon]);
        tw2.Write(dir.File("shifted.nc"));
        using var shifted = TruthReader.Open(dir.File("shifted.nc"));
        var g = Assert.Throws<EnsembleException>(() => ScorePipeline.Score(fc, shifted, ["rmse"], ScoreWeighting.None));
        Assert.Contains("latitude 0 is 67.5", g.Message);
    }

    /// <summary>The same layout as a zarr v2 store scores identically to the netCDF file (checked against loops above).</summary>
    [Fact]
    public void Zarr_store_of_the_same_layout_scores_like_the_netcdf_file()
    {
        using var dir = new TempDir();
        var (fpath, tpath) = Write(dir);
        using var ncFc = ForecastReader.Open(fpath);
        using var ncTruth = TruthReader.Open(tpath);

        var fz = ZarrStore.Create(dir.File("forecast.zarr"), new JsonObject { ["model"] = "synthetic" });
        var tz = ZarrStore.Create(dir.File("truth.zarr"));
        foreach (var z in new[] { fz, tz })
        {
            z.WriteArray("lat", ["lat"], Lat, [Nlat]);
            z.WriteArray("lon", ["lon"], Lon, [Nlon]);
        }
        var times = ncTruth.Variables["z500"].Times;
        fz.WriteArray("time", ["time"], CfCoordinates.HoursSince(Reference, Inits), [T], attributes: new JsonObject { ["units"] = "hours since 2024-01-01 00:00:00", ["calendar"] = "proleptic_gregorian" });
        fz.WriteArray("lead_time", ["lead_time"], LeadHours, [L], attributes: new JsonObject { ["units"] = "hours" });
        fz.WriteArray("ensemble", ["ensemble"], Enumerable.Range(0, M).Select(m => (double)m).ToArray(), [M]);
        using (var data = ncFc.Variables["z500"].Data.contiguous())
            fz.WriteArray("z500", ["ensemble", "time", "lead_time", "lat", "lon"], data.data<double>().ToArray(), data.shape);
        tz.WriteArray("time", ["time"], CfCoordinates.HoursSince(Reference, times), [times.Length], attributes: new JsonObject { ["units"] = "hours since 2024-01-01 00:00:00" });
        using (var data = ncTruth.Variables["z500"].Data.contiguous())
            tz.WriteArray("z500", ["time", "lat", "lon"], data.data<double>().ToArray(), data.shape);

        using var zFc = ForecastReader.Open(dir.File("forecast.zarr"));
        using var zTruth = TruthReader.Open(dir.File("truth.zarr"));
        Assert.Equal("synthetic", zFc.Model);
        string[] metrics = ["crps", "rmse", "spread", "ssr"];
        var fromNc = ScorePipeline.Score(ncFc, ncTruth, metrics, ScoreWeighting.CellArea);
        var fromZarr = ScorePipeline.Score(zFc, zTruth, metrics, ScoreWeighting.CellArea);
        Assert.Equal(fromNc.Where(r => r.Variable == "z500"), fromZarr);
    }
}
