using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.Grib;
using Ensemble.Data.NetCdf;
using TorchSharp;

namespace Ensemble.Data.Conversion;

/// <summary>What to keep: a subset of variables (in this order; null = all) and the model name to record.</summary>
public sealed record ConversionOptions(IReadOnlyList<string>? Variables = null, string? Model = null);

/// <summary>The written store: its path, "zarr" or "netcdf4", its layout and how many (member, time, lead) slots hold data.</summary>
public sealed record ConversionResult(string Output, string Format, EnsembleLayout Layout, int SlotsWritten);

/// <summary>
/// Converts forecasts and analyses to the ensemble output layout (see docs/formats/ensemble-output.md, "Converting"):
/// GRIB1/2 (ensemble or deterministic; all GRIB inputs form one source), stores already in the layout (zarr or netCDF-4),
/// generic CF netCDF-3/4 fields and Makani HDF5 year files. Several inputs are merged: union of times and lead times,
/// variables must not repeat between inputs, grids must agree; fields no input has stay NaN. The output (a zarr folder
/// for *.zarr, netCDF-4 for *.nc) is built under a temporary name and renamed into place, so a failed conversion leaves
/// nothing behind.
/// </summary>
public sealed class EnsembleConverter
{
    readonly Func<GribMessage, string> _gribVariableName;

    /// <param name="gribVariableName">Our variable name of a GRIB message (the scoring side's <c>GribVariableNames.Of</c>),
    /// so converted GRIB and scored GRIB use the same names.</param>
    public EnsembleConverter(Func<GribMessage, string> gribVariableName) => _gribVariableName = gribVariableName;

    /// <summary>"zarr" for *.zarr, "netcdf4" for *.nc / *.nc4; otherwise an <see cref="EnsembleException"/>.</summary>
    public static string OutputFormat(string output)
    {
        string o = output.TrimEnd('/', '\\');
        if (o.EndsWith(".zarr", StringComparison.OrdinalIgnoreCase)) return "zarr";
        if (o.EndsWith(".nc", StringComparison.OrdinalIgnoreCase) || o.EndsWith(".nc4", StringComparison.OrdinalIgnoreCase)) return "netcdf4";
        throw new EnsembleException($"{output}: the output must end in .zarr (zarr v2 store) or .nc (netCDF-4)");
    }

    public ConversionResult Convert(IReadOnlyList<string> inputs, string output, ConversionOptions? options = null, IProgress<(int Done, int Total)>? progress = null)
    {
        options ??= new ConversionOptions();
        if (inputs.Count == 0) throw new EnsembleException("convert: no input files given");
        string format = OutputFormat(output);
        string full = Path.GetFullPath(output.TrimEnd('/', '\\'));
        if (File.Exists(full) || Directory.Exists(full)) throw new EnsembleException($"{output}: already exists; remove it or choose another output");
        foreach (var i in inputs)
            if (Path.GetFullPath(i.TrimEnd('/', '\\')) == full) throw new EnsembleException($"{output}: the output is also an input");

        var sources = Open(inputs, options.Model);
        try
        {
            var plan = ConversionPlan.Build(sources, options, output);
            string parent = Path.GetDirectoryName(full) ?? ".";
            Directory.CreateDirectory(parent);
            string stem = $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}";
            string tmpZarr = Path.Combine(parent, stem + ".converting.zarr");
            string tmpNc = Path.Combine(parent, stem + ".converting.nc");
            try
            {
                int written;
                using (var writer = EnsembleStore.Create(tmpZarr, plan.Layout))
                    written = Write(plan, writer, progress);
                if (format == "zarr") Directory.Move(tmpZarr, full);
                else
                {
                    EnsembleStore.ToNetCdf(tmpZarr, tmpNc);
                    File.Move(tmpNc, full, overwrite: false);
                }
                return new ConversionResult(full, format, plan.Layout, written);
            }
            catch (IOException e) when (File.Exists(full) || Directory.Exists(full))
            {
                throw new EnsembleException($"{output}: appeared while converting; nothing was replaced ({e.Message})", e);
            }
            finally
            {
                if (Directory.Exists(tmpZarr)) Directory.Delete(tmpZarr, recursive: true);
                if (File.Exists(tmpNc)) File.Delete(tmpNc);
            }
        }
        finally
        {
            foreach (var s in sources) s.Dispose();
        }
    }

    static int Write(ConversionPlan plan, IEnsembleWriter writer, IProgress<(int Done, int Total)>? progress)
    {
        var l = plan.Layout;
        int n = l.Nlat * l.Nlon;
        var slots = plan.Slots();
        int done = 0, written = 0;
        var values = new float[l.Variables.Count * n];
        foreach (var (slot, parts) in slots)
        {
            Array.Fill(values, float.NaN);
            bool any = false;
            foreach (var (source, m, t, s) in parts)
                for (int v = 0; v < l.Variables.Count; v++)
                {
                    if (plan.Owner[v] != source) continue;
                    var field = plan.Sources[source].Read(l.Variables[v], m, t, s);
                    if (field is null) continue;
                    if (field.Length != n)
                        throw new EnsembleException($"{plan.Sources[source].Name}: field of '{l.Variables[v]}' has {field.Length} values for a {l.Nlat}×{l.Nlon} grid");
                    field.CopyTo(values, v * n);
                    any = true;
                }
            if (any)
            {
                using var tensor = torch.tensor(values, [1L, l.Variables.Count, l.Nlat, l.Nlon]);
                writer.Write([slot.Member], slot.Time, slot.Lead, tensor);
                written++;
            }
            progress?.Report((++done, slots.Count));
        }
        return written;
    }

    List<IConversionSource> Open(IReadOnlyList<string> inputs, string? model)
    {
        var sources = new List<IConversionSource>();
        try
        {
            var grib = new List<string>();
            foreach (var path in inputs)
            {
                if (MakaniSource.Recognises(path)) { sources.Add(new MakaniSource(path, model)); continue; }
                switch (FileFormats.Detect(path))
                {
                    case FileFormat.Grib: grib.Add(path); break;
                    case FileFormat.Zarr: sources.Add(new EnsembleStoreSource(path, model)); break;
                    case FileFormat.NetCdf3:
                    case FileFormat.Hdf5:
                        sources.Add(IsEnsembleLayout(path) ? new EnsembleStoreSource(path, model) : new CfNetCdfSource(path, model));
                        break;
                    default:
                        throw new EnsembleException($"{path}: .npy/.npz arrays carry no coordinates to convert; use GRIB, netCDF, zarr or Makani HDF5 input");
                }
            }
            if (grib.Count > 0) sources.Insert(0, new GribSource(grib, _gribVariableName, model));
            return sources;
        }
        catch
        {
            foreach (var s in sources) s.Dispose();
            throw;
        }
    }

    static bool IsEnsembleLayout(string path)
    {
        using var nc = NetCdfFile.Open(path);
        return nc.Variables.Any(v => v.Dimensions.SequenceEqual(EnsembleLayout.Dimensions));
    }
}
