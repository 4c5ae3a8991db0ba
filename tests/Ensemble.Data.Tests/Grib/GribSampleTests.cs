using Ensemble.Data.Grib;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.Grib;

/// <summary>Real samples beyond the CSV comparisons: the TIGGE GRIB2 file (no reference decode), grid geometry, listings.</summary>
public sealed class GribSampleTests
{
    [SkippableFact]
    public void Tigge_ukmo_pv320K_opens_and_lists_24_members_with_bitmaps_south_to_north()
    {
        string path = Shared.Require("data/ensemble/tigge_ukmo_pf_pv320K_20061028_global.grib2");
        using var file = GribFile.Open(path);
        Assert.Equal(24, file.Messages.Count);
        var control = file.Messages[0];
        Assert.Equal(("cf", 1, 0), (control.DataType, control.TypeOfEnsembleForecast, control.PerturbationNumber));
        Assert.Equal(Enumerable.Range(1, 23), file.Messages.Skip(1).Select(m => m.PerturbationNumber!.Value));
        foreach (var m in file.Messages)
        {
            Assert.Equal(2, m.Edition);
            Assert.Equal("egrr", m.Centre);
            Assert.Equal(("pv", 60, "theta", 320.0), (m.ShortName, m.ParamId, m.TypeOfLevel, m.Level));
            Assert.Equal(new DateTime(2006, 10, 28, 12, 0, 0, DateTimeKind.Utc), m.ReferenceTime);
            Assert.Equal(TimeSpan.Zero, m.Step);
            Assert.Equal(m.ReferenceTime, m.ValidTime);
            Assert.Equal(24, m.NumberOfForecastsInEnsemble);
            Assert.Equal((288, 216, 0x40), (m.Ni, m.Nj, m.ScanningMode));
            // basic angle 360, 1728 subdivisions: La1 = −430 units, Lo1 = 3, Di = 6, Dj = 4
            Assert.Equal(-430 * 360.0 / 1728, m.La1, 12);
            Assert.Equal(3 * 360.0 / 1728, m.Lo1, 12);
            Assert.Equal(430 * 360.0 / 1728, m.La2, 12);
            Assert.Equal(1725 * 360.0 / 1728, m.Lo2, 12);
            Assert.Equal(1.25, m.Di, 12);
            Assert.Equal(4 * 360.0 / 1728, m.Dj, 12);
            Assert.Equal(16, m.BitsPerValue);
            Assert.InRange(m.BinaryScaleFactor, -31, -27);
            if (m.PerturbationNumber != 0) Assert.Equal("pf", m.DataType);
        }

        var last = file.Messages[^1];
        double[] values = last.Values(), lat = last.Latitudes(), lon = last.Longitudes();
        Assert.Equal(288 * 216, values.Length);
        int missing = values.Count(double.IsNaN);
        Assert.InRange(missing, 0, 9);
        Assert.Equal(-89.583333333333, lat[0], 9);
        Assert.Equal(lat[0], lat[287]);
        Assert.True(lat[288] > lat[0], "scanning mode 0x40: rows run south to north");
        Assert.Equal(89.583333333333, lat[^1], 9);
        Assert.Equal(0.625, lon[0], 12);
        Assert.Equal(359.375, lon[287], 9);
        // PV is negative in the southern and positive in the northern hemisphere: checks values against latitudes.
        double south = 0, north = 0;
        for (int n = 0; n < values.Length; n++)
        {
            if (double.IsNaN(values[n])) continue;
            Assert.True(Math.Abs(values[n]) < 1e-3, $"PV value {values[n]} is not in K m2 kg-1 s-1");
            if (lat[n] < -20) south += values[n];
            if (lat[n] > 20) north += values[n];
        }
        Assert.True(south < 0 && north > 0, $"hemispheric PV sums south {south}, north {north}");
        Assert.Equal(values.Length - missing, last.NumberOfPackedValues);
        // section 5 counts the packed values independently of the bitmap: missing = points − packed, 0–9 per member
        foreach (var m in file.Messages)
        {
            int nan = m.Values().Count(double.IsNaN);
            Assert.InRange(nan, 0, 9);
            Assert.Equal(288 * 216 - m.NumberOfPackedValues!.Value, nan);
            if (!m.BitmapPresent) Assert.Equal(0, nan);
        }
        Assert.True(file.Messages.Count(m => m.BitmapPresent) >= 20, "most TIGGE members carry a bitmap");
    }

    [SkippableFact]
    public void Latitudes_and_longitudes_follow_the_scan_order_of_a_global_north_to_south_grid()
    {
        using var file = GribFile.Open(Shared.Require("data/ensemble/era5_eda_10members_t_z_500_850_global3deg.grib"));
        var m = file.Messages[0];
        double[] lat = m.Latitudes(), lon = m.Longitudes();
        Assert.Equal(120 * 61, lat.Length);
        for (int n = 0; n < lat.Length; n++)
        {
            Assert.Equal(90 - 3 * (n / 120), lat[n], 9);
            Assert.Equal(3 * (n % 120), lon[n], 9);
        }
    }

    [SkippableFact]
    public void Ensemble_steps_and_validity_times_come_from_the_time_range_indicator()
    {
        using var file = GribFile.Open(Shared.Require("data/ensemble/ecmwf_ens_storm_20131025_10fg3_z850.grib"));
        var gust = file.Messages[0];
        Assert.Equal(("10fg3", 228028, "69-72", "max"), (gust.ShortName, gust.ParamId, gust.StepRange, gust.StepType));
        Assert.Equal(TimeSpan.FromHours(69), gust.StartStep);
        Assert.Equal(TimeSpan.FromHours(72), gust.Step);
        Assert.Equal(new DateTime(2013, 10, 28, 0, 0, 0, DateTimeKind.Utc), gust.ValidTime);
        Assert.Equal(20131028, gust.Keys["validityDate"]);
        Assert.Equal(51, gust.NumberOfForecastsInEnsemble);
        Assert.Equal("enfo", gust.Keys["marsStream"]);

        // NCEP CFS: time range indicator 10 (P1 in two octets), 720 h monthly leads
        using var cfs = GribFile.Open(Shared.Require("data/ensemble/ncep_cfs_seasonal_monthly_2t_124members.grib"));
        Assert.Equal(TimeSpan.FromHours(720), cfs.Messages[0].Step);
        Assert.Equal(123, cfs.Messages.Max(m => m.PerturbationNumber));
    }

    [SkippableFact]
    public void Describe_lists_every_message_like_grib_ls()
    {
        string path = Shared.Require("data/ensemble/ecmwf_ens_z850_tiny_51members.grib");
        string[] lines = GribInspect.Describe(path).TrimEnd('\n').Split('\n');
        Assert.Equal(path, lines[0]);
        Assert.Equal(["edition", "centre", "dataType", "shortName", "typeOfLevel", "level", "dataDate", "dataTime", "stepRange", "number", "gridType", "NixNj"],
            lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(1 + 1 + 51 + 1, lines.Length);
        Assert.Equal(["1", "ecmf", "pf", "z", "isobaricInhPa", "850", "20131025", "0000", "78", "1", "regular_ll", "3x2"],
            lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["1", "ecmf", "cf", "z", "isobaricInhPa", "850", "20131025", "0000", "78", "0", "regular_ll", "3x2"],
            lines[52].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal($"51 fields in 51 messages in {path}", lines[^1]);
    }
}
