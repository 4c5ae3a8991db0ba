using Ensemble.Core;
using Ensemble.Scoring.Climate;
using Ensemble.Scoring.Extremes;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests.Pipeline;

public class ModelClimateFileTests
{
    const int M = 4, Nlat = 3, Nlon = 4;
    static readonly double[] Lat = [45, 0, -45];
    static readonly double[] Lon = [0, 90, 180, 270];
    static readonly double[] Leads = [0, 24];

    static double Value(int m, int day, int l, int i, int j)
    {
        double u = Math.Sin(12.9898 * (m + 1) + 78.233 * (day + 1) + 37.719 * (l + 1) + 4.581 * i + 9.173 * j) * 43758.5453;
        return 10 * (u - Math.Floor(u)) + l;
    }

    /// <summary>Hindcasts initialised on Jan 1 … Jan 10 and Jul 1 … Jul 10 (days 1–10 and 182–191 of 2023).</summary>
    static ForecastSet Hindcasts()
    {
        var inits = Enumerable.Range(0, 10).Select(d => new DateTime(2023, 1, 1).AddDays(d))
            .Concat(Enumerable.Range(0, 10).Select(d => new DateTime(2023, 7, 1).AddDays(d))).ToArray();
        var data = new double[M * inits.Length * Leads.Length * Nlat * Nlon];
        int k = 0;
        for (int m = 0; m < M; m++) for (int t = 0; t < inits.Length; t++) for (int l = 0; l < Leads.Length; l++)
                    for (int i = 0; i < Nlat; i++) for (int j = 0; j < Nlon; j++) data[k++] = Value(m, inits[t].DayOfYear, l, i, j);
        return new ForecastSet("hindcast", "memory", false, new ScoreGrid(Lat, Lon),
            [new ForecastVariable("t2m", inits, Leads, tensor(data, [M, inits.Length, Leads.Length, Nlat, Nlon], ScalarType.Float64))]);
    }

    [Fact]
    public void Build_stores_numpy_percentiles_of_each_window_and_loads_them_per_forecast_day()
    {
        using var dir = new TempDir();
        using var h = Hindcasts();
        var clim = ModelClimateFile.Build([h], dir.File("clim.npz"), new ClimateBuildOptions { WindowHalfWidthDays = 5, StepDays = 3 });
        // Centres 1, 4, …: within 5 days of days 1–10 or 182–191 (circular: day 361 reaches day 1).
        Assert.Contains(1, clim.CentreDays("t2m"));
        Assert.Contains(181, clim.CentreDays("t2m"));
        Assert.DoesNotContain(100, clim.CentreDays("t2m"));
        Assert.Equal(Leads, clim.LeadHours);

        var reopened = ModelClimateFile.Open(dir.File("clim.npz"));
        using var pct = reopened.Percentiles("t2m", new DateTime(2025, 1, 5), 24);   // nearest centre: day 4 → days 1 … 9
        Assert.Equal(new long[] { 101, Nlat, Nlon }, pct.shape);
        var days = Enumerable.Range(1, 9).ToArray();
        for (int i = 0; i < Nlat; i++)
            for (int j = 0; j < Nlon; j++)
            {
                var sample = days.SelectMany(d => Enumerable.Range(0, M).Select(m => Value(m, d, 1, i, j))).Order().ToArray();
                foreach (int q in new[] { 0, 5, 50, 95, 100 })
                {
                    double pos = (sample.Length - 1) * q / 100.0;
                    int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sample.Length - 1);
                    double expected = sample[lo] + (sample[hi] - sample[lo]) * (pos - lo);
                    Assert.Equal(expected, pct[q, i, j].item<double>(), 5);   // stored as float32
                }
            }
        var e = Assert.Throws<EnsembleException>(() => reopened.Percentiles("t2m", new DateTime(2025, 4, 10), 24));
        Assert.Contains("covers day", e.Message);
        Assert.Throws<EnsembleException>(() => reopened.Percentiles("t2m", new DateTime(2025, 1, 5), 12));
    }

    [Fact]
    public void Efi_from_the_climate_file_equals_efi_from_the_same_percentiles_and_maps_are_collected()
    {
        using var dir = new TempDir();
        using var h = Hindcasts();
        var clim = ModelClimateFile.Build([h], dir.File("clim.npz"), new ClimateBuildOptions { WindowHalfWidthDays = 5, StepDays = 3 });
        var init = new DateTime(2024, 7, 4);
        var data = new double[M * 1 * 2 * Nlat * Nlon];
        for (int k = 0; k < data.Length; k++) data[k] = 3 + 0.5 * (k % 7);
        using var fc = new ForecastSet("ml", "memory", false, new ScoreGrid(Lat, Lon),
            [new ForecastVariable("t2m", [init], Leads, tensor(data, [M, 1, 2, Nlat, Nlon], ScalarType.Float64))]);
        var maps = new List<ScoreMap>();
        var rows = ScorePipeline.Score(fc, null, ["efi", "sot"], ScoreWeighting.None, new ScoreOptions { Climate = clim, Maps = maps });
        for (int l = 0; l < 2; l++)
        {
            using var pct = clim.Percentiles("t2m", init, Leads[l]);
            using var efi = Efi.FromPercentiles(pct, fc.Variables["t2m"].Data[.., 0, l]);
            Assert.Equal(efi.mean().item<double>(), rows.Single(r => r.LeadTimeHours == Leads[l] && r.IsAggregate && r.Metric == "efi").Value, 12);
            // Shift of Tails, upper (90th) and lower (10th), from the same climate percentiles.
            foreach (int perc in new[] { 90, 10 })
            {
                using var sot = Sot.Compute(pct, fc.Variables["t2m"].Data[.., 0, l], perc);
                double row = rows.Single(r => r.LeadTimeHours == Leads[l] && r.IsAggregate && r.Metric == $"sot@p{perc}").Value;
                Assert.True(double.IsFinite(row), $"sot@p{perc} = {row}");
                Assert.Equal(sot.mean().item<double>(), row, 12);
            }
            var map = maps.Single(x => x.LeadTimeHours == Leads[l]);
            Assert.Equal(efi.reshape(-1).data<double>().ToArray(), map.Values);
        }
        ScoreMapFiles.Write(dir.File("extras"), maps[0]);
        var back = ScoreMapFiles.ReadAll(dir.File("extras")).Single();
        Assert.Equal((maps[0].Model, maps[0].Variable, maps[0].InitTime, maps[0].LeadTimeHours, "efi"), (back.Model, back.Variable, back.InitTime, back.LeadTimeHours, back.Quantity));
        Assert.Equal(maps[0].Values, back.Values);
        Assert.Equal(Lat, back.Lat);
    }

    [Fact]
    public void Not_a_climate_file_is_a_user_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x.npz"), "nope");
        Assert.Throws<EnsembleException>(() => ModelClimateFile.Open(dir.File("x.npz")));
        Assert.Throws<EnsembleException>(() => ModelClimateFile.Open(dir.File("missing.npz")));
    }
}
