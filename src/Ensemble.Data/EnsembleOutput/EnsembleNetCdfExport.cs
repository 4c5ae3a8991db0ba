using System.Runtime.InteropServices;
using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.Hdf5;
using Ensemble.Data.Zarr;
using PureHDF;
using PureHDF.Filters;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>
/// zarr ensemble store → netCDF-4 (PureHDF deferred writing). Coordinates are dimension scales, data variables
/// chunked one field per chunk with deflate, attached through DIMENSION_LIST. Each zarr chunk is read and handed
/// to the HDF5 writer on its own and encoded right after (<see cref="DeferredWritingChunkCache"/>), so memory holds
/// one field at a time (PureHDF's default writing cache keeps every chunk until the file is closed).
/// </summary>
internal static class EnsembleNetCdfExport
{
    public static void Write(string zarrPath, string ncPath, int deflateLevel)
    {
        if (deflateLevel is not (0 or 1 or 9)) throw new EnsembleException($"{ncPath}: deflate level {deflateLevel} is not supported (PureHDF writes 0 = none, 1 or 9)");
        var store = ZarrStore.Open(zarrPath);
        var layout = EnsembleZarrLayout.Read(store);
        var file = new H5File();
        foreach (var (k, v) in EnsembleZarrLayout.RootAttributes(layout)) file.Attributes[k] = v;
        foreach (var (k, v) in layout.Attributes) file.Attributes[k] = v;

        var reference = EnsembleZarrLayout.Reference(layout);
        var (hours, integral) = EnsembleZarrLayout.TimeHours(layout);
        var leads = layout.LeadTimeHours.ToArray();
        var coords = new (string Name, Array Values, Dictionary<string, object> Attrs)[]
        {
            ("ensemble", Enumerable.Range(0, layout.Members).Select(i => (long)i).ToArray(), CfCoordinates.Ensemble()),
            ("time", integral ? hours.Select(h => (long)h).ToArray() : hours, CfCoordinates.Time(reference)),
            ("lead_time", EnsembleZarrLayout.LeadsIntegral(layout) ? leads.Select(h => (long)h).ToArray() : leads, CfCoordinates.LeadTime()),
            ("lat", layout.Lat, CfCoordinates.Latitude()),
            ("lon", layout.Lon, CfCoordinates.Longitude()),
        };
        var scales = new Dictionary<string, H5Dataset>();
        for (int i = 0; i < coords.Length; i++)
        {
            var (name, values, attrs) = coords[i];
            var ds = new H5Dataset(values);
            foreach (var (k, v) in attrs) ds.Attributes[k] = v;
            Hdf5Conventions.MakeScale(ds, name, i);
            scales[name] = ds;
            file[name] = ds;
        }
        if (layout.MemberInfo is { } info)
        {
            // Text per member goes into global attributes (JSON arrays): netCDF-C crashes on the fixed-length string
            // datasets PureHDF writes, and variable-length ones would break the fixed-length CLASS attributes.
            file.Attributes[NetCdfEnsembleReader.ModelAttribute] = System.Text.Json.JsonSerializer.Serialize(info.Select(m => m.Model).ToArray());
            file.Attributes[NetCdfEnsembleReader.PerturbationAttribute] = System.Text.Json.JsonSerializer.Serialize(info.Select(m => m.Perturbation).ToArray());
            var members = new (string Name, Array Values, string LongName)[]
            {
                ("checkpoint", info.Select(m => m.Checkpoint).ToArray(), "checkpoint index"),
                ("pair", info.Select(m => m.Pair).ToArray(), "perturbation pair index"),
                ("sign", info.Select(m => m.Sign).ToArray(), "perturbation sign (+1, -1; 0 = control)"),
                ("seed", info.Select(m => m.Seed).ToArray(), "random seed of the perturbation pair"),
            };
            foreach (var (name, values, longName) in members)
            {
                var ds = new H5Dataset(values);
                ds.Attributes["long_name"] = longName;
                Hdf5Conventions.AttachScales(ds, [scales["ensemble"]]);
                ds.Attributes["_Netcdf4Coordinates"] = new[] { 0 };
                file[name] = ds;
            }
        }
        ulong[] shape = [(ulong)layout.Members, (ulong)layout.Times.Count, (ulong)layout.LeadTimeHours.Count, (ulong)layout.Nlat, (ulong)layout.Nlon];
        uint[] chunks = [1, 1, 1, (uint)layout.Nlat, (uint)layout.Nlon];
        var datasets = new List<(string Name, H5Dataset<float[]> Dataset, DeferredWritingChunkCache Cache)>();
        foreach (var v in layout.Variables)
        {
            var cache = new DeferredWritingChunkCache();
            var creation = new H5DatasetCreation(cache,
                deflateLevel > 0 ? [new H5Filter(DeflateFilter.Id, new() { [DeflateFilter.COMPRESSION_LEVEL] = deflateLevel })] : []);
            var ds = new H5Dataset<float[]>(shape, chunks, creation);
            foreach (var (k, a) in EnsembleZarrLayout.VariableAttributes(layout, v, netCdf: true)) ds.Attributes[k] = a;
            Hdf5Conventions.AttachScales(ds, EnsembleLayout.Dimensions.Select(d => scales[d]).ToArray());
            ds.Attributes["_Netcdf4Coordinates"] = new[] { 0, 1, 2, 3, 4 };
            file[v] = ds;
            datasets.Add((v, ds, cache));
        }

        var options = Hdf5Conventions.Options(file);
        string full = Path.GetFullPath(ncPath);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir)) throw new EnsembleException($"{ncPath}: directory '{dir}' does not exist");
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            int field = layout.Nlat * layout.Nlon;
            var nan = new float[field];
            Array.Fill(nan, float.NaN);
            using (var writer = file.BeginWrite(tmp, options))
            {
                foreach (var (name, ds, cache) in datasets)
                {
                    var array = store.OpenArray(name);
                    if (array.DType != "<f4") throw new EnsembleException($"{zarrPath}/{name}: dtype {array.DType}, expected <f4");
                    for (int m = 0; m < layout.Members; m++)
                        for (int t = 0; t < layout.Times.Count; t++)
                            for (int s = 0; s < layout.LeadTimeHours.Count; s++)
                            {
                                var raw = array.ReadChunkRaw([m, t, s, 0, 0]);
                                float[] values = raw is null ? nan : MemoryMarshal.Cast<byte, float>(raw).ToArray();
                                var sel = new HyperslabSelection(5, [(ulong)m, (ulong)t, (ulong)s, 0, 0], [1, 1, 1, (ulong)layout.Nlat, (ulong)layout.Nlon]);
                                writer.Write(ds, values, fileSelection: sel);
                                cache.EncodePending();
                            }
                }
            }
            int scalesCount = coords.Length;
            int patched = DimensionScaleClassFix.Apply(tmp, options.DefaultStringLength);
            if (options.DefaultStringLength != 16 && patched != scalesCount)
                throw new EnsembleException($"{ncPath}: fixed {patched} of {scalesCount} dimension scale CLASS attributes (HDF5 layout not understood)");
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { }
            if (e is EnsembleException or IOException) throw;
            throw new EnsembleException($"{ncPath}: netCDF-4 write failed: {e.Message}", e);
        }
    }
}

