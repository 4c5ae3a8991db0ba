using System.Text.Json;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.Zarr;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.Zarr;

public class ZarrStoreTests
{
    static readonly DateTime Init = new(2023, 6, 1, 0, 0, 0, DateTimeKind.Utc);

    static JsonObject Attrs(Dictionary<string, object> d)
    {
        var o = new JsonObject();
        foreach (var (k, v) in d) o[k] = JsonValue.Create(v);
        return o;
    }

    /// <summary>(ensemble 2, time 1, lead_time 3, lat 5, lon 4) t2m with chunks (1,1,1,3,4): edge chunks overhang lat.</summary>
    static float[] WriteStore(string path, ZarrCodec? codec, bool skipOneChunk = false)
    {
        var store = ZarrStore.Create(path, new JsonObject { ["title"] = "zarr test" });
        store.WriteArray("ensemble", ["ensemble"], [0, 1], [2], "<i8", Attrs(CfCoordinates.Ensemble()), fillValue: null);
        store.WriteArray("time", ["time"], CfCoordinates.HoursSince(Init, [Init]), [1], "<i8", Attrs(CfCoordinates.Time(Init)), fillValue: null);
        store.WriteArray("lead_time", ["lead_time"], [0, 6, 12], [3], "<i8", Attrs(CfCoordinates.LeadTime()), fillValue: null);
        store.WriteArray("lat", ["lat"], [90, 45, 0, -45, -90], [5], "<f8", Attrs(CfCoordinates.Latitude()));
        store.WriteArray("lon", ["lon"], [0, 90, 180, 270], [4], "<f8", Attrs(CfCoordinates.Longitude()));
        var a = store.CreateArray("t2m", ["ensemble", "time", "lead_time", "lat", "lon"], [2, 1, 3, 5, 4], [1, 1, 1, 3, 4],
            "<f4", codec, double.NaN, new JsonObject { ["units"] = "K", ["long_name"] = "2 metre temperature" });
        var data = new float[2 * 3 * 5 * 4];
        for (int i = 0; i < data.Length; i++) data[i] = 200f + i * 0.25f;
        foreach (var ci in AllChunks(a))
        {
            if (skipOneChunk && ci[0] == 1 && ci[2] == 2 && ci[3] == 1) continue;
            a.WriteChunk(ci, ChunkPart(data, a, ci));
        }
        store.Consolidate();
        return data;
    }

    static IEnumerable<long[]> AllChunks(ZarrArray a)
    {
        var g = a.ChunkGrid;
        var ci = new long[a.Rank];
        while (true)
        {
            yield return (long[])ci.Clone();
            int k = a.Rank - 1;
            while (k >= 0 && ++ci[k] == g[k]) { ci[k] = 0; k--; }
            if (k < 0) yield break;
        }
    }

    /// <summary>The in-array part of a chunk, gathered from the full C-order data.</summary>
    static float[] ChunkPart(float[] data, ZarrArray a, long[] ci)
    {
        var origin = ci.Select((c, i) => c * a.Chunks[i]).ToArray();
        var extent = origin.Select((o, i) => Math.Min(a.Chunks[i], a.Shape[i] - o)).ToArray();
        var part = new float[extent.Aggregate(1L, (x, y) => x * y)];
        var idx = new long[a.Rank];
        for (int k = 0; k < part.Length; k++)
        {
            long src = 0;
            for (int d = 0; d < a.Rank; d++) src = src * a.Shape[d] + origin[d] + idx[d];
            part[k] = data[src];
            for (int d = a.Rank - 1; d >= 0 && ++idx[d] == extent[d]; d--) idx[d] = 0;
        }
        return part;
    }

    public static TheoryData<string?> Codecs() => new() { null, "zlib", "zstd" };

    static ZarrCodec? Codec(string? id) => id switch { "zlib" => ZarrCodec.Zlib(5), "zstd" => ZarrCodec.Zstd(3), _ => null };

    [Theory]
    [MemberData(nameof(Codecs))]
    public void RoundTripsAndReadsSlicesAcrossChunks(string? codec)
    {
        using var tmp = new TempDir();
        string path = tmp.File("out.zarr");
        var data = WriteStore(path, Codec(codec));
        var a = ZarrStore.Open(path).OpenArray("t2m");
        Assert.Equal(["ensemble", "time", "lead_time", "lat", "lon"], a.Dimensions);
        Assert.Equal(codec, a.Compressor?.Id);
        var all = a.ReadAll();
        for (int i = 0; i < data.Length; i++) Assert.Equal((double)data[i], all[i]);
        // lat rows 2..4 span the chunk boundary at 3; lon 1..2.
        var s = a.ReadSlice([1, 0, 1, 2, 1], [1, 1, 2, 3, 2]);
        int k = 0;
        for (int l = 1; l < 3; l++)
            for (int y = 2; y < 5; y++)
                for (int x = 1; x < 3; x++)
                    Assert.Equal((double)data[(((1 * 1 + 0) * 3 + l) * 5 + y) * 4 + x], s[k++]);
        Assert.True(File.Exists(Path.Combine(path, "t2m", "1.0.2.1.0")));
        Assert.True(File.Exists(Path.Combine(path, ".zmetadata")));
    }

    [Fact]
    public void MissingChunksReadAsFillValue()
    {
        using var tmp = new TempDir();
        string path = tmp.File("out.zarr");
        var data = WriteStore(path, null, skipOneChunk: true);
        var all = ZarrStore.Open(path).OpenArray("t2m").ReadAll();
        int missing = all.Count(double.IsNaN);
        Assert.Equal(2 * 4, missing); // the skipped edge chunk covers lat rows 3..4
        Assert.Equal((double)data[0], all[0]);
    }

