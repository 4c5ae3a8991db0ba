using System.Globalization;
using System.IO.Compression;
using Ensemble.Core;
using Ensemble.Data.Npy;

namespace Ensemble.Scoring.Tables;

/// <summary>A per-grid-point score field (e.g. the EFI of one forecast), row-major [lat, lon].</summary>
public sealed record ScoreMap(string Model, string Variable, DateTime InitTime, double LeadTimeHours, string Quantity,
    double[] Lat, double[] Lon, double[] Values)
{
    /// <summary>File name in an extras folder: <c>{quantity}__{model}__{variable}__{yyyyMMddTHHmm}__{lead}h.npz</c>.</summary>
    public string FileName =>
        $"{Quantity}__{Model}__{Variable}__{InitTime.ToString("yyyyMMdd'T'HHmm", CultureInfo.InvariantCulture)}__{LeadTimeHours.ToString("R", CultureInfo.InvariantCulture)}h.npz";
}

/// <summary>
/// Score maps in an "extras" folder beside a score table, one .npz per map with arrays <c>values</c> [lat, lon],
/// <c>lat</c>, <c>lon</c> (float64); model, variable, init, lead and quantity are in the file name (<see cref="ScoreMap.FileName"/>).
/// </summary>
public static class ScoreMapFiles
{
    public static string Write(string directory, ScoreMap map)
    {
        if (map.Values.Length != map.Lat.Length * map.Lon.Length)
            throw new EnsembleException($"score map {map.FileName}: {map.Values.Length} values for {map.Lat.Length}×{map.Lon.Length} points");
        Directory.CreateDirectory(directory);
        string path = System.IO.Path.Combine(directory, map.FileName);
        AtomicFile.Write(path, s =>
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Create, leaveOpen: true);
            void Put(string name, NpyArray a)
            {
                using var e = zip.CreateEntry(name + ".npy", CompressionLevel.Fastest).Open();
                NpyFile.Write(e, a);
            }
            Put("values", NpyArray.FromDoubles(map.Values, map.Lat.Length, map.Lon.Length));
            Put("lat", NpyArray.FromDoubles(map.Lat, map.Lat.Length));
            Put("lon", NpyArray.FromDoubles(map.Lon, map.Lon.Length));
        });
        return path;
    }

    /// <summary>Every map in <paramref name="directory"/> (files not following the naming scheme are ignored), ordered by name.</summary>
    public static List<ScoreMap> ReadAll(string directory)
    {
        var maps = new List<ScoreMap>();
        if (!Directory.Exists(directory)) throw new EnsembleException($"{directory}: extras folder not found");
        foreach (var path in Directory.GetFiles(directory, "*.npz").Order(StringComparer.Ordinal))
        {
            var parts = System.IO.Path.GetFileNameWithoutExtension(path).Split("__");
            if (parts.Length != 5 || !parts[4].EndsWith('h')) continue;
            if (!DateTime.TryParseExact(parts[3], "yyyyMMdd'T'HHmm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var init)) continue;
            if (!double.TryParse(parts[4][..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double lead)) continue;
            var arrays = NpyFile.ReadNpz(path);
            if (!arrays.TryGetValue("values", out var v) || !arrays.TryGetValue("lat", out var lat) || !arrays.TryGetValue("lon", out var lon))
                throw new EnsembleException($"{path}: score map needs arrays values, lat and lon");
            maps.Add(new ScoreMap(parts[1], parts[2], init, lead, parts[0], lat.ToDoubles(), lon.ToDoubles(), v.ToDoubles()));
        }
        return maps;
    }
}
