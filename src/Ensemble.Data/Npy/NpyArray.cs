using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Data.Npy;

/// <summary>
/// An array read from (or to be written to) NumPy's .npy format: C-order data in little-endian bytes,
/// a shape and a dtype descriptor such as "&lt;f4".
/// </summary>
public sealed class NpyArray
{
    public NpyArray(string descr, long[] shape, byte[] data)
    {
        Descr = descr;
        Shape = shape;
        Data = data;
        long expected = ElementCount * NpyDType.ItemSize(descr);
        if (data.Length != expected)
            throw new EnsembleException($"npy data has {data.Length} bytes, shape ({string.Join(", ", shape)}) of {descr} needs {expected}");
    }

    /// <summary>Canonical little-endian descriptor: &lt;f4, &lt;f8, &lt;c8, &lt;c16, &lt;i4, &lt;i8, |u1, |b1, ...</summary>
    public string Descr { get; }
    public long[] Shape { get; }
    /// <summary>C-order, little-endian element bytes.</summary>
    public byte[] Data { get; }
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public static NpyArray FromDoubles(double[] values, params long[] shape) =>
        new("<f8", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static NpyArray FromFloats(float[] values, params long[] shape) =>
        new("<f4", shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    /// <summary>Copies a tensor (any device) into an array of the same dtype and shape.</summary>
    public static NpyArray FromTensor(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        string descr = NpyDType.FromScalarType(c.dtype);
        byte[] bytes = c.NumberOfElements == 0 ? [] : c.bytes.ToArray();
        return new NpyArray(descr, c.shape, bytes);
    }

    /// <summary>A CPU tensor owning a copy of the data (64-byte aligned by libtorch, safe for view_as_complex).</summary>
    public Tensor ToTensor()
    {
        var st = NpyDType.ToScalarType(Descr);
        var t = torch.empty(Shape, dtype: st);
        if (Data.Length > 0)
            t.bytes = Data;
        return t;
    }

    public double[] ToDoubles()
    {
        long n = ElementCount;
        var result = new double[n];
        ReadOnlySpan<byte> d = Data;
        switch (Descr)
        {
            case "<f8": MemoryMarshal.Cast<byte, double>(d).CopyTo(result); break;
            case "<f4": { var s = MemoryMarshal.Cast<byte, float>(d); for (int i = 0; i < n; i++) result[i] = s[i]; break; }
            case "<f2": { var s = MemoryMarshal.Cast<byte, Half>(d); for (int i = 0; i < n; i++) result[i] = (double)s[i]; break; }
            case "<i8": { var s = MemoryMarshal.Cast<byte, long>(d); for (int i = 0; i < n; i++) result[i] = s[i]; break; }
            case "<i4": { var s = MemoryMarshal.Cast<byte, int>(d); for (int i = 0; i < n; i++) result[i] = s[i]; break; }
            case "<i2": { var s = MemoryMarshal.Cast<byte, short>(d); for (int i = 0; i < n; i++) result[i] = s[i]; break; }
            case "|i1": for (int i = 0; i < n; i++) result[i] = (sbyte)d[i]; break;
            case "|u1" or "|b1": for (int i = 0; i < n; i++) result[i] = d[i]; break;
            default: throw new EnsembleException($"npy dtype {Descr} cannot be converted to real numbers");
        }
        return result;
    }

    public float[] ToFloats() => Descr == "<f4"
        ? MemoryMarshal.Cast<byte, float>(Data.AsSpan()).ToArray()
        : ToDoubles().Select(x => (float)x).ToArray();
}

/// <summary>NumPy dtype descriptors ↔ TorchSharp scalar types.</summary>
public static class NpyDType
{
    public static int ItemSize(string descr) => descr switch
    {
        "<f8" or "<i8" or "<u8" or "<c8" => 8,
        "<f4" or "<i4" or "<u4" => 4,
        "<f2" or "<i2" or "<u2" => 2,
        "|i1" or "|u1" or "|b1" => 1,
        "<c16" => 16,
        _ => throw new EnsembleException($"unsupported npy dtype '{descr}'"),
    };

    public static ScalarType ToScalarType(string descr) => descr switch
    {
        "<f8" => ScalarType.Float64,
        "<f4" => ScalarType.Float32,
        "<f2" => ScalarType.Float16,
        "<i8" => ScalarType.Int64,
        "<i4" => ScalarType.Int32,
        "<i2" => ScalarType.Int16,
        "|i1" => ScalarType.Int8,
        "|u1" => ScalarType.Byte,
        "|b1" => ScalarType.Bool,
        "<c8" => ScalarType.ComplexFloat32,
        "<c16" => ScalarType.ComplexFloat64,
        _ => throw new EnsembleException($"npy dtype '{descr}' has no tensor equivalent"),
    };

    public static string FromScalarType(ScalarType st) => st switch
    {
        ScalarType.Float64 => "<f8",
        ScalarType.Float32 => "<f4",
        ScalarType.Float16 => "<f2",
        ScalarType.Int64 => "<i8",
        ScalarType.Int32 => "<i4",
        ScalarType.Int16 => "<i2",
        ScalarType.Int8 => "|i1",
        ScalarType.Byte => "|u1",
        ScalarType.Bool => "|b1",
        ScalarType.ComplexFloat32 => "<c8",
        ScalarType.ComplexFloat64 => "<c16",
        _ => throw new EnsembleException($"tensor dtype {st} cannot be stored in .npy"),
    };

    /// <summary>Normalises a header descriptor ("=f4", "float32"-style "&lt;f4", big-endian "&gt;f8") and reports byte order.</summary>
    internal static (string Canonical, bool BigEndian) Normalise(string descr)
    {
        if (descr.Length < 2) throw new EnsembleException($"malformed npy dtype '{descr}'");
        char order = descr[0];
        string code = descr[1..];
        bool single = code is "i1" or "u1" or "b1";
        if (single) return ("|" + code, false);
        return order switch
        {
            '<' or '=' => ("<" + code, false),
            '>' => ("<" + code, true),
            '|' => throw new EnsembleException($"malformed npy dtype '{descr}'"),
            _ => throw new EnsembleException($"malformed npy dtype '{descr}'"),
        };
    }

    internal static void SwapInPlace(byte[] data, int itemSize, bool complex)
    {
        int unit = complex ? itemSize / 2 : itemSize;
        if (unit == 1) return;
        for (int i = 0; i < data.Length; i += unit) Array.Reverse(data, i, unit);
    }
}

/// <summary>Reads and writes .npy (format 1.0–3.0) and .npz files.</summary>
public static class NpyFile
{
    static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static NpyArray Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        using var fs = File.OpenRead(path);
        return Read(fs, path);
    }

    public static NpyArray Read(Stream s, string name)
    {
        Span<byte> head = stackalloc byte[10];
        if (ReadFully(s, head) < 8 || !head[..6].SequenceEqual(Magic))
            throw new EnsembleException($"{name}: not a .npy file (bad magic)");
        byte major = head[6];
        int headerLen;
        if (major == 1)
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(head[8..10]);
        else if (major is 2 or 3)
        {
            Span<byte> two = stackalloc byte[2];
            if (ReadFully(s, two) < 2) throw new EnsembleException($"{name}: truncated .npy header");
            headerLen = (int)BinaryPrimitives.ReadUInt32LittleEndian([head[8], head[9], two[0], two[1]]);
        }
        else throw new EnsembleException($"{name}: unsupported .npy version {major}.{head[7]}");
        if (headerLen <= 0 || headerLen > 1 << 24) throw new EnsembleException($"{name}: malformed .npy header length {headerLen}");
        byte[] hb = new byte[headerLen];
        if (ReadFully(s, hb) < headerLen) throw new EnsembleException($"{name}: truncated .npy header");
        string header = (major == 3 ? System.Text.Encoding.UTF8 : System.Text.Encoding.Latin1).GetString(hb);
        var (descr, fortran, shape) = ParseHeader(header, name);
        var (canonical, big) = NpyDType.Normalise(descr);
        int item = NpyDType.ItemSize(canonical);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        long bytes = count * item;
        if (bytes > Array.MaxLength) throw new EnsembleException($"{name}: array of {bytes} bytes is too large to load at once");
        byte[] data = new byte[bytes];
        int got = ReadFully(s, data);
        if (got < bytes) throw new EnsembleException($"{name}: truncated .npy data ({got} of {bytes} bytes)");
        if (big) NpyDType.SwapInPlace(data, item, canonical.StartsWith("<c", StringComparison.Ordinal));
        var arr = new NpyArray(canonical, shape, data);
        return fortran ? ToCOrder(arr) : arr;
    }

    /// <summary>Reads every array of an .npz (zip of .npy files; stored or deflated).</summary>
    public static Dictionary<string, NpyArray> ReadNpz(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
        try
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(path);
            foreach (var e in zip.Entries)
            {
                if (!e.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var es = e.Open();
                result[e.FullName[..^4]] = Read(es, $"{path}:{e.FullName}");
            }
        }
        catch (InvalidDataException e)
        {
            throw new EnsembleException($"{path}: not a valid .npz archive ({e.Message})");
        }
        return result;
    }

    public static void Write(string path, NpyArray a) => AtomicFile.Write(path, s => Write(s, a));

    public static void Write(string path, Tensor t) => Write(path, NpyArray.FromTensor(t));

    public static void Write(Stream s, NpyArray a)
    {
        string shape = a.Shape.Length switch
        {
            0 => "()",
            1 => $"({a.Shape[0]},)",
            _ => "(" + string.Join(", ", a.Shape) + ")",
        };
        string dict = $"{{'descr': '{a.Descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // Pad so that magic(6)+version(2)+len(2)+header is a multiple of 64, ending in '\n'.
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        s.Write(Magic);
        s.WriteByte(1); s.WriteByte(0);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        s.Write(len);
        s.Write(System.Text.Encoding.Latin1.GetBytes(header));
        s.Write(a.Data);
    }

    static (string Descr, bool Fortran, long[] Shape) ParseHeader(string h, string name)
    {
        string? descr = null; bool? fortran = null; long[]? shape = null;
        try
        {
            int i = h.IndexOf("'descr'", StringComparison.Ordinal);
            if (i >= 0)
            {
                int q1 = h.IndexOf('\'', h.IndexOf(':', i) + 1);
                int q2 = h.IndexOf('\'', q1 + 1);
                descr = h[(q1 + 1)..q2];
            }
            i = h.IndexOf("'fortran_order'", StringComparison.Ordinal);
            if (i >= 0)
            {
                string rest = h[(h.IndexOf(':', i) + 1)..].TrimStart();
                fortran = rest.StartsWith("True", StringComparison.Ordinal) ? true
                    : rest.StartsWith("False", StringComparison.Ordinal) ? false : null;
            }
            i = h.IndexOf("'shape'", StringComparison.Ordinal);
            if (i >= 0)
            {
                int p1 = h.IndexOf('(', i);
                int p2 = h.IndexOf(')', p1);
                shape = h[(p1 + 1)..p2].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(x => long.Parse(x.TrimEnd('L'), System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            }
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or FormatException or OverflowException)
        {
            throw new EnsembleException($"{name}: malformed .npy header");
        }
        if (descr == null || fortran == null || shape == null || shape.Any(d => d < 0))
            throw new EnsembleException($"{name}: malformed .npy header");
        return (descr, fortran.Value, shape);
    }

    static NpyArray ToCOrder(NpyArray f)
    {
        // Fortran order = C order of the reversed shape, transposed.
        using var t = new NpyArray(f.Descr, f.Shape.Reverse().ToArray(), f.Data).ToTensor();
        var perm = Enumerable.Range(0, f.Shape.Length).Reverse().Select(x => (long)x).ToArray();
        using var c = t.permute(perm).contiguous();
        return NpyArray.FromTensor(c);
    }

    static int ReadFully(Stream s, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = s.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