/// <summary>
/// A writing chunk cache whose pending chunks the caller encodes (<see cref="EncodePending"/>) after each complete
/// write, outside PureHDF's own write call. PureHDF's default cache keeps every chunk until the file is closed;
/// encoding from inside <c>GetChunk</c> (eviction) corrupts its chunk bookkeeping, so it is done between writes.
/// Correct for our writes, which fill each chunk completely in one call and never return to it.
/// </summary>
internal sealed class DeferredWritingChunkCache : IWritingChunkCache
{
    readonly List<(ulong Index, Memory<byte> Chunk)> _pending = [];
    Action<ulong, Memory<byte>>? _encoder;

    public Memory<byte> GetChunk(ulong index, Func<Memory<byte>> chunkAllocator, Action<ulong, Memory<byte>> chunkEncoder)
    {
        _encoder = chunkEncoder;
        foreach (var (i, c) in _pending)
            if (i == index) return c;
        var chunk = chunkAllocator();
        _pending.Add((index, chunk));
        return chunk;
    }

    /// <summary>Writes (filters and stores) every pending chunk now.</summary>
    public void EncodePending()
    {
        if (_encoder is null) return;
        foreach (var (i, c) in _pending) _encoder(i, c);
        _pending.Clear();
    }

    public void Flush(Action<ulong, Memory<byte>> chunkEncoder)
    {
        foreach (var (i, c) in _pending) chunkEncoder(i, c);
        _pending.Clear();
    }
}
