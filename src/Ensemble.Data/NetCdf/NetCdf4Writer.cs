using Ensemble.Core;
using Ensemble.Data.Hdf5;
using PureHDF;

namespace Ensemble.Data.NetCdf;

/// <summary>
/// Writes a netCDF-4 file (HDF5 through PureHDF) of our CF layout: 1-D coordinate variables that are
/// dimension scales (with _Netcdf4Dimid), data variables attached to them via DIMENSION_LIST, and CF
/// attributes. netCDF-C, netCDF4-python and xarray see named dimensions and coordinates.
/// Attribute values: string, double, float, int, long, short or arrays of those.
/// </summary>
public sealed class NetCdf4Writer
{
    readonly List<(string Name, Array Values, Dictionary<string, object> Attrs)> _coords = [];
    readonly List<(string Name, string[] Dims, Array Data, Dictionary<string, object> Attrs, int? Deflate)> _vars = [];

    public Dictionary<string, object> GlobalAttributes { get; } = new() { ["Conventions"] = "CF-1.10" };

    /// <summary>Adds a dimension and its coordinate variable (float[], double[], int[] or long[]).</summary>
    public NetCdf4Writer AddCoordinate(string name, Array values, IDictionary<string, object>? attributes = null)
    {
        if (_coords.Any(c => c.Name == name) || _vars.Any(v => v.Name == name))
            throw new EnsembleException($"netCDF writer: '{name}' is defined twice");
        if (values.Rank != 1 || values.Length == 0)
            throw new EnsembleException($"netCDF writer: coordinate '{name}' must be a non-empty 1-D array");
        CheckType(values, name);
        _coords.Add((name, values, new Dictionary<string, object>(attributes ?? new Dictionary<string, object>())));
        return this;
    }

    /// <summary>
    /// Adds a data variable over existing coordinates, values in C order (float[] or double[] …).
    /// <paramref name="deflateLevel"/> chunks the variable one 2-D field per chunk and compresses it.
    /// </summary>
    public NetCdf4Writer AddVariable(string name, string[] dimensions, Array data, IDictionary<string, object>? attributes = null, int? deflateLevel = null)
    {
        if (_coords.Any(c => c.Name == name) || _vars.Any(v => v.Name == name))
            throw new EnsembleException($"netCDF writer: '{name}' is defined twice");
        CheckType(data, name);
        long n = 1;
        foreach (var d in dimensions)
        {
            var c = _coords.FirstOrDefault(x => x.Name == d);
            if (c.Name is null) throw new EnsembleException($"netCDF writer: variable '{name}' uses dimension '{d}' which has no coordinate");
            n *= c.Values.Length;
        }
        if (data.Length != n)
            throw new EnsembleException($"netCDF writer: variable '{name}' has {data.Length} values, its dimensions ({string.Join(", ", dimensions)}) need {n}");
        _vars.Add((name, dimensions, data, new Dictionary<string, object>(attributes ?? new Dictionary<string, object>()), deflateLevel));
        return this;
    }

    static void CheckType(Array a, string name)
    {
        if (a is not (float[] or double[] or int[] or long[] or short[]))
            throw new EnsembleException($"netCDF writer: '{name}' must be float[], double[], int[], long[] or short[] (got {a.GetType().Name})");
    }

    /// <summary>Writes the file (temp name + rename).</summary>
    public void Write(string path)
    {
        var file = new H5File();
        foreach (var (k, v) in GlobalAttributes) file.Attributes[k] = v;
        var scales = new Dictionary<string, H5Dataset>();
        for (int i = 0; i < _coords.Count; i++)
        {
            var (name, values, attrs) = _coords[i];
            var ds = new H5Dataset(values);
            foreach (var (k, v) in attrs) ds.Attributes[k] = v;
            Hdf5Conventions.MakeScale(ds, name, i);
            scales[name] = ds;
            file[name] = ds;
        }
        foreach (var (name, dims, data, attrs, deflate) in _vars)
        {
            ulong[] shape = dims.Select(d => (ulong)_coords.First(c => c.Name == d).Values.Length).ToArray();
            H5Dataset ds;
            if (deflate is int level && dims.Length >= 2)
            {
                // One horizontal field per chunk, as the HENS outputs use.
                uint[] chunks = shape.Select((s, i) => i >= shape.Length - 2 ? (uint)s : 1u).ToArray();
                ds = new H5Dataset(data, chunks: chunks, fileDims: shape, datasetCreation: Hdf5Conventions.Deflate(level));
            }
            else
                ds = new H5Dataset(data, fileDims: shape);
            foreach (var (k, v) in attrs) ds.Attributes[k] = v;
            if (dims.Length > 0)
            {
                Hdf5Conventions.AttachScales(ds, dims.Select(d => scales[d]).ToArray());
                ds.Attributes["_Netcdf4Coordinates"] = dims.Select(d => _coords.FindIndex(c => c.Name == d)).ToArray();
            }
            file[name] = ds;
        }
        Hdf5Conventions.WriteAtomic(file, path);
    }
}
