using Ensemble.Core;
using Ensemble.Data.Zarr;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>
/// The ensemble output store: per variable a float32 array (ensemble, time, lead_time, lat, lon) with CF
/// coordinates and per-member provenance. Written as a zarr v2 folder (one chunk per member × time × lead ×
/// variable, so ranks write disjoint chunks concurrently), converted to netCDF-4 afterwards if wanted.
/// See docs/formats/ensemble-output.md.
/// </summary>
public static class EnsembleStore
{
    /// <summary>The default chunk compressor: zstd level 3 (numcodecs reads it; deterministic bytes).</summary>
    public static ZarrCodec DefaultCompressor { get; } = ZarrCodec.Zstd(3);

    /// <summary>Creates (or joins) a zarr store with the default compressor.</summary>
    public static IEnsembleWriter Create(string path, EnsembleLayout layout) => Create(path, layout, DefaultCompressor);

    /// <summary>
    /// Creates the zarr store at <paramref name="path"/> or joins an existing one. Race-free for many processes:
    /// the complete skeleton (metadata, coordinates, member variables, .zmetadata) is written into a private
    /// temporary folder and renamed into place; exactly one rename wins, every other caller compares its
    /// skeleton with the winner's and throws an <see cref="EnsembleException"/> if the layouts differ.
    /// Existing data chunks are kept (so a resumed run continues the same store).
    /// </summary>
    public static IEnsembleWriter Create(string path, EnsembleLayout layout, ZarrCodec? compressor)
    {
        layout.Validate(path);
        string full = System.IO.Path.GetFullPath(path.TrimEnd('/', '\\'));
        if (File.Exists(full)) throw new EnsembleException($"{path}: a file is in the way of the zarr store folder");
        string parent = System.IO.Path.GetDirectoryName(full) ?? ".";
        Directory.CreateDirectory(parent);
        string tmp = System.IO.Path.Combine(parent, $".{System.IO.Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            EnsembleZarrLayout.Write(tmp, layout, compressor);
            if (!TryMoveInto(tmp, full))
            {
                if (!File.Exists(System.IO.Path.Combine(full, ".zgroup")))
                    throw new EnsembleException($"{path}: folder exists and is not a zarr store (no .zgroup); remove it or choose another output");
                string? diff = EnsembleZarrLayout.FirstDifference(tmp, full);
                if (diff is not null)
                    throw new EnsembleException($"{path}: an ensemble store with a different layout exists ({diff}); remove it or choose another output");
            }
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
        return new ZarrEnsembleWriter(full, layout);
    }

    /// <summary>Renames the skeleton folder to the target; false when the target already exists (another creator won).</summary>
    static bool TryMoveInto(string tmp, string target)
    {
        // An empty folder (made by the user or a job script) counts as absent; deleting it fails if it is not empty.
        if (Directory.Exists(target) && !Directory.EnumerateFileSystemEntries(target).Any())
        {
            try { Directory.Delete(target); } catch (IOException) { }
        }
        if (Directory.Exists(target)) return false;
        try
        {
            Directory.Move(tmp, target);
            return true;
        }
        catch (IOException) when (Directory.Exists(target))
        {
            return false;
        }
    }

    /// <summary>Opens a store for reading: a zarr v2 folder or a netCDF-4 file of our layout.</summary>
    public static IEnsembleReader Open(string path)
    {
        if (Directory.Exists(path)) return new ZarrEnsembleReader(path);
        if (File.Exists(path)) return new NetCdfEnsembleReader(path);
        throw new EnsembleException($"{path}: ensemble store not found");
    }

    /// <summary>
    /// Converts a zarr ensemble store to one netCDF-4 file (same variables, coordinates, attributes; deflate level
    /// <paramref name="deflateLevel"/> 0, 1 or 9, chunks of one field). Memory stays bounded by a few fields: chunks are
    /// copied one at a time through a bounded HDF5 chunk cache. Missing zarr chunks become NaN fields.
    /// </summary>
    public static void ToNetCdf(string zarrPath, string ncPath, int deflateLevel = 1) =>
        EnsembleNetCdfExport.Write(zarrPath, ncPath, deflateLevel);
}

/// <summary>Writes whole chunks of an ensemble zarr store.</summary>
internal sealed class ZarrEnsembleWriter : IEnsembleWriter
{
    readonly ZarrArray[] _arrays;

