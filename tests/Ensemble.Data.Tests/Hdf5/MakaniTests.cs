using System.Text.Json;
using Ensemble.Core;
using Ensemble.Data.Hdf5;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.Hdf5;

public class MakaniTests
{
    static readonly string[] Channels = ["u10m", "v10m", "t2m", "z500"];
    static readonly double[] Lat = [90, 45, 0, -45, -90];
    static readonly double[] Lon = [0, 60, 120, 180, 240, 300];

    static float[] Fields(int nt)
    {
        var rng = new Random(7);
        var f = new float[nt * Channels.Length * Lat.Length * Lon.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)(rng.NextDouble() * 600 - 300);
        f[3] = float.NaN;
        return f;
    }

    [Fact]
    public void WriteReadIsBitExactAndSingleTimesAreHyperslabs()
    {
        using var tmp = new TempDir();
        string path = tmp.File("2020.h5");
        var f = Fields(5);
        MakaniYearFile.Write(path, 2020, 6, f, Channels, Lat, Lon);
        using var r = MakaniYearFile.Open(path);
        Assert.Equal([5L, 4, 5, 6], r.Shape);
        Assert.Equal(Channels, r.Channels);
        Assert.Equal(6, r.DHours);
        var all = r.ReadAll();
        Assert.Equal(f.Select(BitConverter.SingleToInt32Bits), all.Select(BitConverter.SingleToInt32Bits));
        int per = 4 * 5 * 6;
        var t3 = r.ReadTime(3);
        Assert.Equal(f.AsSpan(3 * per, per).ToArray().Select(BitConverter.SingleToInt32Bits), t3.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(new DateTime(2020, 1, 1, 18, 0, 0, DateTimeKind.Utc), r.TimeOf(3));
        Assert.Throws<EnsembleException>(() => r.ReadTime(5));
    }

    [Fact]
    public void MetadataAndStatsRoundTrip()
    {
        using var tmp = new TempDir();
        var meta = new MakaniMetadata("test", 6, Channels, Lat, Lon);
        meta.Write(tmp.File("data.json"));
        var back = MakaniMetadata.Read(tmp.File("data.json"));
        Assert.Equal(Channels, back.Channels);
        Assert.Equal(Lat, back.Lat);
        Assert.Equal(6, back.DHours);
        string stats = tmp.File("stats");
        MakaniStats.WriteGlobal(stats, [1, 2, 3, 4], [5, 6, 7, 8]);
        var (m, s) = MakaniStats.ReadGlobal(stats);
        Assert.Equal([1.0, 2, 3, 4], m);
        Assert.Equal([5.0, 6, 7, 8], s);
        Assert.Equal([1L, 4, 1, 1], Ensemble.Data.Npy.NpyFile.Read(Path.Combine(stats, "global_means.npy")).Shape);
        MakaniStats.WriteTimeMeans(stats, new float[4 * 5 * 6], 4, 5, 6);
        Assert.Equal([1L, 4, 5, 6], Ensemble.Data.Npy.NpyFile.Read(Path.Combine(stats, "time_means.npy")).Shape);
    }

    [Fact]
    public void BadFilesGiveClearErrors()
    {
        using var tmp = new TempDir();
        string path = tmp.File("2021.h5");
        File.WriteAllBytes(path, [1, 2, 3, 4]);
        var e = Assert.Throws<EnsembleException>(() => MakaniYearFile.Open(path));
        Assert.Contains("2021.h5", e.Message);
        Assert.Throws<EnsembleException>(() => MakaniYearFile.Write(tmp.File("2022.h5"), 2022, 6, new float[7], Channels, Lat, Lon));
    }

    [SkippableFact]
    public void H5pyAndXarrayOpenOurYearFile()
    {
        PythonInterop.RequireOrSkip();
        // Like earth2mip we open Makani files with h5netcdf: netCDF-C (the netCDF4 engine) aborts on
        // fixed-length string variables such as Makani's `channel`, for files from h5py as well.
        Skip.IfNot(PythonInterop.Run("import importlib.util; print(importlib.util.find_spec('h5netcdf') is not None)").Trim() == "True",
            "python3-h5netcdf is not installed");
        using var tmp = new TempDir();
        string path = tmp.File("2020.h5");
        var f = Fields(3);
        MakaniYearFile.Write(path, 2020, 6, f, Channels, Lat, Lon);
        string json = PythonInterop.Run("""
import sys, json, numpy as np, h5py, xarray as xr
h = h5py.File(sys.argv[1], "r")
d = h["fields"]
scales = [d.dims[i].keys() for i in range(4)]
ch = [c.decode() if isinstance(c, bytes) else c for c in h["channel"][...]]
ds = xr.open_dataset(sys.argv[1], engine="h5netcdf")
print(json.dumps({"shape": list(d.shape), "dtype": str(d.dtype), "scales": scales, "channels": ch,
  "ts": h["timestamp"][...].tolist(), "xr_dims": list(ds["fields"].dims),
  "h5": [None if np.isnan(x) else float(x) for x in d[...].ravel()],
  "xr": [None if np.isnan(x) else float(x) for x in ds["fields"].values.ravel()]}))
""", path);
        var r = JsonDocument.Parse(json).RootElement;
        Assert.Equal([3, 4, 5, 6], r.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal("float32", r.GetProperty("dtype").GetString());
        Assert.Equal(["timestamp", "channel", "lat", "lon"], r.GetProperty("scales").EnumerateArray().Select(x => x[0].GetString()));
        Assert.Equal(["timestamp", "channel", "lat", "lon"], r.GetProperty("xr_dims").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(Channels, r.GetProperty("channels").EnumerateArray().Select(x => x.GetString()));
        double t0 = (new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds;
        Assert.Equal([t0, t0 + 21600, t0 + 43200], r.GetProperty("ts").EnumerateArray().Select(x => x.GetDouble()));
        foreach (var key in new[] { "h5", "xr" })
        {
            var v = r.GetProperty(key).EnumerateArray().ToArray();
            Assert.Equal(f.Length, v.Length);
            for (int i = 0; i < f.Length; i++)
                if (float.IsNaN(f[i])) Assert.Equal(JsonValueKind.Null, v[i].ValueKind);
                else Assert.Equal((double)f[i], v[i].GetDouble());
        }
    }
}
