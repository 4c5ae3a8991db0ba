using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Scoring.Pipeline;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Data.Tests.EnsembleOutput.EnsembleTestData;

namespace Ensemble.Data.Tests.EnsembleOutput;

public class EnsembleStoreTests
{
    static void AssertLayoutsEqual(EnsembleLayout expected, EnsembleLayout actual)
    {
        Assert.Equal(expected.Variables, actual.Variables);
        Assert.Equal(expected.Times, actual.Times);
        Assert.Equal(expected.LeadTimeHours, actual.LeadTimeHours);
        Assert.Equal(expected.Members, actual.Members);
        Assert.Equal(expected.Lat, actual.Lat);
        Assert.Equal(expected.Lon, actual.Lon);
        Assert.Equal(expected.MemberInfo, actual.MemberInfo);
        foreach (var v in expected.Variables) Assert.Equal(expected.Units[v], actual.Units[v]);
        foreach (var (k, v) in expected.Attributes) Assert.Equal(v, actual.Attributes[k]);
        Assert.Equal("CF-1.10", actual.Attributes["Conventions"]);
        Assert.True(actual.Attributes.ContainsKey("software_version"));
        Assert.True(expected.SameAs(actual));
    }

    static void AssertValues(IEnsembleReader r, (int M, int T, int L)? missing = null)
    {
        var l = r.Layout;
        int n = l.Nlat * l.Nlon;
        for (int v = 0; v < l.Variables.Count; v++)
        {
            using var all = r.Read(l.Variables[v]);
            Assert.Equal(new long[] { l.Members, l.Times.Count, l.LeadTimeHours.Count, l.Nlat, l.Nlon }, all.shape);
            var flat = all.data<float>().ToArray();
            for (int m = 0; m < l.Members; m++)
                for (int t = 0; t < l.Times.Count; t++)
                    for (int s = 0; s < l.LeadTimeHours.Count; s++)
                    {
                        var field = r.ReadField(l.Variables[v], m, t, s);
                        long off = (((long)m * l.Times.Count + t) * l.LeadTimeHours.Count + s) * n;
                        for (int i = 0; i < n; i++)
                        {
                            float expected = missing == (m, t, s) ? float.NaN : Value(m, t, s, v, i);
                            Assert.Equal(expected, field[i]);
                            Assert.Equal(expected, flat[off + i]);
                        }
                    }
        }
    }

    [Fact]
    public void ZarrRoundTripKeepsLayoutValuesAndMissingChunksReadAsNaN()
    {
        using var dir = new TempDir();
        var layout = Layout();
        string path = dir.File("out.zarr");
        using (var w = EnsembleStore.Create(path, layout))
            WriteAll(w, [0, 1, 2, 3], skip: (2, 1, 1));
        using var r = EnsembleStore.Open(path);
        Assert.Equal("zarr", r.Format);
        AssertLayoutsEqual(layout, r.Layout);
        AssertValues(r, missing: (2, 1, 1));
        // One chunk per (member, time, lead) and variable; consolidated metadata present.
        Assert.True(File.Exists(Path.Combine(path, ".zmetadata")));
        Assert.True(File.Exists(Path.Combine(path, "t850", "3.1.2.0.0")));
        Assert.False(File.Exists(Path.Combine(path, "t850", "2.1.1.0.0")));
    }

    [Fact]
    public void NetCdfExportRoundTrips()
    {
        using var dir = new TempDir();
        var layout = Layout();
        string zarr = dir.File("out.zarr"), nc = dir.File("out.nc");
        using (var w = EnsembleStore.Create(zarr, layout))
            WriteAll(w, [0, 1, 2, 3], skip: (1, 0, 2));
        EnsembleStore.ToNetCdf(zarr, nc);
        using var r = EnsembleStore.Open(nc);
        Assert.Equal("netcdf4", r.Format);
        AssertLayoutsEqual(layout, r.Layout);
        AssertValues(r, missing: (1, 0, 2));
    }

    [Fact]
    public void ConcurrentRanksProduceTheSameStoreAsOneWriter()
    {
        using var dir = new TempDir();
        var layout = Layout(members: 6);
        string single = dir.File("single.zarr"), shared = dir.File("shared.zarr");
        using (var w = EnsembleStore.Create(single, layout))
            WriteAll(w, Enumerable.Range(0, 6).ToArray(), batch: 4);
        // Three "ranks", each creating the store itself (racing on the skeleton) and writing its own members.
        var ranks = new[] { new[] { 0, 3 }, new[] { 1, 4 }, new[] { 2, 5 } };
        Parallel.ForEach(ranks, new ParallelOptions { MaxDegreeOfParallelism = 3 }, members =>
        {
            using var w = EnsembleStore.Create(shared, Layout(members: 6));
            WriteAll(w, members, batch: 1);
        });
        var a = Snapshot(single);
        var b = Snapshot(shared);
        Assert.Equal(a.Keys, b.Keys);
        foreach (var (k, bytes) in a) Assert.True(bytes.AsSpan().SequenceEqual(b[k]), $"{k} differs");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir.Path), p => p.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void JoiningAStoreWithAnotherLayoutFails()
    {
        using var dir = new TempDir();
        string path = dir.File("out.zarr");
        using (var w = EnsembleStore.Create(path, Layout())) WriteAll(w, [0]);
        using (EnsembleStore.Create(path, Layout())) { } // same layout: joins, keeps the data
        using (var r = EnsembleStore.Open(path)) Assert.Equal(Value(0, 1, 2, 1, 7), r.ReadField("t850", 0, 1, 2)[7]);
        var other = Layout() with { LeadTimeHours = [0, 6, 18] };
        var e = Assert.Throws<EnsembleException>(() => EnsembleStore.Create(path, other));
        Assert.Contains("different layout", e.Message);
        Directory.CreateDirectory(dir.File("plain"));
        File.WriteAllText(Path.Combine(dir.File("plain"), "x.txt"), "not a store");
        Assert.Throws<EnsembleException>(() => EnsembleStore.Create(dir.File("plain"), Layout()));
    }