    public ZarrEnsembleWriter(string path, EnsembleLayout layout)
    {
        Path = path;
        Layout = layout;
        var store = ZarrStore.Open(path);
        _arrays = layout.Variables.Select(store.OpenArray).ToArray();
    }

    public string Path { get; }
    public EnsembleLayout Layout { get; }

    public void Write(IReadOnlyList<int> members, int timeIndex, int leadIndex, TorchSharp.torch.Tensor fields)
    {
        var l = Layout;
        if (fields.dim() != 4 || fields.shape[0] != members.Count || fields.shape[1] != l.Variables.Count || fields.shape[2] != l.Nlat || fields.shape[3] != l.Nlon)
            throw new EnsembleException($"{Path}: fields [{string.Join(", ", fields.shape)}] are not [{members.Count} members, {l.Variables.Count} variables, {l.Nlat}, {l.Nlon}]");
        if (timeIndex < 0 || timeIndex >= l.Times.Count) throw new EnsembleException($"{Path}: time index {timeIndex} outside 0..{l.Times.Count - 1}");
        if (leadIndex < 0 || leadIndex >= l.LeadTimeHours.Count) throw new EnsembleException($"{Path}: lead index {leadIndex} outside 0..{l.LeadTimeHours.Count - 1}");
        foreach (int m in members)
            if (m < 0 || m >= l.Members) throw new EnsembleException($"{Path}: member {m} outside 0..{l.Members - 1}");
        if (members.Distinct().Count() != members.Count) throw new EnsembleException($"{Path}: members repeat in one write");
        float[] values;
        using (var cpu = fields.detach().to(TorchSharp.torch.CPU).to_type(TorchSharp.torch.ScalarType.Float32).contiguous())
            values = cpu.data<float>().ToArray();
        int field = l.Nlat * l.Nlon;
        for (int b = 0; b < members.Count; b++)
            for (int v = 0; v < _arrays.Length; v++)
                _arrays[v].WriteChunk([members[b], timeIndex, leadIndex, 0, 0], values.AsSpan((b * _arrays.Length + v) * field, field));
    }

    public void Dispose() { }
}

/// <summary>Reads an ensemble zarr store.</summary>
internal sealed class ZarrEnsembleReader : IEnsembleReader
{
    readonly ZarrStore _store;
    readonly Dictionary<string, ZarrArray> _arrays;

    public ZarrEnsembleReader(string path)
    {
        _store = ZarrStore.Open(path);
        Path = path;
        Layout = EnsembleZarrLayout.Read(_store);
        _arrays = Layout.Variables.ToDictionary(v => v, _store.OpenArray);
    }

    public string Path { get; }
    public string Format => "zarr";
    public EnsembleLayout Layout { get; }

    ZarrArray Array(string variable) => _arrays.TryGetValue(variable, out var a) ? a
        : throw new EnsembleException($"{Path}: no variable '{variable}' (has: {string.Join(", ", Layout.Variables)})");

    public float[] ReadField(string variable, int member, int timeIndex, int leadIndex)
    {
        var a = Array(variable);
        var d = a.ReadSlice([member, timeIndex, leadIndex, 0, 0], [1, 1, 1, Layout.Nlat, Layout.Nlon]);
        return System.Array.ConvertAll(d, x => (float)x);
    }

    public TorchSharp.torch.Tensor Read(string variable)
    {
        var a = Array(variable);
        var l = Layout;
        var all = new float[(long)l.Members * l.Times.Count * l.LeadTimeHours.Count * l.Nlat * l.Nlon];
        int field = l.Nlat * l.Nlon;
        long k = 0;
        for (int m = 0; m < l.Members; m++)
            for (int t = 0; t < l.Times.Count; t++)
                for (int s = 0; s < l.LeadTimeHours.Count; s++, k++)
                {
                    var raw = a.ReadChunkRaw([m, t, s, 0, 0]);
                    var dst = all.AsSpan((int)(k * field), field);
                    if (raw is null) dst.Fill(float.NaN);
                    else System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(raw).CopyTo(dst);
                }
        return TorchSharp.torch.tensor(all, [l.Members, l.Times.Count, l.LeadTimeHours.Count, l.Nlat, l.Nlon]);
    }

    public void Dispose() { }
}
