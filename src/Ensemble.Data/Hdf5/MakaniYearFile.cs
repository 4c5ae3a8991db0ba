using Ensemble.Core;
using PureHDF;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace Ensemble.Data.Hdf5;

/// <summary>
/// One Makani/FourCastNet training year, <c>YYYY.h5</c>: dataset <c>fields</c> float32
/// [time, channel, lat, lon] chunked one field per chunk, with the annotations newer Makani writes:
/// dimension scales <c>timestamp</c> (float64 seconds since the Unix epoch), <c>channel</c> (fixed-length
/// strings), <c>lat</c>, <c>lon</c>, attached to <c>fields</c>, and <c>valid_data</c> int32 [time, channel].
/// Time of index i = 1 January 00 UTC of the year + i·dhours.
/// </summary>
public static class MakaniYearFile
{
    public const string FieldsPath = "fields";

    /// <summary>Writes a year file; <paramref name="fields"/> is [time, channel, lat, lon] in C order.</summary>
    public static void Write(string path, int year, int dhours, float[] fields, string[] channels, double[] lat, double[] lon)
    {
        if (dhours <= 0) throw new EnsembleException($"{path}: dhours must be positive");
        long per = (long)channels.Length * lat.Length * lon.Length;
        if (per == 0 || fields.Length % per != 0)
            throw new EnsembleException($"{path}: {fields.Length} values do not make whole [time, {channels.Length}, {lat.Length}, {lon.Length}] fields");
        int nt = (int)(fields.Length / per);
        var t0 = new DateTime(year, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        var timestamps = Enumerable.Range(0, nt).Select(i => (t0.AddHours((double)i * dhours) - DateTime.UnixEpoch).TotalSeconds).ToArray();

        var ts = new H5Dataset(timestamps);
        var ch = new H5Dataset(channels);
        var la = new H5Dataset(lat);
        var lo = new H5Dataset(lon);
        Hdf5Conventions.MakeScale(ts, "timestamp", 0);
        Hdf5Conventions.MakeScale(ch, "channel", 1);
        Hdf5Conventions.MakeScale(la, "lat", 2);
        Hdf5Conventions.MakeScale(lo, "lon", 3);
        ts.Attributes["units"] = "seconds since 1970-01-01 00:00:00";
        la.Attributes["units"] = "degrees_north";
        lo.Attributes["units"] = "degrees_east";
        var f = new H5Dataset(fields, chunks: [1, 1, (uint)lat.Length, (uint)lon.Length],
            fileDims: [(ulong)nt, (ulong)channels.Length, (ulong)lat.Length, (ulong)lon.Length]);
        Hdf5Conventions.AttachScales(f, [ts, ch, la, lo]);
        var valid = new H5Dataset(Enumerable.Repeat(1, nt * channels.Length).ToArray(), fileDims: [(ulong)nt, (ulong)channels.Length]);
        Hdf5Conventions.AttachScales(valid, [ts, ch]);
        // Scales first: PureHDF encodes links in insertion order and a reference to an object not yet
        // encoded comes out empty.
        var file = new H5File
        {
            ["timestamp"] = ts, ["channel"] = ch, ["lat"] = la, ["lon"] = lo, [FieldsPath] = f, ["valid_data"] = valid,
        };
        file.Attributes["dhours"] = dhours;
        Hdf5Conventions.WriteAtomic(file, path, channels);
    }

    public static MakaniYearReader Open(string path, int? dhours = null) => new(path, dhours);
}

/// <summary>Reads a Makani year file; single time indices are read as hyperslabs, not the whole file.</summary>
public sealed class MakaniYearReader : IDisposable
{
    readonly NativeFile _file;
    readonly IH5Dataset _fields;

    internal MakaniYearReader(string path, int? dhours)
    {
        Path = path;
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        if (!int.TryParse(System.IO.Path.GetFileNameWithoutExtension(path), out int year))
            throw new EnsembleException($"{path}: Makani year files are named YYYY.h5");
        Year = year;
        try { _file = H5File.OpenRead(path); }
        catch (Exception e) { throw new EnsembleException($"{path}: cannot open as HDF5: {e.Message}", e); }
        try
        {
            if (!_file.LinkExists(MakaniYearFile.FieldsPath))
                throw new EnsembleException($"{path}: no dataset '{MakaniYearFile.FieldsPath}'");
            _fields = _file.Dataset(MakaniYearFile.FieldsPath);
            var dims = _fields.Space.Dimensions;
            if (dims.Length != 4)
                throw new EnsembleException($"{path}: '{MakaniYearFile.FieldsPath}' has rank {dims.Length}, expected [time, channel, lat, lon]");
            if (_fields.Type.Class != H5DataTypeClass.FloatingPoint || _fields.Type.Size != 4)
                throw new EnsembleException($"{path}: '{MakaniYearFile.FieldsPath}' is not float32");
            Shape = dims.Select(d => (long)d).ToArray();
            Channels = _file.LinkExists("channel") ? _file.Dataset("channel").Read<string[]>().Select(s => s.TrimEnd('\0')).ToArray() : [];
            DHours = dhours ?? (_file.AttributeExists("dhours") ? _file.Attribute("dhours").Read<int>() : 6);
        }
        catch (Exception e) when (e is not EnsembleException)
        {
            _file.Dispose();
            throw new EnsembleException($"{path}: corrupt Makani file: {e.Message}", e);
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public string Path { get; }
    public int Year { get; }
    public int DHours { get; }
    /// <summary>[time, channel, lat, lon].</summary>
    public long[] Shape { get; }
    /// <summary>Channel names from the <c>channel</c> scale (empty for older files: use data.json).</summary>
    public string[] Channels { get; }

    public DateTime TimeOf(int index) => new DateTime(Year, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddHours((double)index * DHours);

    /// <summary>One time index: [channel, lat, lon] in C order.</summary>
    public float[] ReadTime(int index)
    {
        if (index < 0 || index >= Shape[0])
            throw new EnsembleException($"{Path}: time index {index} outside [0, {Shape[0]})");
        var sel = new HyperslabSelection(4, [(ulong)index, 0, 0, 0], [1, (ulong)Shape[1], (ulong)Shape[2], (ulong)Shape[3]]);
        return Read(sel, (ulong)(Shape[1] * Shape[2] * Shape[3]));
    }

    /// <summary>The whole dataset [time, channel, lat, lon] in C order.</summary>
    public float[] ReadAll() => Read(null, (ulong)Shape.Aggregate(1L, (a, b) => a * b));

    float[] Read(Selection? sel, ulong n)
    {
        try { return _fields.Read<float[]>(fileSelection: sel, memoryDims: [n]); }
        catch (Exception e) { throw new EnsembleException($"{Path}: cannot read '{MakaniYearFile.FieldsPath}': {e.Message}", e); }
    }

    public void Dispose() => _file.Dispose();
}
