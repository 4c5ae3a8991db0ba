using System.Text.Json;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Data.Npy;

namespace Ensemble.Data.Hdf5;

/// <summary>Makani's <c>data.json</c> at the dataset root (earth2mip reads it too).</summary>
public sealed record MakaniMetadata(string DatasetName, int DHours, string[] Channels, double[] Lat, double[] Lon,
    string GridType = "equiangular", string H5Path = "fields")
{
    public void Write(string path)
    {
        var o = new JsonObject
        {
            ["dataset_name"] = DatasetName,
            ["attrs"] = new JsonObject(),
            ["h5_path"] = H5Path,
            ["dims"] = new JsonArray("time", "channel", "lat", "lon"),
            ["dhours"] = DHours,
            ["coords"] = new JsonObject
            {
                ["grid_type"] = GridType,
                ["lat"] = new JsonArray(Lat.Select(x => (JsonNode)x).ToArray()),
                ["lon"] = new JsonArray(Lon.Select(x => (JsonNode)x).ToArray()),
                ["channel"] = new JsonArray(Channels.Select(x => (JsonNode)x).ToArray()),
            },
        };
        AtomicFile.WriteAllText(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    public static MakaniMetadata Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        try
        {
            var o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            // The Makani README writes "coord"; the code and the shipped example use "coords".
            var c = (o["coords"] ?? o["coord"])?.AsObject() ?? throw new EnsembleException($"{path}: no 'coords'");
            return new MakaniMetadata(
                (string?)o["dataset_name"] ?? "",
                o["dhours"]?.GetValue<int>() ?? throw new EnsembleException($"{path}: no 'dhours'"),
                c["channel"]!.AsArray().Select(x => (string)x!).ToArray(),
                c["lat"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray(),
                c["lon"]!.AsArray().Select(x => x!.GetValue<double>()).ToArray(),
                (string?)c["grid_type"] ?? "equiangular",
                (string?)o["h5_path"] ?? "fields");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new EnsembleException($"{path}: malformed data.json: {e.Message}", e);
        }
    }
}

/// <summary>Makani statistics in <c>stats/</c>: global means/stds (1, C, 1, 1) and time means (1, C, lat, lon).</summary>
public static class MakaniStats
{
    public static void WriteGlobal(string statsDir, double[] means, double[] stds)
    {
        if (means.Length != stds.Length) throw new EnsembleException($"{statsDir}: {means.Length} means but {stds.Length} stds");
        Directory.CreateDirectory(statsDir);
        NpyFile.Write(Path.Combine(statsDir, "global_means.npy"), NpyArray.FromDoubles(means, 1, means.Length, 1, 1));
        NpyFile.Write(Path.Combine(statsDir, "global_stds.npy"), NpyArray.FromDoubles(stds, 1, stds.Length, 1, 1));
    }

    public static void WriteTimeMeans(string statsDir, float[] values, int channels, int nlat, int nlon)
    {
        if (values.Length != (long)channels * nlat * nlon)
            throw new EnsembleException($"{statsDir}: time means have {values.Length} values, (1, {channels}, {nlat}, {nlon}) needs {(long)channels * nlat * nlon}");
        Directory.CreateDirectory(statsDir);
        NpyFile.Write(Path.Combine(statsDir, "time_means.npy"), NpyArray.FromFloats(values, 1, channels, nlat, nlon));
    }

    /// <summary>Per-channel means and stds, checked to be (1, C, 1, 1).</summary>
    public static (double[] Means, double[] Stds) ReadGlobal(string statsDir)
    {
        var m = NpyFile.Read(Path.Combine(statsDir, "global_means.npy"));
        var s = NpyFile.Read(Path.Combine(statsDir, "global_stds.npy"));
        foreach (var (a, name) in new[] { (m, "global_means.npy"), (s, "global_stds.npy") })
            if (a.Shape.Length != 4 || a.Shape[0] != 1 || a.Shape[2] != 1 || a.Shape[3] != 1)
                throw new EnsembleException($"{Path.Combine(statsDir, name)}: shape ({string.Join(", ", a.Shape)}), expected (1, C, 1, 1)");
        if (m.Shape[1] != s.Shape[1]) throw new EnsembleException($"{statsDir}: means and stds have different channel counts");
        return (m.ToDoubles(), s.ToDoubles());
    }
}
