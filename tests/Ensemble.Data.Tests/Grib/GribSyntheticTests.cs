using Ensemble.Data.Grib;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Data.Tests.Grib.GribTestWriter;

namespace Ensemble.Data.Tests.Grib;

/// <summary>
/// Decoder features that no real sample exercises, on messages written by <see cref="GribTestWriter"/>. Expected
/// values come from the packing formula applied to the written integers; tolerance 1e−12 relative (only the
/// order of float64 operations differs), far below half a quantisation step.
/// </summary>
public sealed class GribSyntheticTests
{
    static GribFile Write(TempDir dir, string name, params byte[][] messages)
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, messages.SelectMany(m => m).ToArray());
        return GribFile.Open(path);
    }

    static void AssertValues(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int n = 0; n < expected.Length; n++)
        {
            if (double.IsNaN(expected[n])) { Assert.True(double.IsNaN(actual[n]), $"point {n} should be missing"); continue; }
            Assert.True(Math.Abs(actual[n] - expected[n]) <= 1e-12 * Math.Max(1, Math.Abs(expected[n])),
                $"point {n}: {actual[n]:R} vs {expected[n]:R}");
        }
    }

    [Fact]
    public void Grib1_bitmap_odd_bit_width_and_decimal_scale()
    {
        using var dir = new TempDir();
        bool[] present = [true, false, true, true, false, false, true, true, true, true, false, true];
        var codes = new uint[] { 0, 127, 5, 64, 1, 100, 33, 99 };
        var packing = new Packing(7, -12.5, -3, 2, codes, present);
        using var file = Write(dir, "bitmap.grib", Grib1(4, 3, 60000, -10000, 40000, 20000, 10000, 10000, 0, packing));
        var m = file.Messages.Single();
        Assert.True(m.BitmapPresent);
        Assert.Equal((7, -3, 2), (m.BitsPerValue, m.BinaryScaleFactor, m.DecimalScaleFactor));
        Assert.Equal(-12.5, m.ReferenceValue);
        AssertValues(Expected(packing, 12), m.Values());
        Assert.Equal(("t", 130, "isobaricInhPa", 500.0), (m.ShortName, m.ParamId, m.TypeOfLevel, m.Level));
        Assert.Equal(("pf", 3), (m.DataType, m.PerturbationNumber));
        Assert.Equal(new DateTime(2024, 2, 29, 6, 0, 0, DateTimeKind.Utc), m.ReferenceTime);
    }

    [Fact]
    public void Grib1_zero_bits_is_a_constant_field()
    {
        using var dir = new TempDir();
        var packing = new Packing(0, 287.25, 0, 0, []);
        using var file = Write(dir, "const.grib", Grib1(3, 2, 10000, 0, 0, 20000, 10000, 10000, 0, packing));
        Assert.All(file.Messages[0].Values(), v => Assert.Equal(287.25, v));
        Assert.Equal(6, file.Messages[0].Values().Length);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x80)]
    [InlineData(0x40)]
    [InlineData(0x20)]
    [InlineData(0xC0)]
    [InlineData(0x60)]
    public void Grib1_scanning_modes_place_values_at_the_right_coordinates(int scanning)
    {
        // 4 columns (lon 10, 20, 30, 40) × 3 rows (lat 50, 40, 30); value = lat·1000 + lon, stored in scan order.
        bool iNeg = (scanning & 0x80) != 0, jPos = (scanning & 0x40) != 0, jCons = (scanning & 0x20) != 0;
        int[] lons = iNeg ? [40, 30, 20, 10] : [10, 20, 30, 40];
        int[] lats = jPos ? [30, 40, 50] : [50, 40, 30];
        var codes = new List<uint>();
        var expectedLat = new List<double>();
        var expectedLon = new List<double>();
        if (jCons)
            foreach (int lo in lons) foreach (int la in lats) { codes.Add((uint)(la * 1000 + lo)); expectedLat.Add(la); expectedLon.Add(lo); }
        else
            foreach (int la in lats) foreach (int lo in lons) { codes.Add((uint)(la * 1000 + lo)); expectedLat.Add(la); expectedLon.Add(lo); }
        var packing = new Packing(16, 0, 0, 0, [.. codes]);
        using var dir = new TempDir();
        using var file = Write(dir, "scan.grib",
            Grib1(4, 3, lats[0] * 1000, lons[0] * 1000, lats[^1] * 1000, lons[^1] * 1000, 10000, 10000, scanning, packing));
        var m = file.Messages[0];
        double[] values = m.Values(), lat = m.Latitudes(), lon = m.Longitudes();
        for (int n = 0; n < values.Length; n++)
        {
            Assert.Equal(expectedLat[n], lat[n], 9);
            Assert.Equal(expectedLon[n], lon[n], 9);
            Assert.Equal(lat[n] * 1000 + lon[n], values[n], 6);
        }
        Assert.Equal(jPos ? 1 : 0, m.Keys["jScansPositively"]);
        Assert.Equal(iNeg ? 1 : 0, m.Keys["iScansNegatively"]);
    }

    [Fact]
    public void Grib1_increments_not_given_are_derived_from_the_corner_points_across_the_dateline()
    {
        using var dir = new TempDir();
        var packing = new Packing(8, 0, 0, 0, [.. Enumerable.Range(0, 5).Select(i => (uint)i)]);
        using var file = Write(dir, "noinc.grib", Grib1(5, 1, 0, 350000, 0, 10000, 0, 0, 0, packing, incrementsGiven: false));
        var m = file.Messages[0];
        Assert.Equal(5.0, m.Di, 12);
        Assert.Equal([350.0, 355, 360, 365, 370], m.Longitudes());
    }

    [Fact]
    public void Grib1_time_ranges_and_units()
    {
        using var dir = new TempDir();
        var packing = new Packing(8, 0, 0, 0, [1, 2, 3, 4]);
        using var file = Write(dir, "steps.grib",
            Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, packing, table: 228, parameter: 28, levelType: 1, level: 0, p1: 69, p2: 72, timeRange: 2),
            Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, packing, parameter: 228, levelType: 1, level: 0, p1: 0, p2: 4, timeRange: 4, unit: 11),
            Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, packing, parameter: 167, levelType: 1, level: 0, p1: 90, timeRange: 0, unit: 0),
            Grib1(2, 2, 10000, 0, 0, 10000, 10000, 10000, 0, packing, table: 2, parameter: 11, levelType: 105, level: 2, p1: 3, unit: 2, localNumber: null));
        var (gust, tp, t2, wmo) = (file.Messages[0], file.Messages[1], file.Messages[2], file.Messages[3]);
        Assert.Equal(("10fg3", "69-72", "max"), (gust.ShortName, gust.StepRange, gust.StepType));
        Assert.Equal(new DateTime(2024, 3, 3, 6, 0, 0, DateTimeKind.Utc), gust.ValidTime); // 2024 is a leap year
        Assert.Equal(("tp", "0-24", "accum", TimeSpan.FromHours(24)), (tp.ShortName, tp.StepRange, tp.StepType, tp.Step));
        Assert.Equal(("2t", "90m", TimeSpan.FromMinutes(90)), (t2.ShortName, t2.StepRange, t2.Step));
        Assert.Equal(("t", 130, "heightAboveGround", 2.0, "72"), (wmo.ShortName, wmo.ParamId, wmo.TypeOfLevel, wmo.Level, wmo.StepRange));
        Assert.Null(wmo.PerturbationNumber);
        Assert.Equal("unknown", wmo.DataType);
    }

    [Fact]
    public void Grib2_multi_field_message_with_statistics_templates_and_a_reused_bitmap()
    {
        bool[] present = [true, true, false, true, true, true];
        var first = new Packing(12, 1.5f, -4, 0, [0, 4095, 17, 2048, 1], present);
        var second = new Packing(9, -2f, 1, 1, [3, 511, 0, 100, 256], present);
        var third = new Packing(10, 100f, 0, 0, [1, 2, 3, 4, 5, 6]);
        byte[] message = Grib2(3, 2, 60_000_000, 350_000_000, 50_000_000, 10_000_000, 10_000_000, 10_000_000, 0,
        [
            new Grib2Field(11, 2, 22, 103, 10, first, ForecastTime: 69, Statistic: 2, StatisticLength: 3, EnsembleType: 3, Perturbation: 12),
            new Grib2Field(8, 1, 8, 1, 0, second, ForecastTime: 0, Statistic: 1, StatisticLength: 24, ReusePreviousBitmap: true),
            new Grib2Field(1, 0, 0, 100, 85000, third, ForecastTime: 6, EnsembleType: 1, Perturbation: 0),
        ]);
        using var dir = new TempDir();
        using var file = Write(dir, "multi.grib2", message, new byte[13], message); // padding between messages is skipped
        Assert.Equal(6, file.Messages.Count);
        Assert.Equal([1, 1, 1, 2, 2, 2], file.Messages.Select(m => m.MessageNumber));
        Assert.Equal([1, 2, 3, 1, 2, 3], file.Messages.Select(m => m.FieldNumber));

        var gust = file.Messages[0];
        Assert.Equal(("10fg3", 228028, "heightAboveGround", 10.0), (gust.ShortName, gust.ParamId, gust.TypeOfLevel, gust.Level));
        Assert.Equal(("69-72", "max", 12, 3, "pf"), (gust.StepRange, gust.StepType, gust.PerturbationNumber, gust.TypeOfEnsembleForecast, gust.DataType));
        Assert.Equal(new DateTime(2024, 2, 29, 6, 30, 0, DateTimeKind.Utc), gust.ReferenceTime);
        Assert.Equal(new DateTime(2024, 3, 3, 6, 30, 0, DateTimeKind.Utc), gust.ValidTime);
        AssertValues(Expected(first, 6), gust.Values());

        var tp = file.Messages[1];
        Assert.Equal(("tp", "0-24", "accum", (int?)null), (tp.ShortName, tp.StepRange, tp.StepType, tp.PerturbationNumber));
        AssertValues(Expected(second, 6), tp.Values());

        var t850 = file.Messages[2];
        Assert.Equal(("t", "isobaricInhPa", 850.0, "6", 0), (t850.ShortName, t850.TypeOfLevel, t850.Level, t850.StepRange, t850.PerturbationNumber));
        Assert.False(t850.BitmapPresent);
        AssertValues(Expected(third, 6), t850.Values());
        Assert.Equal([350.0, 360, 370, 350, 360, 370], t850.Longitudes());
        Assert.Equal([60.0, 60, 60, 50, 50, 50], t850.Latitudes());
    }

    [Fact]
    public void Grib2_ecmwf_local_section_gives_the_mars_labelling()
    {
        var packing = new Packing(8, 0f, 0, 0, [1, 2, 3, 4]);
        byte[] message = Grib2(2, 2, 10_000_000, 0, 0, 10_000_000, 10_000_000, 10_000_000, 0,
            [new Grib2Field(1, 3, 5, 100, 50000, packing, EnsembleType: 1, Perturbation: 0)], typeOfData: 4, marsType: 17);
        using var dir = new TempDir();
        using var file = Write(dir, "local.grib2", message);
        var m = file.Messages[0];
        Assert.Equal(("em", "od", "enfo", "0042"), (m.DataType, m.Keys["marsClass"], m.Keys["marsStream"], m.Keys["expver"]));
        Assert.Equal(("gh", 156), (m.ShortName, m.ParamId));
    }

    [Fact]
    public void Grib2_alternate_row_scanning_reverses_every_second_row()
    {
        var packing = new Packing(8, 0f, 0, 0, [1, 2, 3, 4, 5, 6]);
        byte[] message = Grib2(3, 2, 10_000_000, 0, 0, 20_000_000, 10_000_000, 10_000_000, 0x10,
            [new Grib2Field(0, 3, 0, 101, 0, packing)]);
        using var dir = new TempDir();
        using var file = Write(dir, "boustrophedon.grib2", message);
        var m = file.Messages[0];
        Assert.Equal(("msl", 151), (m.ShortName, m.ParamId));
        Assert.Equal([0.0, 10, 20, 20, 10, 0], m.Longitudes());
        Assert.Equal([10.0, 10, 10, 0, 0, 0], m.Latitudes());
    }

    [Fact]
    public void Values_are_decoded_lazily_and_listing_does_not_read_them()
    {
        // A message whose packing is unsupported (5.40 JPEG2000) still lists; only Values() reports the problem.
        var packing = new Packing(8, 0f, 0, 0, [1, 2, 3, 4]);
        byte[] message = Grib2(2, 2, 10_000_000, 0, 0, 10_000_000, 10_000_000, 10_000_000, 0,
            [new Grib2Field(0, 0, 0, 100, 50000, packing, Representation: 40)]);
        using var dir = new TempDir();
        using var file = Write(dir, "jpeg.grib2", message);
        Assert.Equal("t", file.Messages[0].ShortName);
        var e = Assert.Throws<Ensemble.Core.EnsembleException>(() => file.Messages[0].Values());
        Assert.Equal($"{dir.File("jpeg.grib2")}: message 1 (byte 0): data representation template 5.40 (JPEG2000) is not supported (only 5.0, simple packing)", e.Message);
    }
}

