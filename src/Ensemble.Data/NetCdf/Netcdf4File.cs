using Ensemble.Core;
using PureHDF;
using PureHDF.Selections;
using PureHDF.VOL.Native;

namespace Ensemble.Data.NetCdf;

/// <summary>
/// netCDF-4 reader on PureHDF. Rebuilds netCDF's view of the root group and its sub-groups (variables addressed
/// as "group/var") from the HDF5 conventions:
/// dimension scales (CLASS = DIMENSION_SCALE, ordered by _Netcdf4Dimid) are the dimensions, a scale
/// whose NAME starts "This is a netCDF dimension but not a netCDF variable" is a dimension only, and
/// each variable's DIMENSION_LIST names its dimensions. Datasets without scales get phony dimensions.
/// </summary>
public sealed class Netcdf4File : NetCdfFile
{
    const string DimOnlyPrefix = "This is a netCDF dimension but not a netCDF variable";
    static readonly HashSet<string> HiddenAttributes =
    [
        "CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST", "DIMENSION_LABELS", "_Netcdf4Dimid", "_Netcdf4Coordinates",
        "_NCProperties", "_nc3_strict", "_SuperblockVersion", "_IsNetcdf4",
    ];

    readonly NativeFile _file;
    readonly object _lock = new();
    readonly List<NcDimension> _dims = [];
    readonly List<NcVariable> _vars = [];
    readonly List<NcAttribute> _gatts;
    readonly Dictionary<string, IH5Dataset> _datasets = [];

    Netcdf4File(string path, NativeFile file) : base(path)
    {
        _file = file;
        _gatts = ReadAttributes(file, "global attributes");
        Build();
    }

    internal static Netcdf4File OpenHdf5(string path)
    {
        NativeFile f;
        try
        {
            f = H5File.OpenRead(path);
        }
        catch (Exception e) when (e is not EnsembleException)
        {
            throw new EnsembleException($"{path}: cannot open as HDF5/netCDF-4: {e.Message}", e);
        }
        try
        {
            return new Netcdf4File(path, f);
        }
        catch (Exception e) when (e is not EnsembleException)
        {
            f.Dispose();
            throw new EnsembleException($"{path}: corrupt or unsupported netCDF-4 structure: {e.Message}", e);
        }
        catch
        {
            f.Dispose();
            throw;
        }
    }

    public override string Format => "NETCDF4";
    public override IReadOnlyList<NcDimension> Dimensions => _dims;
    public override IReadOnlyList<NcVariable> Variables => _vars;
    public override IReadOnlyList<NcAttribute> GlobalAttributes => _gatts;

    void Build() => BuildGroup(_file, "", [""]);

    /// <summary>
    /// Adds one group's dimensions and variables; variables and dimensions of sub-groups are named "group/name"
    /// (netCDF-4 groups), and a variable's dimension is looked up in its own group first, then in its ancestors.
    /// </summary>
    void BuildGroup(IH5Group group, string prefix, IReadOnlyList<string> scopes)
    {
        var datasets = group.Children().OfType<IH5Dataset>().ToList();
        var scales = new List<(string Name, long Length, bool Unlimited, int DimId, bool DimOnly)>();
        int order = 0;
        foreach (var d in datasets)
        {
            _datasets[prefix + d.Name] = d;
            if (TextAttribute(d, "CLASS") != "DIMENSION_SCALE") continue;
            string? nameAttr = TextAttribute(d, "NAME");
            int dimId = d.AttributeExists("_Netcdf4Dimid") ? (int)NumberAttribute(d, "_Netcdf4Dimid") : 100000 + order;
            order++;
            var dims = d.Space.Dimensions;
            long len = dims.Length > 0 ? (long)dims[0] : 1;
            bool unlimited = d.Space.MaxDimensions.Length > 0 && d.Space.MaxDimensions[0] == ulong.MaxValue;
            scales.Add((prefix + d.Name, len, unlimited, dimId, nameAttr?.StartsWith(DimOnlyPrefix, StringComparison.Ordinal) == true));
        }
        foreach (var sc in scales.OrderBy(x => x.DimId))
            _dims.Add(new NcDimension(sc.Name, sc.Length, sc.Unlimited));
        var dimOnly = scales.Where(x => x.DimOnly).Select(x => x.Name).ToHashSet();
        var scaleNames = scales.Select(x => x.Name).ToHashSet();

        foreach (var d in datasets)
        {
            string name = prefix + d.Name;
            if (dimOnly.Contains(name)) continue;
            long[] shape = d.Space.Type == H5DataspaceType.Scalar ? [] : d.Space.Dimensions.Select(x => (long)x).ToArray();
            string[] dimNames = scaleNames.Contains(name) && shape.Length == 1
                ? [name]
                : DimensionNames(d, name, shape, scopes);
            var type = MapType(d.Type, name);
            _vars.Add(new NcVariable(name, dimNames, shape, type, ReadAttributes(d, $"variable '{name}'")));
        }
        foreach (var g in group.Children().OfType<IH5Group>())
        {
            string sub = prefix + g.Name + "/";
            BuildGroup(g, sub, [sub, .. scopes]);
        }
    }

