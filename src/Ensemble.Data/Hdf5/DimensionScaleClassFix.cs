using System.Buffers.Binary;
using System.Text;
using Ensemble.Core;

namespace Ensemble.Data.Hdf5;

/// <summary>
/// HDF5's H5DSis_scale (used by netCDF-C and h5py) accepts a CLASS attribute only as a NUL-terminated
/// fixed-length string of exactly 16 bytes ("DIMENSION_SCALE\0"). PureHDF gives every fixed string of a
/// file one width, so after writing we shrink each CLASS attribute's datatype size to 16 (its value is
/// the first 16 bytes; the rest becomes slack inside the message) and recompute the object header's
/// Jenkins lookup3 checksum. The stored checksum is verified first, so a layout we do not understand
/// fails loudly instead of corrupting the file.
/// </summary>
internal static class DimensionScaleClassFix
{
    static readonly byte[] ClassValue = Encoding.ASCII.GetBytes("DIMENSION_SCALE");

    public static int Apply(string path, int stringWidth)
    {
        if (stringWidth == 16) return 0;
        // "CLASS\0", datatype v3 class 3 (string), flags 0x10 (NUL-terminated, UTF-8), size = stringWidth.
        var pattern = new byte[14];
        Encoding.ASCII.GetBytes("CLASS\0").CopyTo(pattern, 0);
        pattern[6] = 0x33; pattern[7] = 0x10; pattern[8] = 0; pattern[9] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(pattern.AsSpan(10), stringWidth);

        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        const int Block = 1 << 20, Overlap = 1 << 16;
        var buf = new byte[Block + Overlap];
        int patched = 0;
        long pos = 0;
        while (pos < fs.Length)
        {
            fs.Position = pos;
            int n = fs.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            var span = buf.AsSpan(0, n);
            int from = 0;
            while (true)
            {
                int i = span[from..].IndexOf(pattern);
                if (i < 0) break;
                i += from;
                from = i + 1;
                if (i >= Block && pos + Block < fs.Length) break; // handled by the next window
                // Value follows: 4-byte scalar dataspace (v2), then the string.
                int value = i + pattern.Length + 4;
                if (value + 16 > n || !span.Slice(value, 15).SequenceEqual(ClassValue)) continue;
                PatchHeader(fs, buf, n, pos, i, path);
                patched++;
            }
            if (pos + Block >= fs.Length) break;
            pos += Block;
        }
        return patched;
    }

    static void PatchHeader(FileStream fs, byte[] buf, int n, long pos, int at, string path)
    {
        // The enclosing version-2 object header: "OHDR", version 2, flags, [times], [phase], chunk-0 size.
        int h = buf.AsSpan(0, at).LastIndexOf("OHDR"u8);
        if (h < 0) throw new EnsembleException($"{path}: cannot locate the object header of a dimension scale (HDF5 layout not understood)");
        byte flags = buf[h + 5];
        int p = h + 6;
        if ((flags & 0x20) != 0) p += 16;
        if ((flags & 0x10) != 0) p += 4;
        int sizeBytes = 1 << (flags & 3);
        long chunk = sizeBytes switch
        {
            1 => buf[p], 2 => BinaryPrimitives.ReadUInt16LittleEndian(buf.AsSpan(p)),
            4 => BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(p)), _ => (long)BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(p)),
        };
        int end = p + sizeBytes + (int)chunk; // checksum position
        if (end + 4 > n || at > end)
            throw new EnsembleException($"{path}: dimension scale CLASS lies outside its object header's first chunk (HDF5 layout not understood)");
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(buf.AsSpan(end));
        if (Lookup3(buf.AsSpan(h, end - h)) != stored)
            throw new EnsembleException($"{path}: object header checksum mismatch before patching (HDF5 layout not understood)");
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(at + 10), 16);
        BinaryPrimitives.WriteUInt32LittleEndian(buf.AsSpan(end), Lookup3(buf.AsSpan(h, end - h)));
        fs.Position = pos + h;
        fs.Write(buf, h, end + 4 - h);
    }

    /// <summary>Bob Jenkins' lookup3 hashlittle with initval 0, as HDF5 uses for metadata checksums.</summary>
    internal static uint Lookup3(ReadOnlySpan<byte> k)
    {
        uint a, b, c;
        a = b = c = 0xdeadbeef + (uint)k.Length;
        int len = k.Length, o = 0;
        while (len > 12)
        {
            a += BinaryPrimitives.ReadUInt32LittleEndian(k[o..]);
            b += BinaryPrimitives.ReadUInt32LittleEndian(k[(o + 4)..]);
            c += BinaryPrimitives.ReadUInt32LittleEndian(k[(o + 8)..]);
            a -= c; a ^= Rot(c, 4); c += b;
            b -= a; b ^= Rot(a, 6); a += c;
            c -= b; c ^= Rot(b, 8); b += a;
            a -= c; a ^= Rot(c, 16); c += b;
            b -= a; b ^= Rot(a, 19); a += c;
            c -= b; c ^= Rot(b, 4); b += a;
            len -= 12; o += 12;
        }
        if (len == 0) return c;
        var t = k[o..];
        switch (len)
        {
            case 12: c += (uint)t[11] << 24; goto case 11;
            case 11: c += (uint)t[10] << 16; goto case 10;
            case 10: c += (uint)t[9] << 8; goto case 9;
            case 9: c += t[8]; goto case 8;
            case 8: b += (uint)t[7] << 24; goto case 7;
            case 7: b += (uint)t[6] << 16; goto case 6;
            case 6: b += (uint)t[5] << 8; goto case 5;
            case 5: b += t[4]; goto case 4;
            case 4: a += (uint)t[3] << 24; goto case 3;
            case 3: a += (uint)t[2] << 16; goto case 2;
            case 2: a += (uint)t[1] << 8; goto case 1;
            case 1: a += t[0]; break;
        }
        c ^= b; c -= Rot(b, 14);
        a ^= c; a -= Rot(c, 11);
        b ^= a; b -= Rot(a, 25);
        c ^= b; c -= Rot(b, 16);
        a ^= c; a -= Rot(c, 4);
        b ^= a; b -= Rot(a, 14);
        c ^= b; c -= Rot(b, 24);
        return c;
    }

    static uint Rot(uint x, int k) => (x << k) | (x >> (32 - k));
}
