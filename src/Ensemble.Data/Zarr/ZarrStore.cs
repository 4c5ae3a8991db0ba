using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ensemble.Core;

namespace Ensemble.Data.Zarr;

/// <summary>
/// A zarr v2 directory store that xarray opens: .zgroup/.zattrs at the root, one folder per array with
/// .zarray and .zattrs (carrying _ARRAY_DIMENSIONS), and consolidated .zmetadata written by
/// <see cref="Consolidate"/> after all arrays exist. Metadata writes are atomic (temp + rename).
/// </summary>
public sealed class ZarrStore
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    ZarrStore(string path) { Path = path; }

    public string Path { get; }

    /// <summary>Creates the store folder and root group (keeping existing content).</summary>
    public static ZarrStore Create(string path, JsonObject? attributes = null)
    {
        Directory.CreateDirectory(path);
        var store = new ZarrStore(path);
        string zgroup = System.IO.Path.Combine(path, ".zgroup");
        if (!File.Exists(zgroup))
            WriteJson(zgroup, new JsonObject { ["zarr_format"] = 2 });
        if (attributes is not null)
            store.SetAttributes(attributes);
        return store;
    }

    /// <summary>Opens an existing store (a folder with a root .zgroup).</summary>
    public static ZarrStore Open(string path)
    {
        if (!Directory.Exists(path))
            throw new EnsembleException($"{path}: zarr store not found");
        string zgroup = System.IO.Path.Combine(path, ".zgroup");
        if (!File.Exists(zgroup))
            throw new EnsembleException($"{path}: not a zarr v2 store (no .zgroup)");
        var g = ReadJson(zgroup);
        if (g["zarr_format"]?.GetValue<int>() != 2)
            throw new EnsembleException($"{path}: .zgroup is not zarr_format 2");
        return new ZarrStore(path);
    }

    /// <summary>Root group attributes (empty when there is no .zattrs).</summary>
    public JsonObject Attributes
    {
        get
        {
            string p = System.IO.Path.Combine(Path, ".zattrs");
            return File.Exists(p) ? ReadJson(p) : [];
        }
    }

    public void SetAttributes(JsonObject attributes) => WriteJson(System.IO.Path.Combine(Path, ".zattrs"), attributes);

    /// <summary>Names of the arrays directly under the root.</summary>
    public IReadOnlyList<string> ArrayNames =>
        Directory.EnumerateDirectories(Path)
            .Where(d => File.Exists(System.IO.Path.Combine(d, ".zarray")))
            .Select(d => System.IO.Path.GetFileName(d)!)
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Creates an array's metadata (once, before any chunk is written). Refuses to replace an existing
    /// array with different metadata unless <paramref name="overwrite"/>, so ranks cannot clobber each other.
    /// </summary>
    public ZarrArray CreateArray(string name, string[] dimensions, long[] shape, int[] chunks, string dtype = "<f4",
        ZarrCodec? compressor = null, double? fillValue = double.NaN, JsonObject? attributes = null,
        string separator = ".", bool overwrite = false)
    {
        ValidateName(name);
        ZarrDType.RequireWritable(dtype);
        if (dimensions.Length != shape.Length || chunks.Length != shape.Length)
            throw new EnsembleException($"{Path}/{name}: dimensions ({dimensions.Length}), shape ({shape.Length}) and chunks ({chunks.Length}) differ in rank");
        if (chunks.Any(c => c <= 0) || shape.Any(s => s < 0))
            throw new EnsembleException($"{Path}/{name}: chunks must be positive and shape non-negative");
        if (separator is not ("." or "/"))
            throw new EnsembleException($"{Path}/{name}: dimension_separator must be '.' or '/'");
        if (!ZarrDType.IsFloat(dtype) && fillValue is double fv && double.IsNaN(fv))
            fillValue = null;

        var meta = new JsonObject
        {
            ["chunks"] = new JsonArray(chunks.Select(c => (JsonNode)c).ToArray()),
            ["compressor"] = compressor is null ? null : new JsonObject { ["id"] = compressor.Id, ["level"] = compressor.Level },
            ["dimension_separator"] = separator,
            ["dtype"] = dtype,
            ["fill_value"] = FillToJson(fillValue, dtype),
            ["filters"] = null,
            ["order"] = "C",
            ["shape"] = new JsonArray(shape.Select(s => (JsonNode)s).ToArray()),
            ["zarr_format"] = 2,
        };
        var attrs = attributes is null ? new JsonObject() : (JsonObject)attributes.DeepClone();
        attrs["_ARRAY_DIMENSIONS"] = new JsonArray(dimensions.Select(d => (JsonNode)d).ToArray());

        string folder = System.IO.Path.Combine(Path, name);
        string zarray = System.IO.Path.Combine(folder, ".zarray");
        if (File.Exists(zarray) && !overwrite)
        {
            if (!JsonNode.DeepEquals(ReadJson(zarray), meta))
                throw new EnsembleException($"{Path}/{name}: array exists with different metadata (shape, chunks, dtype or compressor)");
            return OpenArray(name);
        }
        Directory.CreateDirectory(folder);
        WriteJson(System.IO.Path.Combine(folder, ".zattrs"), attrs);
        WriteJson(zarray, meta);
        return OpenArray(name);
    }

    /// <summary>Creates an array and writes all of it (for coordinates and small variables).</summary>
    public ZarrArray WriteArray(string name, string[] dimensions, double[] values, long[] shape, string dtype = "<f8",
        JsonObject? attributes = null, ZarrCodec? compressor = null, int[]? chunks = null, double? fillValue = double.NaN)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (values.Length != n)
            throw new EnsembleException($"{Path}/{name}: {values.Length} values for shape ({string.Join(", ", shape)})");
        chunks ??= shape.Select(s => (int)Math.Max(1, s)).ToArray();
        var a = CreateArray(name, dimensions, shape, chunks, dtype, compressor, fillValue, attributes, overwrite: true);
        var grid = a.ChunkGrid;
        var ci = new long[a.Rank];
        while (true)
        {
            // Gather this chunk's in-array part from the C-order values.
            var origin = ci.Select((c, i) => c * chunks[i]).ToArray();
            var extent = origin.Select((o, i) => Math.Min(chunks[i], shape[i] - o)).ToArray();
            long m = extent.Aggregate(1L, (x, y) => x * y);
            var part = new double[m];
            var idx = new long[a.Rank];
            for (long k = 0; k < m; k++)
            {
                long src = 0;
                for (int d = 0; d < a.Rank; d++) src = src * shape[d] + origin[d] + idx[d];
                part[k] = values[src];
                for (int d = a.Rank - 1; d >= 0 && ++idx[d] == extent[d]; d--) idx[d] = 0;
            }
            a.WriteChunk(ci, part);
            int q = a.Rank - 1;
            while (q >= 0 && ++ci[q] == grid[q]) { ci[q] = 0; q--; }
            if (q < 0) break;
        }
        return a;
    }

    /// <summary>Creates a 1-D int64 array and writes it exactly (values beyond 2^53 such as seeds survive).</summary>
    public ZarrArray WriteInt64Array(string name, string dimension, long[] values, JsonObject? attributes = null, ZarrCodec? compressor = null)
    {
        var a = CreateArray(name, [dimension], [values.Length], [Math.Max(1, values.Length)], "<i8", compressor, null, attributes, overwrite: true);
        var raw = new byte[Math.Max(1, values.Length) * 8];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(8 * i), values[i]);
        a.WriteChunkRaw([0], raw);
        return a;
    }

    /// <summary>Creates a 1-D fixed-length text array (NumPy &lt;U{n}, UTF-32LE, which xarray reads as str).</summary>
    public ZarrArray WriteStringArray(string name, string dimension, string[] values, JsonObject? attributes = null, ZarrCodec? compressor = null)
    {
        int width = Math.Max(1, values.Select(v => v.EnumerateRunes().Count()).DefaultIfEmpty(1).Max());
        var a = CreateArray(name, [dimension], [values.Length], [Math.Max(1, values.Length)], $"<U{width}", compressor, null, attributes, overwrite: true);
        var raw = new byte[Math.Max(1, values.Length) * 4 * width];
        for (int i = 0; i < values.Length; i++)
            System.Text.Encoding.UTF32.GetBytes(values[i]).CopyTo(raw, i * 4 * width);
        a.WriteChunkRaw([0], raw);
        return a;
    }

    public bool HasArray(string name) => File.Exists(System.IO.Path.Combine(Path, name, ".zarray"));

    public ZarrArray OpenArray(string name)
    {
        ValidateName(name);
        string folder = System.IO.Path.Combine(Path, name);
        string zarray = System.IO.Path.Combine(folder, ".zarray");
        if (!File.Exists(zarray))
            throw new EnsembleException($"{Path}: no zarr array '{name}' (has: {string.Join(", ", ArrayNames)})");
        var m = ReadJson(zarray);
        string where = $"{Path}/{name}/.zarray";
        try
        {
            if (m["zarr_format"]?.GetValue<int>() != 2) throw new EnsembleException($"{where}: not zarr_format 2");
            if ((string?)m["order"] is not (null or "C")) throw new EnsembleException($"{where}: only C order is supported");
            if (m["filters"] is JsonArray { Count: > 0 }) throw new EnsembleException($"{where}: filters are not supported");
            var shape = m["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            var chunks = m["chunks"]!.AsArray().Select(x => x!.GetValue<int>()).ToArray();
            string dtype = (string)m["dtype"]!;
            ZarrDType.ItemSize(dtype);
            ZarrCodec? codec = m["compressor"] is JsonObject c
                ? new ZarrCodec((string)c["id"]!, c["level"]?.GetValue<int>() ?? 0)
                : null;
            string sep = (string?)m["dimension_separator"] ?? ".";
            var attrsPath = System.IO.Path.Combine(folder, ".zattrs");
            var attrs = File.Exists(attrsPath) ? ReadJson(attrsPath) : [];
            string[] dims = attrs["_ARRAY_DIMENSIONS"] is JsonArray da
                ? da.Select(x => (string)x!).ToArray()
                : shape.Select((_, i) => $"dim_{i}").ToArray();
            if (dims.Length != shape.Length)
                throw new EnsembleException($"{Path}/{name}/.zattrs: _ARRAY_DIMENSIONS has {dims.Length} names for rank {shape.Length}");
            return new ZarrArray(Path, name, shape, chunks, dtype, codec, FillFromJson(m["fill_value"], where), sep, dims, attrs);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException or KeyNotFoundException)
        {
            throw new EnsembleException($"{where}: malformed metadata: {e.Message}", e);
        }
    }

    /// <summary>Writes .zmetadata from every .zgroup/.zattrs/.zarray in the store (call after the last array is created).</summary>
    public void Consolidate()
    {
        var meta = new JsonObject();
        var root = new DirectoryInfo(Path);
        foreach (var f in root.EnumerateFiles("*", SearchOption.AllDirectories)
                     .Where(f => f.Name is ".zgroup" or ".zattrs" or ".zarray")
                     .OrderBy(f => f.FullName, StringComparer.Ordinal))
        {
            string key = System.IO.Path.GetRelativePath(Path, f.FullName).Replace(System.IO.Path.DirectorySeparatorChar, '/');
            meta[key] = ReadJson(f.FullName);
        }
        WriteJson(System.IO.Path.Combine(Path, ".zmetadata"), new JsonObject { ["metadata"] = meta, ["zarr_consolidated_format"] = 1 });
    }

    static void ValidateName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.StartsWith('.') || name.Contains("..") || name.Contains('/') || name.Contains('\\'))
            throw new EnsembleException($"zarr array name '{name}' is not a plain name");
    }

    static JsonNode? FillToJson(double? fill, string dtype)
    {
        if (fill is not double f) return null;
        if (double.IsNaN(f)) return "NaN";
        if (double.IsPositiveInfinity(f)) return "Infinity";
        if (double.IsNegativeInfinity(f)) return "-Infinity";
        return ZarrDType.IsFloat(dtype) ? JsonValue.Create(f) : JsonValue.Create(checked((long)f));
    }

    static double? FillFromJson(JsonNode? n, string where)
    {
        if (n is null) return null;
        if (n is JsonValue v && v.TryGetValue<string>(out var s))
            return s switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                "-Infinity" => double.NegativeInfinity,
                _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
                    : throw new EnsembleException($"{where}: fill_value '{s}' is not supported"),
            };
        return n.GetValue<double>();
    }

    internal static JsonObject ReadJson(string path)
    {
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new EnsembleException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new EnsembleException($"{path}: invalid JSON: {e.Message}", e);
        }
    }

    static void WriteJson(string path, JsonObject o) => AtomicFile.WriteAllText(path, o.ToJsonString(Indented));
}