    string[] DimensionNames(IH5Dataset d, string varName, long[] shape, IReadOnlyList<string> scopes)
    {
        var names = new string[shape.Length];
        if (shape.Length > 0 && d.AttributeExists("DIMENSION_LIST"))
        {
            var refs = d.Attribute("DIMENSION_LIST").Read<NativeObjectReference1[][]>();
            for (int i = 0; i < shape.Length && i < refs.Length; i++)
            {
                if (refs[i].Length == 0) continue;
                string shortName = _file.Get(refs[i][0]).Name;
                string n = scopes.Select(sc => sc + shortName).FirstOrDefault(full => _dims.Any(x => x.Name == full)) ?? shortName;
                var dim = _dims.FirstOrDefault(x => x.Name == n);
                if (dim is not null && dim.Length != shape[i] && !dim.IsUnlimited)
                    throw new EnsembleException($"{Path}: variable '{varName}' axis {i} has length {shape[i]} but its dimension '{n}' has {dim.Length}");
                names[i] = n;
            }
        }
        for (int i = 0; i < names.Length; i++)
        {
            if (names[i] is not null) continue;
            // netCDF-C's phony dimensions: reuse one of the same length not yet used by this variable.
            var phony = _dims.FirstOrDefault(x => x.Name.StartsWith("phony_dim_", StringComparison.Ordinal) && x.Length == shape[i] && !names.Contains(x.Name));
            if (phony is null)
            {
                phony = new NcDimension($"phony_dim_{_dims.Count(x => x.Name.StartsWith("phony_dim_", StringComparison.Ordinal))}", shape[i]);
                _dims.Add(phony);
            }
            names[i] = phony.Name;
        }
        return names;
    }

    static NcType MapType(IH5DataType t, string what)
    {
        switch (t.Class)
        {
            case H5DataTypeClass.FixedPoint:
                bool signed = t.FixedPoint.IsSigned;
                return t.Size switch
                {
                    1 => signed ? NcType.Byte : NcType.UByte,
                    2 => signed ? NcType.Short : NcType.UShort,
                    4 => signed ? NcType.Int : NcType.UInt,
                    8 => signed ? NcType.Int64 : NcType.UInt64,
                    _ => throw new EnsembleException($"{what}: unsupported integer size {t.Size}"),
                };
            case H5DataTypeClass.FloatingPoint:
                return t.Size switch
                {
                    4 => NcType.Float,
                    8 => NcType.Double,
                    _ => throw new EnsembleException($"{what}: unsupported float size {t.Size}"),
                };
            case H5DataTypeClass.String:
                return t.Size == 1 ? NcType.Char : NcType.String;
            case H5DataTypeClass.VariableLength when t.VariableLength.BaseType.Class == H5DataTypeClass.String
                                                    || t.VariableLength.BaseType.Class == H5DataTypeClass.FixedPoint && t.VariableLength.BaseType.Size == 1:
                return NcType.String;
            default:
                throw new EnsembleException($"{what}: HDF5 type class {t.Class} is not a netCDF type this reader supports");
        }
    }

    List<NcAttribute> ReadAttributes(IH5Object o, string what)
    {
        var list = new List<NcAttribute>();
        foreach (var a in o.Attributes())
        {
            if (HiddenAttributes.Contains(a.Name)) continue;
            NcType type;
            try { type = MapType(a.Type, $"{Path}: {what}: attribute '{a.Name}'"); }
            catch (EnsembleException) { continue; } // compound/reference attributes have no netCDF meaning here
            if (type is NcType.Char or NcType.String)
            {
                string text = a.Space.Type == H5DataspaceType.Scalar
                    ? a.Read<string>()
                    : string.Join("\n", a.Read<string[]>());
                list.Add(new NcAttribute(a.Name, type, text.TrimEnd('\0')));
            }
            else
                list.Add(new NcAttribute(a.Name, type, ReadNumbers(a, type)));
        }
        return list;
    }

