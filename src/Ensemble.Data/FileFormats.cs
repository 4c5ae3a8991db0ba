using Ensemble.Core;

namespace Ensemble.Data;

public enum FileFormat { Grib, NetCdf3, Hdf5, Npy, Npz, Zarr }

/// <summary>Recognises the formats the engine reads by their magic bytes (or, for zarr, by the store's metadata files).</summary>
public static class FileFormats
{
    static ReadOnlySpan<byte> Hdf5Magic => [0x89, (byte)'H', (byte)'D', (byte)'F', 0x0d, 0x0a, 0x1a, 0x0a];
    static ReadOnlySpan<byte> NpyMagic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static FileFormat Detect(string path)
    {
        if (Directory.Exists(path))
        {
            if (File.Exists(Path.Combine(path, ".zgroup")) || File.Exists(Path.Combine(path, ".zarray")) || File.Exists(Path.Combine(path, ".zmetadata")))
                return FileFormat.Zarr;
            throw new EnsembleException($"{path}: a folder that is not a zarr v2 store (no .zgroup/.zarray)");
        }
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        Span<byte> head = stackalloc byte[16];
        int n;
        using (var fs = File.OpenRead(path)) n = fs.Read(head);
        var h = head[..n];
        if (h.StartsWith("GRIB"u8)) return FileFormat.Grib;
        if (h.StartsWith("CDF"u8) && n >= 4 && h[3] is 1 or 2 or 5) return FileFormat.NetCdf3;
        if (h.StartsWith(Hdf5Magic)) return FileFormat.Hdf5;
        if (h.StartsWith(NpyMagic)) return FileFormat.Npy;
        if (h.StartsWith("PK"u8) && path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return FileFormat.Npz;
        // GRIB files may carry a short header before the first message (e.g. WMO bulletins): look a little further.
        if (ContainsGribWithin(path, 4096)) return FileFormat.Grib;
        throw new EnsembleException($"{path}: unrecognised format (expected GRIB, netCDF, HDF5, .npy/.npz or a zarr store)");
    }

    static bool ContainsGribWithin(string path, int bytes)
    {
        using var fs = File.OpenRead(path);
        var buf = new byte[Math.Min(bytes, fs.Length)];
        int n = fs.Read(buf);
        return buf.AsSpan(0, n).IndexOf("GRIB"u8) >= 0;
    }
}
