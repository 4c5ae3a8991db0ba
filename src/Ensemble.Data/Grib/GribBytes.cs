namespace Ensemble.Data.Grib;

/// <summary>Big-endian integer readers. GRIB signed integers are sign-magnitude (top bit = sign), not two's complement.</summary>
internal static class GribBytes
{
    public static int U16(ReadOnlySpan<byte> b, int at) => (b[at] << 8) | b[at + 1];
    public static int U24(ReadOnlySpan<byte> b, int at) => (b[at] << 16) | (b[at + 1] << 8) | b[at + 2];
    public static long U32(ReadOnlySpan<byte> b, int at) => ((long)b[at] << 24) | ((long)b[at + 1] << 16) | ((long)b[at + 2] << 8) | b[at + 3];

    public static ulong U64(ReadOnlySpan<byte> b, int at)
    {
        ulong v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | b[at + i];
        return v;
    }

    public static int S8(ReadOnlySpan<byte> b, int at) => (b[at] & 0x80) != 0 ? -(b[at] & 0x7F) : b[at];
    public static int S16(ReadOnlySpan<byte> b, int at) { int v = U16(b, at); return (v & 0x8000) != 0 ? -(v & 0x7FFF) : v; }
    public static int S24(ReadOnlySpan<byte> b, int at) { int v = U24(b, at); return (v & 0x800000) != 0 ? -(v & 0x7FFFFF) : v; }
    public static long S32(ReadOnlySpan<byte> b, int at) { long v = U32(b, at); return (v & 0x80000000L) != 0 ? -(v & 0x7FFFFFFFL) : v; }

    /// <summary>IBM System/360 single precision: sign, 7-bit base-16 exponent excess 64, 24-bit fraction. Exact in double.</summary>
    public static double Ibm(ReadOnlySpan<byte> b, int at)
    {
        long raw = U32(b, at);
        int sign = (raw & 0x80000000L) != 0 ? -1 : 1;
        int exponent = (int)((raw >> 24) & 0x7F);
        long mantissa = raw & 0xFFFFFF;
        if (mantissa == 0) return 0.0;
        return sign * Math.ScaleB(mantissa, 4 * (exponent - 64) - 24);
    }

    public static float Ieee32(ReadOnlySpan<byte> b, int at) =>
        BitConverter.Int32BitsToSingle((int)U32(b, at));

    public static bool AllOnes(ReadOnlySpan<byte> b, int at, int count)
    {
        for (int i = 0; i < count; i++) if (b[at + i] != 0xFF) return false;
        return true;
    }
}