    static double[] ReadNumbers(IH5Attribute a, NcType type) => type switch
    {
        NcType.Byte => Array.ConvertAll(a.Read<sbyte[]>(), x => (double)x),
        NcType.UByte => Array.ConvertAll(a.Read<byte[]>(), x => (double)x),
        NcType.Short => Array.ConvertAll(a.Read<short[]>(), x => (double)x),
        NcType.UShort => Array.ConvertAll(a.Read<ushort[]>(), x => (double)x),
        NcType.Int => Array.ConvertAll(a.Read<int[]>(), x => (double)x),
        NcType.UInt => Array.ConvertAll(a.Read<uint[]>(), x => (double)x),
        NcType.Int64 => Array.ConvertAll(a.Read<long[]>(), x => (double)x),
        NcType.UInt64 => Array.ConvertAll(a.Read<ulong[]>(), x => (double)x),
        NcType.Float => Array.ConvertAll(a.Read<float[]>(), x => (double)x),
        NcType.Double => a.Read<double[]>(),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    static string? TextAttribute(IH5Object o, string name)
    {
        if (!o.AttributeExists(name)) return null;
        var a = o.Attribute(name);
        if (a.Type.Class is not (H5DataTypeClass.String or H5DataTypeClass.VariableLength)) return null;
        return a.Read<string>().TrimEnd('\0');
    }

    static double NumberAttribute(IH5Object o, string name)
    {
        var a = o.Attribute(name);
        return ReadNumbers(a, MapType(a.Type, name))[0];
    }

    protected override double[] ReadRawCore(NcVariable v, long[] starts, long[] counts)
    {
        var d = _datasets[v.Name];
        try
        {
            lock (_lock)
            {
                return v.Type switch
                {
                    NcType.Byte => Array.ConvertAll(Read<sbyte>(d, v, starts, counts), x => (double)x),
                    NcType.UByte => Array.ConvertAll(Read<byte>(d, v, starts, counts), x => (double)x),
                    NcType.Short => Array.ConvertAll(Read<short>(d, v, starts, counts), x => (double)x),
                    NcType.UShort => Array.ConvertAll(Read<ushort>(d, v, starts, counts), x => (double)x),
                    NcType.Int => Array.ConvertAll(Read<int>(d, v, starts, counts), x => (double)x),
                    NcType.UInt => Array.ConvertAll(Read<uint>(d, v, starts, counts), x => (double)x),
                    NcType.Int64 => Array.ConvertAll(Read<long>(d, v, starts, counts), x => (double)x),
                    NcType.UInt64 => Array.ConvertAll(Read<ulong>(d, v, starts, counts), x => (double)x),
                    NcType.Float => Array.ConvertAll(Read<float>(d, v, starts, counts), x => (double)x),
                    NcType.Double => Read<double>(d, v, starts, counts),
                    _ => throw new EnsembleException($"{Path}: variable '{v.Name}' is not numeric"),
                };
            }
        }
        catch (Exception e) when (e is not EnsembleException)
        {
            throw new EnsembleException($"{Path}: cannot read variable '{v.Name}': {e.Message}", e);
        }
    }

    /// <summary>Reads a hyperslab as float32 without the float64 detour (for large float fields).</summary>
    public float[] ReadFloatSlab(string variable, long[] starts, long[] counts)
    {
        var v = Variable(variable);
        if (v.Type != NcType.Float) throw new EnsembleException($"{Path}: variable '{variable}' is {NcTypes.CdlName(v.Type)}, not float");
        lock (_lock) return Read<float>(_datasets[v.Name], v, starts, counts);
    }

    public override long[] ReadInt64(string variable)
    {
        var v = Variable(variable);
        if (v.Type is not (NcType.Int64 or NcType.UInt64)) return base.ReadInt64(variable);
        lock (_lock)
            return v.Type == NcType.Int64 ? Read<long>(_datasets[v.Name], v, new long[v.Rank], v.Shape)
                : Array.ConvertAll(Read<ulong>(_datasets[v.Name], v, new long[v.Rank], v.Shape), x => checked((long)x));
    }

    static T[] Read<T>(IH5Dataset d, NcVariable v, long[] starts, long[] counts) where T : unmanaged
    {
        if (v.Rank == 0) return d.Read<T[]>();
        // A flat memory buffer: PureHDF otherwise returns a multi-dimensional array for some layouts.
        ulong total = (ulong)counts.Aggregate(1L, (a, b) => a * b);
        bool all = starts.All(s => s == 0) && counts.SequenceEqual(v.Shape);
        if (all) return d.Read<T[]>(memoryDims: [total]);
        var sel = new HyperslabSelection(v.Rank, starts.Select(s => (ulong)s).ToArray(), counts.Select(c => (ulong)c).ToArray());
        return d.Read<T[]>(fileSelection: sel, memoryDims: [total]);
    }

    protected override string[] ReadStringsCore(NcVariable v)
    {
        var d = _datasets[v.Name];
        lock (_lock)
        {
            if (v.Type == NcType.Char && v.Rank > 0)
            {
                // Char arrays whose last dimension is the string length.
                var bytes = d.Read<byte[]>();
                long len = v.Shape[^1];
                return Enumerable.Range(0, (int)(bytes.Length / Math.Max(1, len)))
                    .Select(i => System.Text.Encoding.UTF8.GetString(bytes, (int)(i * len), (int)len).TrimEnd('\0', ' ')).ToArray();
            }
            return v.Rank == 0 ? [d.Read<string>().TrimEnd('\0')] : d.Read<string[]>().Select(s => s.TrimEnd('\0')).ToArray();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _file.Dispose();
    }
}
