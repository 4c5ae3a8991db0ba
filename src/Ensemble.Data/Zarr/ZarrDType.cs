using System.Buffers.Binary;
using Ensemble.Core;

namespace Ensemble.Data.Zarr;

/// <summary>The NumPy typestrs we read and write: &lt;f4 &lt;f8 &lt;i4 &lt;i8 (big-endian and &lt;i2/|u1 read too).</summary>
public static class ZarrDType
{
    public static int ItemSize(string dtype) => dtype[1..] switch
    {
        ['U', .. var n] when int.TryParse(n, out int u) && u > 0 => 4 * u,
        ['S', .. var n] when int.TryParse(n, out int b) && b > 0 => b,
        "f4" or "i4" or "u4" => 4,
        "f8" or "i8" or "u8" => 8,
        "i2" or "u2" => 2,
        "u1" or "i1" => 1,
        _ => throw new EnsembleException($"zarr dtype '{dtype}' is not supported"),
    };

    public static bool IsFloat(string dtype) => dtype[1] == 'f';

    /// <summary>True for NumPy fixed-length text: &lt;U{n} (UTF-32) or |S{n} (bytes).</summary>
    public static bool IsText(string dtype) => dtype.Length > 2 && dtype[1] is 'U' or 'S';

    /// <summary>Checks a dtype we are asked to write.</summary>
    public static void RequireWritable(string dtype)
    {
        if (dtype is not ("<f4" or "<f8" or "<i4" or "<i8") && !(dtype.StartsWith("<U", StringComparison.Ordinal) && IsText(dtype)))
            throw new EnsembleException($"zarr dtype '{dtype}' cannot be written (use <f4, <f8, <i4, <i8 or <U{{n}})");
    }

    public static void Decode(ReadOnlySpan<byte> b, string dtype, Span<double> dst)
    {
        bool big = dtype[0] == '>';
        int n = dst.Length;
        switch (dtype[1..])
        {
            case "f4": for (int i = 0; i < n; i++) dst[i] = big ? BinaryPrimitives.ReadSingleBigEndian(b[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(b[(4 * i)..]); break;
            case "f8": for (int i = 0; i < n; i++) dst[i] = big ? BinaryPrimitives.ReadDoubleBigEndian(b[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(b[(8 * i)..]); break;
            case "i4": for (int i = 0; i < n; i++) dst[i] = big ? BinaryPrimitives.ReadInt32BigEndian(b[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(b[(4 * i)..]); break;
            case "i8": for (int i = 0; i < n; i++) dst[i] = big ? BinaryPrimitives.ReadInt64BigEndian(b[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(b[(8 * i)..]); break;
            case "i2": for (int i = 0; i < n; i++) dst[i] = big ? BinaryPrimitives.ReadInt16BigEndian(b[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(b[(2 * i)..]); break;
            case "u1": for (int i = 0; i < n; i++) dst[i] = b[i]; break;
            case "i1": for (int i = 0; i < n; i++) dst[i] = (sbyte)b[i]; break;
            default: throw new EnsembleException($"zarr dtype '{dtype}' is not supported");
        }
    }

    public static void Encode(ReadOnlySpan<double> src, string dtype, Span<byte> b)
    {
        int n = src.Length;
        switch (dtype)
        {
            case "<f4": for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(b[(4 * i)..], (float)src[i]); break;
            case "<f8": for (int i = 0; i < n; i++) BinaryPrimitives.WriteDoubleLittleEndian(b[(8 * i)..], src[i]); break;
            case "<i4": for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt32LittleEndian(b[(4 * i)..], checked((int)Math.Round(src[i]))); break;
            case "<i8": for (int i = 0; i < n; i++) BinaryPrimitives.WriteInt64LittleEndian(b[(8 * i)..], checked((long)Math.Round(src[i]))); break;
            default: throw new EnsembleException($"zarr dtype '{dtype}' cannot be written");
        }
    }
}
