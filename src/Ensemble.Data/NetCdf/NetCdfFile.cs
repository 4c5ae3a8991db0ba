using Ensemble.Core;
using Ensemble.Data.Cf;

namespace Ensemble.Data.NetCdf;

/// <summary>
/// A netCDF file opened for reading, whatever its flavour: classic (CDF-1), 64-bit offset (CDF-2),
/// 64-bit data (CDF-5) or netCDF-4 (HDF5). Values come back as float64, fill-masked (NaN) and unpacked
/// following CF (<see cref="CfDecoding"/>); <see cref="ReadRaw"/> gives the stored numbers.
/// </summary>
public abstract class NetCdfFile : IDisposable
{
    protected NetCdfFile(string path) { Path = path; }

    /// <summary>Opens a netCDF file, choosing the reader from the magic bytes.</summary>
    public static NetCdfFile Open(string path)
    {
        if (!File.Exists(path))
            throw new EnsembleException($"{path}: file not found");
        Span<byte> magic = stackalloc byte[8];
        int n;
        using (var fs = File.OpenRead(path))
            n = fs.ReadAtLeast(magic, 8, throwOnEndOfStream: false);
        if (n >= 4 && magic[0] == 'C' && magic[1] == 'D' && magic[2] == 'F')
            return Netcdf3File.OpenClassic(path);
        if (n >= 8 && magic[0] == 0x89 && magic[1] == 'H' && magic[2] == 'D' && magic[3] == 'F')
            return Netcdf4File.OpenHdf5(path);
        throw new EnsembleException($"{path}: not a netCDF file (no CDF or HDF5 signature)");
    }

    public string Path { get; }
    /// <summary>NETCDF3_CLASSIC, NETCDF3_64BIT_OFFSET, NETCDF3_64BIT_DATA or NETCDF4 (netCDF4-python's names).</summary>
    public abstract string Format { get; }
    public abstract IReadOnlyList<NcDimension> Dimensions { get; }
    public abstract IReadOnlyList<NcVariable> Variables { get; }
    public abstract IReadOnlyList<NcAttribute> GlobalAttributes { get; }

    public bool HasVariable(string name) => Variables.Any(v => v.Name == name);

    public NcVariable Variable(string name) =>
        Variables.FirstOrDefault(v => v.Name == name)
        ?? throw new EnsembleException($"{Path}: no variable '{name}' (has: {string.Join(", ", Variables.Select(v => v.Name))})");

    public NcDimension Dimension(string name) =>
        Dimensions.FirstOrDefault(d => d.Name == name)
        ?? throw new EnsembleException($"{Path}: no dimension '{name}' (has: {string.Join(", ", Dimensions.Select(d => d.Name))})");

    public NcAttribute? GlobalAttribute(string name) => GlobalAttributes.FirstOrDefault(a => a.Name == name);

    /// <summary>All values, masked and unpacked, in C order.</summary>
    public double[] ReadDoubles(string variable)
    {
        var v = Variable(variable);
        return ReadSlice(variable, new long[v.Rank], v.Shape);
    }

    /// <summary>The hyperslab [starts, starts + counts) of a variable, masked and unpacked, in C order.</summary>
    public double[] ReadSlice(string variable, long[] starts, long[] counts)
    {
        var v = Variable(variable);
        var values = ReadRawChecked(v, starts, counts);
        new CfDecoding(v).Apply(values);
        return values;
    }

    /// <summary>All values as float32 (masked and unpacked first, then narrowed).</summary>
    public float[] ReadFloats(string variable) => Array.ConvertAll(ReadDoubles(variable), d => (float)d);

    /// <summary>Stored numbers without masking or unpacking.</summary>
    public double[] ReadRaw(string variable, long[]? starts = null, long[]? counts = null)
    {
        var v = Variable(variable);
        return ReadRawChecked(v, starts ?? new long[v.Rank], counts ?? v.Shape);
    }

    /// <summary>All stored values of an integer variable as int64 (exact, no float64 detour where the format allows).</summary>
    public virtual long[] ReadInt64(string variable)
    {
        var v = Variable(variable);
        if (!NcTypes.IsInteger(v.Type))
            throw new EnsembleException($"{Path}: variable '{variable}' is {NcTypes.CdlName(v.Type)}, not an integer");
        return Array.ConvertAll(ReadRaw(variable), x => checked((long)x));
    }

    /// <summary>Text of a char variable (the last dimension is the string length) or a string variable.</summary>
    public string[] ReadStrings(string variable)
    {
        var v = Variable(variable);
        if (v.Type is not (NcType.Char or NcType.String))
            throw new EnsembleException($"{Path}: variable '{variable}' is {NcTypes.CdlName(v.Type)}, not text");
        return ReadStringsCore(v);
    }

    /// <summary>Decodes a CF time variable ("&lt;unit&gt; since &lt;date&gt;", calendar standard/gregorian/proleptic_gregorian) to UTC times.</summary>
    public DateTime[] Times(string variable)
    {
        var v = Variable(variable);
        string units = v.TextAttribute("units")
            ?? throw new EnsembleException($"{Path}: variable '{variable}' has no units, so it is not a CF time");
        var cf = CfTimeUnits.Parse(units, v.TextAttribute("calendar"), $"{Path}: {variable}");
        return cf.Decode(ReadDoubles(variable), $"{Path}: {variable}");
    }

    /// <summary>Decodes a duration variable (units "hours", "days", ... without "since") such as lead_time.</summary>
    public TimeSpan[] Durations(string variable)
    {
        var v = Variable(variable);
        string units = v.TextAttribute("units") ?? throw new EnsembleException($"{Path}: variable '{variable}' has no units");
        var unit = CfTimeUnits.IsTimeUnits(units) ? null : CfTimeUnits.ParseUnit(units);
        if (unit is null) throw new EnsembleException($"{Path}: variable '{variable}' units '{units}' are not a duration unit");
        return ReadDoubles(variable).Select(d => double.IsNaN(d)
            ? throw new EnsembleException($"{Path}: variable '{variable}' has missing durations")
            : CfTimeUnits.Duration(d, unit.Value)).ToArray();
    }

    double[] ReadRawChecked(NcVariable v, long[] starts, long[] counts)
    {
        if (v.Type is NcType.Char or NcType.String)
            throw new EnsembleException($"{Path}: variable '{v.Name}' holds text; use ReadStrings");
        if (starts.Length != v.Rank || counts.Length != v.Rank)
            throw new EnsembleException($"{Path}: variable '{v.Name}' has rank {v.Rank}, slice has {starts.Length} starts and {counts.Length} counts");
        for (int i = 0; i < v.Rank; i++)
            if (starts[i] < 0 || counts[i] < 0 || starts[i] + counts[i] > v.Shape[i])
                throw new EnsembleException($"{Path}: slice [{starts[i]}, {starts[i] + counts[i]}) is outside dimension '{v.Dimensions[i]}' of length {v.Shape[i]} in '{v.Name}'");
        long n = counts.Aggregate(1L, (a, b) => a * b);
        if (n > Array.MaxLength)
            throw new EnsembleException($"{Path}: slice of '{v.Name}' has {n} values, too many for one array; read smaller slices");
        if (n == 0) return [];
        return ReadRawCore(v, starts, counts);
    }

    protected abstract double[] ReadRawCore(NcVariable v, long[] starts, long[] counts);
    protected abstract string[] ReadStringsCore(NcVariable v);

    protected virtual void Dispose(bool disposing) { }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
