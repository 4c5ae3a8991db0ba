using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Ensemble.Core;

namespace Ensemble.Data.Zarr;

/// <summary>
/// One zarr v2 array in a directory store: C-order chunks, keys "i.j.k" (or "i/j/k"), optional zlib/zstd
/// compression. Chunks are written whole and independently (temp name + rename), so separate processes
/// may write disjoint chunks of the same array concurrently; a missing chunk reads as fill_value.
/// </summary>
public sealed class ZarrArray
{
    internal ZarrArray(string storePath, string name, long[] shape, int[] chunks, string dtype, ZarrCodec? compressor,
        double? fillValue, string separator, string[] dimensions, JsonObject attributes)
    {
        StorePath = storePath; Name = name; Shape = shape; Chunks = chunks; DType = dtype; Compressor = compressor;
        FillValue = fillValue; Separator = separator; Dimensions = dimensions; Attributes = attributes;
    }

    public string StorePath { get; }
    public string Name { get; }
    public long[] Shape { get; }
    public int[] Chunks { get; }
    public string DType { get; }
    public ZarrCodec? Compressor { get; }
    /// <summary>fill_value (NaN allowed), or null when the metadata says null.</summary>
    public double? FillValue { get; }
    public string Separator { get; }
    /// <summary>Dimension names from _ARRAY_DIMENSIONS (xarray's convention).</summary>
    public string[] Dimensions { get; }
    public JsonObject Attributes { get; }
    public int Rank => Shape.Length;
    public string Folder => Path.Combine(StorePath, Name.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Number of chunks along each axis.</summary>
    public long[] ChunkGrid => Shape.Select((s, i) => Math.Max(1, (s + Chunks[i] - 1) / Chunks[i])).ToArray();

    long ChunkElements => Chunks.Aggregate(1L, (a, b) => a * b);

    public string ChunkKey(long[] chunkIndex) =>
        Rank == 0 ? "0" : string.Join(Separator, chunkIndex);

    string ChunkPath(long[] chunkIndex) => Path.Combine(Folder, ChunkKey(chunkIndex).Replace('/', Path.DirectorySeparatorChar));

    /// <summary>
    /// Writes one chunk. <paramref name="data"/> holds either the full chunk (chunk shape, C order) or only
    /// its part inside the array (edge chunks); the overhang is filled with fill_value.
    /// </summary>
    public void WriteChunk(long[] chunkIndex, ReadOnlySpan<double> data)
    {
        var full = FullChunk(chunkIndex, data.ToArray());
        var raw = new byte[full.Length * ZarrDType.ItemSize(DType)];
        ZarrDType.Encode(full, DType, raw);
        Store(chunkIndex, raw);
    }

    /// <summary>Float32 overload: for &lt;f4 arrays the bytes are copied without conversion.</summary>
    public void WriteChunk(long[] chunkIndex, ReadOnlySpan<float> data)
    {
        if (DType == "<f4" && BitConverter.IsLittleEndian && data.Length == ChunkElements)
        {
            // A full chunk: its bytes are the stored values, no widening or scattering needed.
            CheckChunkIndex(chunkIndex);
            Store(chunkIndex, MemoryMarshal.AsBytes(data).ToArray());
            return;
        }
        if (DType != "<f4" || !BitConverter.IsLittleEndian)
        {
            var d = new double[data.Length];
            for (int i = 0; i < d.Length; i++) d[i] = data[i];
            WriteChunk(chunkIndex, (ReadOnlySpan<double>)d);
            return;
        }
        var wide = new double[data.Length];
        for (int i = 0; i < wide.Length; i++) wide[i] = data[i];
        var full = FullChunk(chunkIndex, wide);
        // float -> double -> float is exact, so the stored bytes are the caller's floats.
        var floats = new float[full.Length];
        for (int i = 0; i < floats.Length; i++) floats[i] = (float)full[i];
        Store(chunkIndex, MemoryMarshal.AsBytes(floats.AsSpan()).ToArray());
    }

    double[] FullChunk(long[] chunkIndex, double[] data)
    {
        int length = data.Length;
        CheckChunkIndex(chunkIndex);
        long n = ChunkElements;
        var (origin, extent) = ChunkExtent(chunkIndex);
        long inside = extent.Aggregate(1L, (a, b) => a * b);
        double fill = FillValue ?? 0;
        var full = new double[n];
        if (length == n)
            return data;
        if (length != inside)
            throw new EnsembleException($"{StorePath}/{Name}: chunk {ChunkKey(chunkIndex)} needs {n} values (or {inside} inside the array), got {length}");
        Array.Fill(full, fill);
        // Scatter the in-array part (shape extent) into the chunk (shape Chunks).
        var idx = new long[Rank];
        for (long i = 0; i < inside; i++)
        {
            long dst = 0;
            for (int a = 0; a < Rank; a++) dst = dst * Chunks[a] + idx[a];
            full[dst] = data[i];
            for (int a = Rank - 1; a >= 0 && ++idx[a] == extent[a]; a--) idx[a] = 0;
        }
        return full;
    }

    void Store(long[] chunkIndex, byte[] raw)
    {
        byte[] bytes = Compressor is null ? raw : Compressor.Encode(raw);
        string path = ChunkPath(chunkIndex);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        AtomicFile.WriteAllBytes(path, bytes);
    }

    void CheckChunkIndex(long[] chunkIndex)
    {
        var grid = ChunkGrid;
        if (chunkIndex.Length != Math.Max(Rank, 0) || chunkIndex.Where((c, i) => c < 0 || c >= grid[i]).Any())
            throw new EnsembleException($"{StorePath}/{Name}: chunk index [{string.Join(", ", chunkIndex)}] is outside the chunk grid [{string.Join(", ", grid)}]");
    }

    (long[] Origin, long[] Extent) ChunkExtent(long[] chunkIndex)
    {
        var origin = new long[Rank];
        var extent = new long[Rank];
        for (int a = 0; a < Rank; a++)
        {
            origin[a] = chunkIndex[a] * Chunks[a];
            extent[a] = Math.Min(Chunks[a], Shape[a] - origin[a]);
        }
        return (origin, extent);
    }

    /// <summary>
    /// Writes one full chunk given as its raw (uncompressed, C-order, dtype byte order) bytes; the array's
    /// compressor is applied. For dtypes without a float64 form (int64 beyond 2^53, text).
    /// </summary>
    public void WriteChunkRaw(long[] chunkIndex, byte[] raw)
    {
        CheckChunkIndex(chunkIndex);
        long expected = ChunkElements * ZarrDType.ItemSize(DType);
        if (raw.Length != expected)
            throw new EnsembleException($"{StorePath}/{Name}: chunk {ChunkKey(chunkIndex)} needs {expected} bytes, got {raw.Length}");
        Store(chunkIndex, raw);
    }

    /// <summary>Raw (decompressed) bytes of one chunk, or null when the chunk was never written.</summary>
    public byte[]? ReadChunkRaw(long[] chunkIndex)
    {
        CheckChunkIndex(chunkIndex);
        string path = ChunkPath(chunkIndex);
        if (!File.Exists(path)) return null;
        int expected = checked((int)(ChunkElements * ZarrDType.ItemSize(DType)));
        byte[] stored = File.ReadAllBytes(path);
        byte[] raw = Compressor is null ? stored : Compressor.Decode(stored, expected, $"{StorePath}/{Name}/{ChunkKey(chunkIndex)}");
        if (raw.Length != expected)
            throw new EnsembleException($"{StorePath}/{Name}/{ChunkKey(chunkIndex)}: chunk has {raw.Length} bytes, expected {expected}");
        return raw;
    }

    /// <summary>True when the chunk file exists (it was written).</summary>
    public bool HasChunk(long[] chunkIndex) => File.Exists(ChunkPath(chunkIndex));

    /// <summary>All values of a 1-D int64 array, exactly (no float64 detour); missing chunks read as 0.</summary>
    public long[] ReadInt64()
    {
        if (Rank != 1 || DType is not ("<i8" or "<i4"))
            throw new EnsembleException($"{StorePath}/{Name}: dtype {DType} rank {Rank} is not a 1-D integer array");
        int size = ZarrDType.ItemSize(DType);
        var result = new long[Shape[0]];
        for (long c = 0; c < ChunkGrid[0]; c++)
        {
            var raw = ReadChunkRaw([c]);
            if (raw is null) continue;
            for (long i = c * Chunks[0]; i < Math.Min(Shape[0], (c + 1) * Chunks[0]); i++)
            {
                int off = (int)(i - c * Chunks[0]) * size;
                result[i] = size == 8 ? System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan(off))
                    : System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(off));
            }
        }
        return result;
    }

    /// <summary>All values of a 1-D text array (&lt;U{n} UTF-32 or |S{n} bytes), trailing NULs removed.</summary>
    public string[] ReadStrings()
    {
        if (Rank != 1 || !ZarrDType.IsText(DType))
            throw new EnsembleException($"{StorePath}/{Name}: dtype {DType} rank {Rank} is not a 1-D text array");
        int size = ZarrDType.ItemSize(DType);
        bool utf32 = DType[1] == 'U';
        var result = new string[Shape[0]];
        Array.Fill(result, "");
        for (long c = 0; c < ChunkGrid[0]; c++)
        {
            var raw = ReadChunkRaw([c]);
            if (raw is null) continue;
            for (long i = c * Chunks[0]; i < Math.Min(Shape[0], (c + 1) * Chunks[0]); i++)
            {
                var item = raw.AsSpan((int)(i - c * Chunks[0]) * size, size);
                result[i] = (utf32 ? System.Text.Encoding.UTF32.GetString(item) : System.Text.Encoding.UTF8.GetString(item)).TrimEnd('\0');
            }
        }
        return result;
    }

    /// <summary>Reads one chunk (full chunk shape); a missing chunk is all fill_value.</summary>
    public double[] ReadChunk(long[] chunkIndex)
    {
        CheckChunkIndex(chunkIndex);
        int n = checked((int)ChunkElements);
        var result = new double[n];
        string path = ChunkPath(chunkIndex);
        if (!File.Exists(path))
        {
            Array.Fill(result, FillValue ?? 0);
            return result;
        }
        int expected = n * ZarrDType.ItemSize(DType);
        byte[] stored = File.ReadAllBytes(path);
        byte[] raw = Compressor is null ? stored : Compressor.Decode(stored, expected, $"{StorePath}/{Name}/{ChunkKey(chunkIndex)}");
        if (raw.Length != expected)
            throw new EnsembleException($"{StorePath}/{Name}/{ChunkKey(chunkIndex)}: chunk has {raw.Length} bytes, expected {expected}");
        ZarrDType.Decode(raw, DType, result);
        return result;
    }

    /// <summary>All values in C order (float fill values other than NaN read as NaN, as xarray masks them).</summary>
    public double[] ReadAll() => ReadSlice(new long[Rank], Shape);

    /// <summary>The hyperslab [starts, starts + counts), assembled across chunks.</summary>
    public double[] ReadSlice(long[] starts, long[] counts)
    {
        if (starts.Length != Rank || counts.Length != Rank)
            throw new EnsembleException($"{StorePath}/{Name}: rank {Rank}, slice has {starts.Length} starts and {counts.Length} counts");
        for (int a = 0; a < Rank; a++)
            if (starts[a] < 0 || counts[a] < 0 || starts[a] + counts[a] > Shape[a])
                throw new EnsembleException($"{StorePath}/{Name}: slice [{starts[a]}, {starts[a] + counts[a]}) is outside axis {a} of length {Shape[a]}");
        long total = counts.Aggregate(1L, (a, b) => a * b);
        var result = new double[total];
        if (total == 0) return result;
        if (Rank == 0)
        {
            result[0] = ReadChunk([])[0];
            return Mask(result);
        }
        var first = starts.Select((s, a) => s / Chunks[a]).ToArray();
        var last = starts.Select((s, a) => (s + counts[a] - 1) / Chunks[a]).ToArray();
        var ci = (long[])first.Clone();
        while (true)
        {
            var chunk = ReadChunk(ci);
            // Intersection of this chunk with the slice, copied row by row along the last axis.
            var lo = new long[Rank];
            var hi = new long[Rank];
            for (int a = 0; a < Rank; a++)
            {
                long c0 = ci[a] * Chunks[a];
                lo[a] = Math.Max(starts[a], c0);
                hi[a] = Math.Min(starts[a] + counts[a], c0 + Chunks[a]);
            }
            var p = (long[])lo.Clone();
            while (true)
            {
                long src = 0, dst = 0;
                for (int a = 0; a < Rank; a++)
                {
                    src = src * Chunks[a] + (p[a] - ci[a] * Chunks[a]);
                    dst = dst * counts[a] + (p[a] - starts[a]);
                }
                long len = hi[Rank - 1] - lo[Rank - 1];
                Array.Copy(chunk, src, result, dst, len);
                int b = Rank - 2;
                while (b >= 0 && ++p[b] == hi[b]) { p[b] = lo[b]; b--; }
                if (b < 0) break;
            }
            int k = Rank - 1;
            while (k >= 0 && ++ci[k] > last[k]) { ci[k] = first[k]; k--; }
            if (k < 0) break;
        }
        return Mask(result);
    }

    double[] Mask(double[] values)
    {
        if (ZarrDType.IsFloat(DType) && FillValue is double f && !double.IsNaN(f))
            for (int i = 0; i < values.Length; i++)
                if (values[i] == f) values[i] = double.NaN;
        return values;
    }
}