    [Fact]
    public void WriteRejectsWrongShapesAndIndices()
    {
        using var dir = new TempDir();
        var layout = Layout();
        using var w = EnsembleStore.Create(dir.File("out.zarr"), layout);
        using var f = Fields(layout, [0, 1], 0, 0);
        Assert.Throws<EnsembleException>(() => w.Write([0], 0, 0, f));
        Assert.Throws<EnsembleException>(() => w.Write([0, 4], 0, 0, f));
        Assert.Throws<EnsembleException>(() => w.Write([0, 1], 2, 0, f));
        Assert.Throws<EnsembleException>(() => w.Write([1, 1], 0, 0, f));
        Assert.Throws<EnsembleException>(() => EnsembleStore.Create(dir.File("bad.zarr"), layout with { Variables = ["lat"] }));
    }

    [SkippableFact]
    public void ForecastReaderReadsZarrAndNetCdfStores()
    {
        using var dir = new TempDir();
        var layout = Layout();
        string zarr = dir.File("out.zarr"), nc = dir.File("out.nc");
        using (var w = EnsembleStore.Create(zarr, layout)) WriteAll(w, [0, 1, 2, 3]);
        EnsembleStore.ToNetCdf(zarr, nc);
        foreach (var path in new[] { zarr, nc })
        {
            using var set = ForecastReader.Open(path);
            Assert.Equal(layout.Variables.Order(StringComparer.Ordinal), set.Variables.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(layout.Lat, set.Grid.Latitudes);
            var t850 = set.Variables["t850"];
            Assert.Equal(layout.Times, t850.InitTimes);
            Assert.Equal(layout.LeadTimeHours, t850.LeadHours);
            Assert.Equal(4, t850.Members);
            Assert.Equal(Value(3, 1, 2, 1, 39), t850.Data[3, 1, 2, 4, 7].item<double>());
        }
    }

    [SkippableFact]
    public void XarrayOpensZarrAndNetCdfWithNamedDimsAndDecodedTimes()
    {
        PythonInterop.RequireOrSkip();
        using var dir = new TempDir();
        var layout = Layout();
        string zarr = dir.File("out.zarr"), nc = dir.File("out.nc");
        using (var w = EnsembleStore.Create(zarr, layout)) WriteAll(w, [0, 1, 2, 3], skip: (0, 0, 0));
        EnsembleStore.ToNetCdf(zarr, nc);
        const string script = """
import sys, json, numpy as np, xarray as xr
for path, kw in ((sys.argv[1], dict(engine="zarr", consolidated=True)), (sys.argv[2], dict(engine="netcdf4"))):
    ds = xr.open_dataset(path, **kw)
    v = ds["t850"]
    print("dims", v.dims)
    print("time", [str(t)[:19] for t in ds["time"].values])
    print("lead", [int(x / np.timedelta64(1, "h")) for x in ds["lead_time"].values])
    print("attrs", v.attrs["units"], ds["lead_time"].attrs.get("standard_name"), ds.attrs["title"])
    models = list(ds["model"].values) if "model" in ds else json.loads(ds.attrs["member_model"])
    print("members", models, [int(s) for s in ds["seed"].values], [int(s) for s in ds["sign"].values])
    print("value", float(v.isel(ensemble=3, time=1, lead_time=2, lat=4, lon=7)), bool(np.isnan(v.isel(ensemble=0, time=0, lead_time=0)).all()))
""";
        var lines = PythonInterop.Run(script, zarr, nc).Trim().Split('\n');
        Assert.Equal(12, lines.Length);
        for (int k = 0; k < 2; k++)
        {
            var s = lines.Skip(6 * k).Take(6).ToArray();
            Assert.Equal("dims ('ensemble', 'time', 'lead_time', 'lat', 'lon')", s[0]);
            Assert.Equal("time ['2023-06-01T00:00:00', '2023-06-01T12:00:00']", s[1]);
            Assert.Equal("lead [0, 6, 12]", s[2]);
            Assert.Equal("attrs K forecast_period store test", s[3]);
            Assert.Equal("members ['sfno-ckpt0', 'sfno-ckpt0', 'sfno-ckpt1', 'sfno-ckpt1'] [9007199254740993, 9007199254740994, 9007199254740995, 9007199254740996] [1, -1, 1, -1]", s[4]);
            Assert.Equal($"value {((double)Value(3, 1, 2, 1, 39)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)} True", s[5]);
        }
    }
}
