using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Data.Conversion;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.Grib;
using Ensemble.Data.Hdf5;
using Ensemble.Data.NetCdf;
using Ensemble.Data.Npy;
using Ensemble.Scoring.Pipeline;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.Conversion;

public class EnsembleConverterTests
{
    static readonly EnsembleConverter Converter = new(GribVariableNames.Of);

    /// <summary>Rows of an ecCodes reference decode (_expected/*.csv) by column name.</summary>
    static List<Dictionary<string, string>> ExpectedRows(string csv)
    {
        var lines = File.ReadAllLines(csv);
        var head = lines[0].Split(',');
        return lines.Skip(1).Select(l => head.Zip(l.Split(',')).ToDictionary(p => p.First, p => p.Second)).ToList();
    }

    static double D(Dictionary<string, string> row, string key) => double.Parse(row[key], CultureInfo.InvariantCulture);

    /// <summary>
    /// The stored field equals ecCodes' decode: first/mid/last value in scan order (north → south, west → east for
    /// jScansPositively = 0, our order too), min, max and mean over the field (float32 storage: 1e-6 relative).
    /// </summary>
    static void MatchesEcCodes(float[] field, Dictionary<string, string> row, string what)
    {
        Assert.Equal("0", row["jScansPositively"]);
        int n = field.Length;
        void Near(double expected, double actual, string key) =>
            Assert.True(Math.Abs(actual - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"{what} {key}: {actual} vs ecCodes {expected}");
        Near(D(row, "value_first"), field[0], "first");
        Near(D(row, "value_last"), field[n - 1], "last");
        Near(D(row, "value_mid"), field[n / 2], "mid");
        Near(D(row, "min"), field.Min(), "min");
        Near(D(row, "max"), field.Max(), "max");
        Near(D(row, "mean"), field.Average(x => (double)x), "mean");
    }

    static double LeadOf(string stepRange) => double.Parse(stepRange.Split('-')[^1], CultureInfo.InvariantCulture);

    static DateTime InitOf(Dictionary<string, string> row) =>
        DateTime.ParseExact(row["dataDate"] + row["dataTime"].PadLeft(4, '0'), "yyyyMMddHHmm", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    [SkippableFact]
    public void Ecmwf_ens_grib_keeps_members_steps_and_levels_with_absent_fields_nan()
    {
        string grib = Shared.Require("data/ensemble/ecmwf_ens_storm_20131025_10fg3_z850.grib");
        string csv = Shared.Require("data/_expected/ensemble__ecmwf_ens_storm_20131025_10fg3_z850.grib.csv");
        using var tmp = new TempDir();
        var r = Converter.Convert([grib], tmp.File("storm.zarr"), new ConversionOptions(Model: "ifs-ens"));
        using var store = EnsembleStore.Open(r.Output);
        var l = store.Layout;
        Assert.Equal(["10fg3", "z850"], l.Variables.Order(StringComparer.Ordinal));
        Assert.Equal(51, l.Members);
        Assert.Equal("m s**-1", l.Units["10fg3"]);
        Assert.Equal("m**2 s**-2", l.Units["z850"]);
        Assert.Equal("ifs-ens", l.Attributes["model"]);
        Assert.Equal("cf", l.MemberInfo![0].Perturbation);
        Assert.Equal("pf", l.MemberInfo![7].Perturbation);

        var rows = ExpectedRows(csv);
        var leads = rows.Select(x => LeadOf(x["stepRange"])).Distinct().Order().ToArray();
        Assert.Equal(leads, l.LeadTimeHours);
        var filled = new HashSet<(string, int, double)>();
        foreach (var row in rows)
        {
            string v = row["shortName"] == "z" ? "z850" : row["shortName"];
            int member = int.Parse(row["number"], CultureInfo.InvariantCulture);
            double lead = LeadOf(row["stepRange"]);
            filled.Add((v, member, lead));
            MatchesEcCodes(store.ReadField(v, member, l.TimeIndex(InitOf(row)), l.LeadIndex(lead)), row, $"{v} member {member} lead {lead}");
        }
        // Fields the GRIB does not have (z850 only exists at one step) are NaN.
        foreach (var v in l.Variables)
            for (int m = 0; m < l.Members; m += 10)
                foreach (var lead in leads.Where(h => !filled.Contains((v, m, h))))
                    Assert.All(store.ReadField(v, m, 0, l.LeadIndex(lead)), x => Assert.True(float.IsNaN(x)));
        Assert.Contains(l.Variables, v => leads.Any(h => !filled.Contains((v, 0, h))));
    }

    [SkippableFact]
    public void Grib_fields_equal_the_decoded_messages_exactly_as_float32()
    {
        string grib = Shared.Require("data/ensemble/era5_eda_10members_t_z_500_850_global3deg.grib");
        using var tmp = new TempDir();
        var r = Converter.Convert([grib], tmp.File("eda.zarr"));
        using var store = EnsembleStore.Open(r.Output);
        var l = store.Layout;
        Assert.Equal(["t500", "t850", "z500", "z850"], l.Variables);
        Assert.Equal(10, l.Members);
        Assert.Equal(4, l.Times.Count);
        Assert.Equal([0.0], l.LeadTimeHours);
        using var f = GribFile.Open(grib);
        foreach (var m in f.Messages.Where((_, i) => i % 7 == 0))
        {
            var expected = Array.ConvertAll(m.ToGrid().Values, x => (float)x);
            var actual = store.ReadField(GribVariableNames.Of(m), m.PerturbationNumber ?? 0, l.TimeIndex(m.ReferenceTime), 0);
            Assert.Equal(expected, actual);
        }
        Assert.Equal(m0Lat(f), l.Lat);

        static double[] m0Lat(GribFile f) => f.Messages[0].ToGrid().Latitudes;
    }

    [SkippableFact]
    public void Deterministic_grib_forecast_is_one_member_and_missing_members_are_renumbered()
    {
        string fc = Shared.Require("data/verification/ifs_fc_20160925_00z_step0_120/t_pl.grib");
        string wgust = Shared.Require("data/ensemble/ecmwf_ens_wgust_20181120.grib");
        using var tmp = new TempDir();
        var r = Converter.Convert([fc], tmp.File("fc.zarr"));
        Assert.Equal(1, r.Layout.Members);
        Assert.Equal([0.0, 120.0], r.Layout.LeadTimeHours);
        using (var f = GribFile.Open(fc))
        using (var store = EnsembleStore.Open(r.Output))
            foreach (var m in f.Messages)
                Assert.Equal(Array.ConvertAll(m.ToGrid().Values, x => (float)x), store.ReadField(GribVariableNames.Of(m), 0, 0, store.Layout.LeadIndex(m.Step.TotalHours)));

        // Perturbed members 1..50 without a control: stored as members 0..49, their numbers kept.
        var w = Converter.Convert([wgust], tmp.File("wgust.zarr"));
        Assert.Equal(50, w.Layout.Members);
        Assert.Equal(string.Join(" ", Enumerable.Range(1, 50)), w.Layout.Attributes["grib_member_numbers"]);
        Assert.Equal(Enumerable.Range(1, 50), w.Layout.MemberInfo!.Select(m => m.Pair));
    }

    [SkippableFact]
    public void Grib_messages_on_different_grids_are_refused_and_nothing_is_written()
    {
        string a = Shared.Require("data/ensemble/ecmwf_ens_z500_20120920_step96.grib");
        string b = Shared.Require("data/ensemble/era5_eda_10members_t_z_500_850_global3deg.grib");
        using var tmp = new TempDir();
        var e = Assert.Throws<EnsembleException>(() => Converter.Convert([a, b], tmp.File("mixed.nc")));
        Assert.Contains("grid", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [SkippableFact]
    public void Cf_netcdf_levels_become_variables_at_lead_zero_with_cf_decoding()
    {
        string nc = Shared.Require("data/analysis/era5_t_z_500_850_20070101_12z_1deg_global.nc");
        string stats = Shared.Require("data/_expected/netcdf_unpacked_stats.json");
        using var tmp = new TempDir();
        var r = Converter.Convert([nc], tmp.File("era5.zarr"));
        using var store = EnsembleStore.Open(r.Output);
        var l = store.Layout;
        Assert.Equal(["t500", "t850", "z500", "z850"], l.Variables);
        Assert.Equal("K", l.Units["t850"]);
        Assert.Equal(new DateTime(2007, 1, 1, 12, 0, 0, DateTimeKind.Utc), l.Times.Single());
        Assert.Equal([0.0], l.LeadTimeHours);
        using var file = NetCdfFile.Open(nc);
        // The reference JSON writes NaN bare (Python json); quote it so System.Text.Json parses the file.
        var expected = JsonNode.Parse(System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(stats), @"(?<=[:\[,]\s*)NaN\b", "\"NaN\""))!["analysis/era5_t_z_500_850_20070101_12z_1deg_global.nc"]!["vars"]!;
        foreach (var v in new[] { "t", "z" })
        {
            var all = new List<float>();
            for (int k = 0; k < 2; k++)
            {
                var decoded = Array.ConvertAll(file.ReadSlice(v, [0, k, 0, 0], [1, 1, 181, 360]), x => (float)x);
                var stored = store.ReadField(v + (k == 0 ? "500" : "850"), 0, 0, 0);
                Assert.Equal(decoded, stored);
                all.AddRange(stored);
            }
            // and the decode agrees with netCDF4-python's (scale_factor/add_offset unpacking).
            double min = expected[v]!["min"]!.GetValue<double>(), max = expected[v]!["max"]!.GetValue<double>(), mean = expected[v]!["mean"]!.GetValue<double>();
            Assert.True(Math.Abs(all.Min() - min) <= 1e-5 * Math.Abs(min), $"{v} min {all.Min()} vs {min}");
            Assert.True(Math.Abs(all.Max() - max) <= 1e-5 * Math.Abs(max), $"{v} max {all.Max()} vs {max}");
            Assert.True(Math.Abs(all.Average(x => (double)x) - mean) <= 1e-5 * Math.Abs(mean), $"{v} mean");
        }
    }

    [SkippableFact]
    public void Netcdf4_fields_with_a_scalar_time_and_variable_selection()
    {
        string nc = Shared.Require("data/analysis/era5_sfc_19950714_12z_conus_0p25deg.nc");
        using var tmp = new TempDir();
        var r = Converter.Convert([nc], tmp.File("conus.nc"), new ConversionOptions(["t2m", "sp"]));
        using var store = EnsembleStore.Open(r.Output);
        Assert.Equal("netcdf4", store.Format);
        Assert.Equal(["t2m", "sp"], store.Layout.Variables);
        Assert.Equal(new DateTime(1995, 7, 14, 12, 0, 0, DateTimeKind.Utc), store.Layout.Times.Single());
        Assert.Equal("Pa", store.Layout.Units["sp"]);
        using var file = NetCdfFile.Open(nc);
        Assert.Equal(file.ReadFloats("t2m"), store.ReadField("t2m", 0, 0, 0));
        Assert.Equal(file.ReadFloats("sp"), store.ReadField("sp", 0, 0, 0));

        var e = Assert.Throws<EnsembleException>(() => Converter.Convert([nc], tmp.File("bad.zarr"), new ConversionOptions(["t2m", "z500"])));
        Assert.Contains("'z500'", e.Message);
        Assert.False(Directory.Exists(tmp.File("bad.zarr")));
        Assert.Single(Directory.EnumerateFileSystemEntries(tmp.Path));
    }

    [SkippableFact]
    public void Zarr_to_netcdf_and_back_is_exact()
    {
        string grib = Shared.Require("data/ensemble/ecmwf_ens_storm_20131025_10fg3_z850.grib");
        using var tmp = new TempDir();
        var a = Converter.Convert([grib], tmp.File("a.zarr"));
        var b = Converter.Convert([a.Output], tmp.File("b.nc"));
        var c = Converter.Convert([b.Output], tmp.File("c.zarr"));
        using var ra = EnsembleStore.Open(a.Output);
        using var rc = EnsembleStore.Open(c.Output);
        Assert.True(ra.Layout.SameAs(rc.Layout), "layout changed in the round trip");
        foreach (var v in ra.Layout.Variables)
        {
            using var x = ra.Read(v);
            using var y = rc.Read(v);
            var xs = x.data<float>().ToArray();
            var ys = y.data<float>().ToArray();
            Assert.Equal(xs.Length, ys.Length);
            for (int i = 0; i < xs.Length; i++)
                Assert.True(xs[i].Equals(ys[i]), $"{v}[{i}]: {xs[i]} vs {ys[i]}");
        }
        Assert.Equal(a.SlotsWritten, c.SlotsWritten);
    }

    /// <summary>A Makani folder (data.json + 2018.h5, 2019.h5) from the real FCN3 75-channel sample.</summary>
    static (string Folder, float[] Data, string[] Channels, int Nlat, int Nlon) MakaniFolder(TempDir tmp)
    {
        string npz = Shared.Require("data/makani/sample_30km_equator_fcn3_75ch.npz");
        string meta = Shared.Require("data/makani/fcn3_75ch_channels_bias_scale.json");
        NpyArray data;
        using (var zip = ZipFile.OpenRead(npz))
        using (var s = zip.GetEntry("data.npy")!.Open())
            data = NpyFile.Read(s, "data.npy");
        var values = (float[])data.ToTensor().data<float>().ToArray();
        var json = JsonNode.Parse(File.ReadAllText(meta))!;
        var channels = json["channels"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()).ToArray();
        int row0 = json["crop_offset"]![0]!.GetValue<int>(), nlat = (int)data.Shape[2], nlon = (int)data.Shape[3];
        var lat = Enumerable.Range(row0, nlat).Select(i => 90 - 0.25 * i).ToArray();
        var lon = Enumerable.Range(0, nlon).Select(j => 0.25 * j).ToArray();
        string folder = Path.Combine(tmp.Path, "makani");
        Directory.CreateDirectory(folder);
        new MakaniMetadata("fcn3-sample", 6, channels, lat, lon).Write(Path.Combine(folder, "data.json"));
        int field = channels.Length * nlat * nlon;
        MakaniYearFile.Write(Path.Combine(folder, "2018.h5"), 2018, 6, values, channels, lat, lon);
        // 2019 holds the two times in reverse order, so times and values cannot line up by accident.
        var swapped = values.AsSpan(field, field).ToArray().Concat(values.AsSpan(0, field).ToArray()).ToArray();
        MakaniYearFile.Write(Path.Combine(folder, "2019.h5"), 2019, 6, swapped, channels, lat, lon);
        return (folder, values, channels, nlat, nlon);
    }

    [SkippableFact]
    public void Makani_folder_converts_exactly_with_its_time_convention()
    {
        using var tmp = new TempDir();
        var (folder, values, channels, nlat, nlon) = MakaniFolder(tmp);
        var r = Converter.Convert([folder], tmp.File("makani.zarr"));
        using var store = EnsembleStore.Open(r.Output);
        var l = store.Layout;
        Assert.Equal(channels, l.Variables);
        DateTime y18 = new(2018, 1, 1, 0, 0, 0, DateTimeKind.Utc), y19 = new(2019, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal([y18, y18.AddHours(6), y19, y19.AddHours(6)], l.Times);
        int n = nlat * nlon, field = channels.Length * n;
        foreach (var c in new[] { 0, 1, 37, 74 })
        {
            var t0 = values.AsSpan(c * n, n).ToArray();
            var t1 = values.AsSpan(field + c * n, n).ToArray();
            Assert.Equal(t0, store.ReadField(channels[c], 0, 0, 0));
            Assert.Equal(t1, store.ReadField(channels[c], 0, 1, 0));
            Assert.Equal(t1, store.ReadField(channels[c], 0, 2, 0));
            Assert.Equal(t0, store.ReadField(channels[c], 0, 3, 0));
        }

        // One year file with data.json beside it.
        var one = Converter.Convert([Path.Combine(folder, "2019.h5")], tmp.File("y2019.nc"), new ConversionOptions(["t2m", "z500"]));
        using var s1 = EnsembleStore.Open(one.Output);
        Assert.Equal([y19, y19.AddHours(6)], s1.Layout.Times);
        int t2m = Array.IndexOf(channels, "t2m");
        Assert.Equal(values.AsSpan(field + t2m * n, n).ToArray(), s1.ReadField("t2m", 0, 0, 0));
    }

    [SkippableFact]
    public void Xarray_opens_the_zarr_and_netcdf_outputs_with_named_dims()
    {
        PythonInterop.RequireOrSkip();
        string grib = Shared.Require("data/ensemble/ecmwf_ens_storm_20131025_10fg3_z850.grib");
        using var tmp = new TempDir();
        var z = Converter.Convert([grib], tmp.File("s.zarr"));
        var n = Converter.Convert([grib], tmp.File("s.nc"));
        using var store = EnsembleStore.Open(z.Output);
        float probe = store.ReadField("10fg3", 17, 0, store.Layout.LeadIndex(78))[5 * 48 + 11];
        const string script = """
import sys, xarray as xr
for path, engine in ((sys.argv[1], "zarr"), (sys.argv[2], "netcdf4")):
    ds = xr.open_dataset(path, engine=engine)
    v = ds["10fg3"]
    assert v.dims == ("ensemble", "time", "lead_time", "lat", "lon"), v.dims
    val = float(v.sel(lead_time=ds.lead_time[list(ds.lead_time.values.astype("timedelta64[h]").astype(int)).index(78)]).isel(ensemble=17, time=0, lat=5, lon=11))
    print(engine, repr(val), ds.sizes["ensemble"], ds["z850"].attrs.get("units"))
""";
        var lines = PythonInterop.Run(script, z.Output, n.Output).Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        foreach (var line in lines)
        {
            var parts = line.Split(' ');
            Assert.Equal((double)probe, double.Parse(parts[1], CultureInfo.InvariantCulture));
            Assert.Equal("51", parts[2]);
            Assert.Equal("m**2", parts[3]);
        }
    }

    [Fact]
    public void Unknown_inputs_and_outputs_are_one_line_errors()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("notes.txt"), "not a forecast");
        var e = Assert.Throws<EnsembleException>(() => Converter.Convert([tmp.File("notes.txt")], tmp.File("o.zarr")));
        Assert.Contains("unrecognised format", e.Message);
        Assert.Throws<EnsembleException>(() => Converter.Convert([tmp.File("notes.txt")], tmp.File("o.csv")));
        Assert.Throws<EnsembleException>(() => Converter.Convert([tmp.File("missing.grib")], tmp.File("o.nc")));
        Assert.Single(Directory.EnumerateFileSystemEntries(tmp.Path));
    }
}
