using System.Text.Json;
using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.NetCdf;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.NetCdf;

public class NetCdf4WriterTests
{
    static readonly DateTime Init = new(2023, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    static (float[] Data, double[] Lat, double[] Lon) Write(string path)
    {
        int ne = 2, nt = 1, nl = 3, nlat = 4, nlon = 5;
        var data = new float[ne * nt * nl * nlat * nlon];
        for (int i = 0; i < data.Length; i++) data[i] = 250f + i * 0.37f;
        data[7] = float.NaN;
        double[] lat = [90, 30, -30, -90];
        double[] lon = [0, 72, 144, 216, 288];
        var w = new NetCdf4Writer();
        w.GlobalAttributes["title"] = "ensemble test output";
        w.AddCoordinate("ensemble", new long[] { 0, 1 }, CfCoordinates.Ensemble())
         .AddCoordinate("time", CfCoordinates.HoursSince(Init, [Init.AddHours(12)]), CfCoordinates.Time(Init))
         .AddCoordinate("lead_time", new long[] { 0, 6, 12 }, CfCoordinates.LeadTime())
         .AddCoordinate("lat", lat, CfCoordinates.Latitude())
         .AddCoordinate("lon", lon, CfCoordinates.Longitude())
         .AddVariable("t2m", ["ensemble", "time", "lead_time", "lat", "lon"], data,
             new Dictionary<string, object> { ["units"] = "K", ["standard_name"] = "air_temperature", ["long_name"] = "2 metre temperature", ["_FillValue"] = float.NaN },
             deflateLevel: 1);
        w.Write(path);
        return (data, lat, lon);
    }

    [Fact]
    public void OurReaderReadsWhatWasWritten()
    {
        using var tmp = new TempDir();
        string path = tmp.File("out.nc");
        var (data, lat, _) = Write(path);
        using var nc = NetCdfFile.Open(path);
        Assert.Equal("NETCDF4", nc.Format);
        Assert.Equal(["ensemble", "time", "lead_time", "lat", "lon"], nc.Dimensions.Select(d => d.Name));
        var v = nc.Variable("t2m");
        Assert.Equal(["ensemble", "time", "lead_time", "lat", "lon"], v.Dimensions);
        Assert.Equal("K", v.TextAttribute("units"));
        var got = nc.ReadDoubles("t2m");
        for (int i = 0; i < data.Length; i++)
            Assert.True(got[i].Equals((double)data[i]), $"value {i}: {got[i]} vs {data[i]}");
        Assert.Equal(lat, nc.ReadDoubles("lat"));
        Assert.Equal([Init.AddHours(12)], nc.Times("time"));
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromHours(6), TimeSpan.FromHours(12)], nc.Durations("lead_time"));
        var slab = nc.ReadSlice("t2m", [1, 0, 2, 1, 0], [1, 1, 1, 2, 5]);
        int off = ((1 * 1 + 0) * 3 + 2) * 20 + 5;
        for (int i = 0; i < 10; i++) Assert.Equal((double)data[off + i], slab[i]);
    }

    [SkippableFact]
    public void XarrayAndNetcdf4PythonSeeNamedDimensionsCoordsAndValues()
    {
        PythonInterop.RequireOrSkip();
        using var tmp = new TempDir();
        string path = tmp.File("out.nc");
        var (data, lat, lon) = Write(path);
        string json = PythonInterop.Run("""
import sys, json, numpy as np, xarray as xr, netCDF4
p = sys.argv[1]
ds = xr.open_dataset(p)
nc = netCDF4.Dataset(p)
v = ds["t2m"]
print(json.dumps({
  "dims": list(v.dims), "shape": list(v.shape),
  "nc_dims": {k: len(d) for k, d in nc.dimensions.items()},
  "coords": sorted(ds.coords), "units": v.attrs["units"], "standard_name": v.attrs["standard_name"],
  "title": ds.attrs["title"], "lat": ds["lat"].values.tolist(), "lon": ds["lon"].values.tolist(),
  "time": str(ds["time"].values[0])[:19], "lead_hours": (ds["lead_time"].values / np.timedelta64(1, "h")).tolist(),
  "values": [None if np.isnan(x) else float(x) for x in v.values.ravel()],
  "dtype": str(v.dtype)}))
""", path);
        var r = JsonDocument.Parse(json).RootElement;
        Assert.Equal(["ensemble", "time", "lead_time", "lat", "lon"], r.GetProperty("dims").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal([2, 1, 3, 4, 5], r.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(5, r.GetProperty("nc_dims").EnumerateObject().Count());
        Assert.Equal(["ensemble", "lat", "lead_time", "lon", "time"], r.GetProperty("coords").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("K", r.GetProperty("units").GetString());
        Assert.Equal("air_temperature", r.GetProperty("standard_name").GetString());
        Assert.Equal("ensemble test output", r.GetProperty("title").GetString());
        Assert.Equal(lat, r.GetProperty("lat").EnumerateArray().Select(x => x.GetDouble()));
        Assert.Equal(lon, r.GetProperty("lon").EnumerateArray().Select(x => x.GetDouble()));
        Assert.Equal("2023-06-01T12:00:00", r.GetProperty("time").GetString());
        Assert.Equal([0.0, 6, 12], r.GetProperty("lead_hours").EnumerateArray().Select(x => x.GetDouble()));
        Assert.Equal("float32", r.GetProperty("dtype").GetString());
        var vals = r.GetProperty("values").EnumerateArray().ToArray();
        Assert.Equal(data.Length, vals.Length);
        for (int i = 0; i < data.Length; i++)
        {
            if (float.IsNaN(data[i])) Assert.Equal(JsonValueKind.Null, vals[i].ValueKind);
            else Assert.Equal((double)data[i], vals[i].GetDouble());
        }
    }

    [SkippableFact]
    public void ReadsFilesWrittenByNetcdf4PythonAndXarray()
    {
        PythonInterop.RequireOrSkip();
        using var tmp = new TempDir();
        string nc4 = tmp.File("py4.nc"), nc3 = tmp.File("py3.nc"), cdf5 = tmp.File("py5.nc");
        PythonInterop.Run("""
import sys, numpy as np, pandas as pd, xarray as xr, netCDF4
t = np.arange(2*3*4, dtype=np.float32).reshape(2, 3, 4) * 1.5 - 3
ds = xr.Dataset({"z500": (("time", "lat", "lon"), t, {"units": "m2 s-2"})},
                coords={"time": pd.date_range("2020-01-01", periods=2, freq="6h"), "lat": [10.0, 0.0, -10.0], "lon": [0.0, 90.0, 180.0, 270.0]})
ds.attrs["title"] = "from xarray"
ds.to_netcdf(sys.argv[1], format="NETCDF4")
for path, fmt in ((sys.argv[2], "NETCDF3_CLASSIC"), (sys.argv[3], "NETCDF3_64BIT_DATA")):
    f = netCDF4.Dataset(path, "w", format=fmt)
    f.createDimension("time", None); f.createDimension("x", 3)
    tv = f.createVariable("time", "f8", ("time",)); tv.units = "days since 2000-01-01"; tv.calendar = "standard"
    a = f.createVariable("a", "i2", ("time", "x"), fill_value=-99); a.scale_factor = 0.5; a.add_offset = 10.0
    b = f.createVariable("b", "f4", ("time", "x"))
    c = f.createVariable("c", "f8", ("x",))
    f.set_auto_maskandscale(False)
    tv[0:2] = [1.0, 2.5]; a[0:2, :] = np.array([[1, 2, -99], [4, 5, 6]], dtype="i2")
    b[0:2, :] = np.array([[0.5, 1.5, 2.5], [3.5, 4.5, 5.5]], dtype="f4"); c[:] = [7, 8, 9]
    f.close()
""", nc4, nc3, cdf5);

        using (var f = NetCdfFile.Open(nc4))
        {
            Assert.Equal("NETCDF4", f.Format);
            Assert.Equal(["time", "lat", "lon"], f.Variable("z500").Dimensions);
            var z = f.ReadDoubles("z500");
            for (int i = 0; i < z.Length; i++) Assert.Equal(i * 1.5 - 3, z[i]);
            Assert.Equal([new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2020, 1, 1, 6, 0, 0, DateTimeKind.Utc)], f.Times("time"));
            Assert.Equal("from xarray", f.GlobalAttribute("title")!.Text);
        }
        foreach (var (path, format) in new[] { (nc3, "NETCDF3_CLASSIC"), (cdf5, "NETCDF3_64BIT_DATA") })
        {
            using var f = NetCdfFile.Open(path);
            Assert.Equal(format, f.Format);
            Assert.True(f.Dimension("time").IsUnlimited);
            Assert.Equal(2, f.Dimension("time").Length);
            var a = f.ReadDoubles("a");
            Assert.Equal(10.5, a[0]); Assert.Equal(11.0, a[1]); Assert.True(double.IsNaN(a[2]));
            Assert.Equal(12.0, a[3]); Assert.Equal(13.0, a[5]);
            Assert.Equal([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], f.ReadDoubles("b"));
            Assert.Equal([4.5, 5.5], f.ReadSlice("b", [1, 1], [1, 2]));
            Assert.Equal([7.0, 8, 9], f.ReadDoubles("c"));
            Assert.Equal(new DateTime(2000, 1, 3, 12, 0, 0, DateTimeKind.Utc), f.Times("time")[1]);
        }
    }

    [Fact]
    public void WriterRefusesMismatchedData()
    {
        var w = new NetCdf4Writer().AddCoordinate("lat", new double[] { 1, 2 });
        var e = Assert.Throws<EnsembleException>(() => w.AddVariable("x", ["lat"], new float[3]));
        Assert.Contains("'x'", e.Message);
        Assert.Throws<EnsembleException>(() => w.AddVariable("y", ["lon"], new float[2]));
    }
}