public sealed class GribGridTests
{
    [Theory]
    [InlineData(0x00)]
    [InlineData(0x80)]
    [InlineData(0x40)]
    [InlineData(0x20)]
    [InlineData(0xE0)]
    public void ToGrid_orders_rows_north_to_south_and_columns_west_to_east(int scanning)
    {
        bool iNeg = (scanning & 0x80) != 0, jPos = (scanning & 0x40) != 0, jCons = (scanning & 0x20) != 0;
        int[] lons = iNeg ? [40, 30, 20, 10] : [10, 20, 30, 40];
        int[] lats = jPos ? [30, 40, 50] : [50, 40, 30];
        var codes = new List<uint>();
        if (jCons) foreach (int lo in lons) foreach (int la in lats) codes.Add((uint)(la * 1000 + lo));
        else foreach (int la in lats) foreach (int lo in lons) codes.Add((uint)(la * 1000 + lo));
        using var dir = new TempDir();
        string path = dir.File("grid.grib");
        File.WriteAllBytes(path, Grib1(4, 3, lats[0] * 1000, lons[0] * 1000, lats[^1] * 1000, lons[^1] * 1000, 10000, 10000, scanning,
            new Packing(16, 0, 0, 0, [.. codes])));
        using var file = GribFile.Open(path);
        var grid = file.Messages[0].ToGrid();
        Assert.Equal((3, 4), (grid.Nlat, grid.Nlon));
        Assert.Equal([50.0, 40, 30], grid.Latitudes);
        Assert.Equal([10.0, 20, 30, 40], grid.Longitudes);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                Assert.Equal(grid.Latitudes[r] * 1000 + grid.Longitudes[c], grid.Values[r * 4 + c], 6);
    }

    [SkippableFact]
    public void ToGrid_flips_the_south_to_north_tigge_field()
    {
        using var file = GribFile.Open(Shared.Require("data/ensemble/tigge_ukmo_pf_pv320K_20061028_global.grib2"));
        var m = file.Messages[1];
        double[] scan = m.Values();
        var grid = m.ToGrid();
        Assert.Equal(89.583333333333, grid.Latitudes[0], 9);
        Assert.Equal(-89.583333333333, grid.Latitudes[^1], 9);
        Assert.Equal(scan.AsSpan(215 * 288, 288).ToArray(), grid.Values.AsSpan(0, 288).ToArray());
        Assert.Equal(scan.AsSpan(0, 288).ToArray(), grid.Values.AsSpan(215 * 288, 288).ToArray());
    }
}
