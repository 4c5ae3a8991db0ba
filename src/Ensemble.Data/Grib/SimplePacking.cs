namespace Ensemble.Data.Grib;

/// <summary>
/// Where and how a field's values are packed. Only grid simple packing is decoded; any other packing is
/// described in <see cref="Unsupported"/> and reported when the values are asked for, so such files still list.
/// </summary>
internal sealed record PackedField(
    string PackingType,
    int BitsPerValue,
    double ReferenceValue,
    int BinaryScaleFactor,
    int DecimalScaleFactor,
    long DataOffset,
    long DataLength,
    long DataBitsAvailable,
    long? BitmapOffset,
    long BitmapBits,
    int? NumberOfPackedValues,
    string? Unsupported)
{
    public bool BitmapPresent => BitmapOffset is not null;
}

/// <summary>Simple packing, both editions: Y = (R + X·2^E)·10^(−D), X the N-bit unsigned integers MSB first.</summary>
internal static class SimplePacking
{
    /// <summary>10^s computed the way ecCodes' grib_power does, so decoded values agree to the last bit.</summary>
    public static double Power(int s, double n)
    {
        double result = 1.0;
        while (s < 0) { result /= n; s++; }
        while (s > 0) { result *= n; s--; }
        return result;
    }

    /// <summary>Unpacks <paramref name="count"/> values into <paramref name="target"/> (in order).</summary>
    public static void Unpack(ReadOnlySpan<byte> data, int bitsPerValue, int count, double reference, int binaryScale,
        int decimalScale, Span<double> target)
    {
        double s = Power(binaryScale, 2), d = Power(-decimalScale, 10);
        if (bitsPerValue == 0)
        {
            target[..count].Fill(reference * d);
            return;
        }
        ulong mask = bitsPerValue == 64 ? ulong.MaxValue : (1UL << bitsPerValue) - 1;
        ulong acc = 0;
        int accBits = 0, pos = 0;
        for (int i = 0; i < count; i++)
        {
            while (accBits < bitsPerValue)
            {
                acc = (acc << 8) | data[pos++];
                accBits += 8;
            }
            ulong x = (acc >> (accBits - bitsPerValue)) & mask;
            accBits -= bitsPerValue;
            target[i] = (x * s + reference) * d;
        }
    }

    /// <summary>Number of set bits among the first <paramref name="bits"/> bits (MSB first).</summary>
    public static int CountOnes(ReadOnlySpan<byte> bitmap, long bits)
    {
        int full = (int)(bits / 8), ones = 0;
        for (int i = 0; i < full; i++) ones += System.Numerics.BitOperations.PopCount(bitmap[i]);
        int rest = (int)(bits % 8);
        if (rest > 0) ones += System.Numerics.BitOperations.PopCount((uint)(bitmap[full] >> (8 - rest)));
        return ones;
    }

    /// <summary>
    /// Spreads the first <paramref name="packedCount"/> entries of <paramref name="values"/> over the points whose
    /// bitmap bit is 1, in place (walking backwards, so no packed value is overwritten before it moves); others become NaN.
    /// </summary>
    public static void ExpandInPlace(Span<double> values, int packedCount, ReadOnlySpan<byte> bitmap)
    {
        int k = packedCount;
        for (int n = values.Length - 1; n >= 0; n--)
            values[n] = (bitmap[n >> 3] & (0x80 >> (n & 7))) != 0 ? values[--k] : double.NaN;
    }
}
