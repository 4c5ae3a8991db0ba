using System.CommandLine;
using System.Text;
using Ensemble.Core;
using Ensemble.Data;
using Ensemble.Data.Grib;
using Ensemble.Data.NetCdf;
using Ensemble.Data.Npy;
using Ensemble.Data.Zarr;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble inspect FILE`: lists messages/variables like grib_ls or ncdump -h, whatever the format.</summary>
public static class InspectCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var path = new Argument<string>("path") { Description = "A GRIB1/2, netCDF-3/4, HDF5 (Makani), .npy/.npz file or a zarr v2 store" };
        var cmd = new Command("inspect", "List the messages or variables of a data file (like grib_ls / ncdump -h)") { path };
        cmd.SetAction(parse => wrap(parse, ctx =>
        {
            ctx.Out.Write(Describe(ctx.Parse.GetValue(path)!));
            return EnsembleCli.Ok;
        }));
        return cmd;
    }

    public static string Describe(string path) => FileFormats.Detect(path) switch
    {
        FileFormat.Grib => GribInspect.Describe(path),
        FileFormat.NetCdf3 or FileFormat.Hdf5 => NetCdfInspect.Describe(path),
        FileFormat.Npy => DescribeNpy(path),
        FileFormat.Npz => DescribeNpz(path),
        FileFormat.Zarr => DescribeZarr(path),
        var f => throw new EnsembleException($"{path}: cannot inspect {f} files"),
    };

    static string DescribeNpy(string path)
    {
        var a = NpyFile.Read(path);
        return $"{path}: npy {a.Descr} ({string.Join(", ", a.Shape)})\n";
    }

    static string DescribeNpz(string path)
    {
        var sb = new StringBuilder($"{path}: npz\n");
        foreach (var (name, a) in NpyFile.ReadNpz(path).OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.AppendLine($"  {name}: {a.Descr} ({string.Join(", ", a.Shape)})");
        return sb.ToString();
    }

    static string DescribeZarr(string path)
    {
        var store = ZarrStore.Open(path);
        var sb = new StringBuilder($"zarr v2 store {path}\n");
        foreach (var (k, v) in store.Attributes) sb.AppendLine($"  :{k} = {v?.ToJsonString()}");
        foreach (var name in store.ArrayNames.Order(StringComparer.Ordinal))
        {
            var a = store.OpenArray(name);
            string dims = a.Dimensions.Length == a.Rank ? string.Join(", ", a.Dimensions.Zip(a.Shape, (d, s) => $"{d}={s}")) : string.Join(", ", a.Shape);
            sb.AppendLine($"  {a.DType} {name}({dims}) chunks ({string.Join(", ", a.Chunks)}) compressor {a.Compressor?.ToString() ?? "none"}");
            foreach (var (k, v) in a.Attributes)
                if (k != "_ARRAY_DIMENSIONS") sb.AppendLine($"      {name}:{k} = {v?.ToJsonString()}");
        }
        return sb.ToString();
    }
}