    [Fact]
    public async Task TwoWritersWriteDisjointChunksConcurrently()
    {
        using var tmp = new TempDir();
        string path = tmp.File("concurrent.zarr");
        var store = ZarrStore.Create(path);
        var meta = store.CreateArray("x", ["ensemble", "lat", "lon"], [8, 16, 12], [1, 16, 12], "<f4", ZarrCodec.Zstd());
        float Value(long m, int i) => m * 1000 + i * 0.5f;
        // Two writers sharing nothing but the path, each with its own store handle, members split even/odd.
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var own = ZarrStore.Open(path).OpenArray("x");
            for (long m = w; m < 8; m += 2)
            {
                var chunk = new float[16 * 12];
                for (int i = 0; i < chunk.Length; i++) chunk[i] = Value(m, i);
                own.WriteChunk([m, 0, 0], chunk);
            }
        })).ToArray();
        await Task.WhenAll(writers);
        store.Consolidate();
        var all = ZarrStore.Open(path).OpenArray("x").ReadAll();
        for (long m = 0; m < 8; m++)
            for (int i = 0; i < 16 * 12; i++)
                Assert.Equal((double)Value(m, i), all[m * 192 + i]);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(path, "x"), "*.tmp"));
        // Re-creating the same array is idempotent; a different shape is refused.
        store.CreateArray("x", ["ensemble", "lat", "lon"], [8, 16, 12], [1, 16, 12], "<f4", ZarrCodec.Zstd());
        Assert.Throws<EnsembleException>(() => store.CreateArray("x", ["ensemble", "lat", "lon"], [9, 16, 12], [1, 16, 12], "<f4", ZarrCodec.Zstd()));
    }

    [Fact]
    public void CorruptStoresGiveClearErrors()
    {
        using var tmp = new TempDir();
        string path = tmp.File("bad.zarr");
        WriteStore(path, ZarrCodec.Zlib());
        File.WriteAllBytes(Path.Combine(path, "t2m", "0.0.0.0.0"), [1, 2, 3]);
        var e = Assert.Throws<EnsembleException>(() => ZarrStore.Open(path).OpenArray("t2m").ReadAll());
        Assert.Contains("0.0.0.0.0", e.Message);
        Assert.Throws<EnsembleException>(() => ZarrStore.Open(path).OpenArray("nope"));
        Assert.Throws<EnsembleException>(() => ZarrStore.Open(tmp.File("none.zarr")));
    }

    [SkippableTheory]
    [MemberData(nameof(Codecs))]
    public void XarrayOpensOurStore(string? codec)
    {
        PythonInterop.RequireOrSkip();
        using var tmp = new TempDir();
        string path = tmp.File("out.zarr");
        var data = WriteStore(path, Codec(codec));
        string json = PythonInterop.Run("""
import sys, json, numpy as np, xarray as xr
ds = xr.open_zarr(sys.argv[1], consolidated=True)
v = ds["t2m"]
print(json.dumps({"dims": list(v.dims), "units": v.attrs["units"], "title": ds.attrs["title"],
  "lat": ds["lat"].values.tolist(), "time": str(ds["time"].values[0])[:19],
  "lead_hours": (ds["lead_time"].values / np.timedelta64(1, "h")).tolist(),
  "values": v.values.ravel().astype(float).tolist()}))
""", path);
        var r = JsonDocument.Parse(json).RootElement;
        Assert.Equal(["ensemble", "time", "lead_time", "lat", "lon"], r.GetProperty("dims").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal("K", r.GetProperty("units").GetString());
        Assert.Equal("zarr test", r.GetProperty("title").GetString());
        Assert.Equal([90.0, 45, 0, -45, -90], r.GetProperty("lat").EnumerateArray().Select(x => x.GetDouble()));
        Assert.Equal("2023-06-01T00:00:00", r.GetProperty("time").GetString());
        Assert.Equal([0.0, 6, 12], r.GetProperty("lead_hours").EnumerateArray().Select(x => x.GetDouble()));
        Assert.Equal(data.Select(x => (double)x), r.GetProperty("values").EnumerateArray().Select(x => x.GetDouble()));
    }

    [SkippableFact]
    public void ReadsStoresWrittenByXarray()
    {
        PythonInterop.RequireOrSkip();
        using var tmp = new TempDir();
        string path = tmp.File("py.zarr");
        PythonInterop.Run("""
import sys, numpy as np, xarray as xr, zarr, numcodecs
z = (np.arange(2*5*7, dtype=np.float32).reshape(2, 5, 7) - 10) / 4
z[1, 2, 3] = np.nan
ds = xr.Dataset({"z500": (("time", "lat", "lon"), z, {"units": "m"})},
                coords={"lat": np.linspace(90, -90, 5), "lon": np.arange(7) * 50.0})
ds.to_zarr(sys.argv[1], consolidated=True, encoding={"z500": {"chunks": (1, 2, 4), "compressor": numcodecs.Zlib(level=3)},
                                                  "lat": {"compressor": numcodecs.Zstd(level=1)}, "lon": {"compressor": None}})
""", path);
        var a = ZarrStore.Open(path).OpenArray("z500");
        Assert.Equal(["time", "lat", "lon"], a.Dimensions);
        var v = a.ReadAll();
        for (int i = 0; i < v.Length; i++)
        {
            if (i == 35 + 2 * 7 + 3) Assert.True(double.IsNaN(v[i]));
            else Assert.Equal((float)((i - 10) / 4.0), (float)v[i]);
        }
        Assert.Equal([90.0, 45, 0, -45, -90], ZarrStore.Open(path).OpenArray("lat").ReadAll());
    }
}
