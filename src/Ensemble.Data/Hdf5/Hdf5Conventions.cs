using System.Text;
using Ensemble.Core;
using PureHDF;
using PureHDF.Filters;
using PureHDF.VOL.Native;

namespace Ensemble.Data.Hdf5;

/// <summary>
/// HDF5 conventions shared by our netCDF-4 and Makani writers (PureHDF): dimension scales
/// (CLASS/NAME, attached through DIMENSION_LIST object references) and fixed-length strings.
/// netCDF-C and H5DS only recognise CLASS/NAME as fixed-length NUL-terminated strings, and PureHDF
/// sizes all fixed strings of a file alike, so the width is the longest string in the file plus one.
/// REFERENCE_LIST back-references are omitted: PureHDF cannot encode the cycle, and neither
/// netCDF-C, h5py nor h5netcdf needs them to read.
/// </summary>
public static class Hdf5Conventions
{
    /// <summary>Marks a dataset as a dimension scale named <paramref name="name"/>.</summary>
    public static void MakeScale(H5Dataset scale, string name, int? netcdfDimId = null)
    {
        scale.Attributes["CLASS"] = "DIMENSION_SCALE";
        scale.Attributes["NAME"] = name;
        if (netcdfDimId is int id) scale.Attributes["_Netcdf4Dimid"] = id;
    }

    /// <summary>
    /// Attaches one scale per axis (DIMENSION_LIST). The scales must be added to the file before the
    /// dataset: PureHDF writes links in insertion order, and a reference to a later object is empty.
    /// </summary>
    public static void AttachScales(H5Dataset dataset, IReadOnlyList<H5Dataset> scales)
    {
        dataset.Attributes["DIMENSION_LIST"] = scales.Select(s => new H5ObjectReference[] { s }).ToArray();
    }

    /// <summary>Deflate filter list for chunked datasets.</summary>
    public static H5DatasetCreation Deflate(int level) =>
        new(ChunkCache: null, Filters: [new H5Filter(DeflateFilter.Id, new() { [DeflateFilter.COMPRESSION_LEVEL] = level })]);

    /// <summary>Write options with the fixed string width the file needs.</summary>
    public static H5WriteOptions Options(H5Group root, IEnumerable<string>? datasetStrings = null)
    {
        int longest = Math.Max(LongestString(root), StringBytes(datasetStrings?.ToArray()));
        return new H5WriteOptions(DefaultStringLength: Math.Max(16, longest + 1));
    }

    static int LongestString(H5Object o)
    {
        int max = o.Attributes.Values.Select(StringBytes).DefaultIfEmpty(0).Max();
        if (o is H5Group g)
            foreach (var child in g.Values)
            {
                if (child is H5Object h) max = Math.Max(max, LongestString(h));
                else max = Math.Max(max, StringBytes(child));
            }
        return max;
    }

    static int StringBytes(object? v) => v switch
    {
        string s => Encoding.UTF8.GetByteCount(s),
        string[] a => a.Select(Encoding.UTF8.GetByteCount).DefaultIfEmpty(0).Max(),
        _ => 0,
    };

    static int CountScales(H5Group g) =>
        g.Values.Sum(v => v switch
        {
            H5Group sub => CountScales(sub),
            H5Dataset d when d.Attributes.ContainsKey("CLASS") => 1,
            _ => 0,
        });

    /// <summary>Writes the file under a temporary name in the target folder and renames it into place.</summary>
    public static void WriteAtomic(H5File file, string path, IEnumerable<string>? datasetStrings = null)
    {
        var options = Options(file, datasetStrings);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(dir))
            throw new EnsembleException($"{path}: directory '{dir}' does not exist");
        // PureHDF needs a readable, seekable stream, so AtomicFile's write-only stream does not do here.
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            file.Write(tmp, options);
            int scales = CountScales(file);
            int patched = DimensionScaleClassFix.Apply(tmp, options.DefaultStringLength);
            if (options.DefaultStringLength != 16 && patched != scales)
                throw new EnsembleException($"{path}: fixed {patched} of {scales} dimension scale CLASS attributes (HDF5 layout not understood)");
            File.Move(tmp, full, overwrite: true);
        }
        catch (Exception e)
        {
            try { File.Delete(tmp); } catch (IOException) { }
            if (e is EnsembleException or IOException) throw;
            throw new EnsembleException($"{path}: HDF5 write failed: {e.Message}", e);
        }
    }
}
