namespace Ensemble.Data.Tests.Grib;

/// <summary>
/// Writes small GRIB1/GRIB2 messages byte by byte from the WMO layouts, for decoder features the real samples
/// do not exercise (bitmaps in GRIB1, scanning modes, constant fields, odd bit widths, multi-field GRIB2 …) and for
/// corrupt files. Packed integers are given directly, so expected values follow from the packing formula alone.
/// </summary>
internal static class GribTestWriter
{
    internal sealed record Packing(int Bits, double Reference, int BinaryScale, int DecimalScale, uint[] Codes, bool[]? Present = null);

    static void Put(List<byte> b, long value, int octets)
    {
        for (int i = octets - 1; i >= 0; i--) b.Add((byte)(value >> (8 * i)));
    }

    /// <summary>Sign-magnitude integer of the given width.</summary>
    static void PutSigned(List<byte> b, long value, int octets)
    {
        long magnitude = Math.Abs(value);
        if (value < 0) magnitude |= 1L << (8 * octets - 1);
        Put(b, magnitude, octets);
    }

    /// <summary>IBM single precision; the tests only use values that it represents exactly.</summary>
    static void PutIbm(List<byte> b, double value)
    {
        if (value == 0) { Put(b, 0, 4); return; }
        int sign = value < 0 ? 0x80 : 0;
        double a = Math.Abs(value);
        int exponent = 64;
        while (a >= 1) { a /= 16; exponent++; }
        while (a < 1.0 / 16) { a *= 16; exponent--; }
        long mantissa = (long)(a * (1 << 24));
        if (mantissa / (double)(1 << 24) != a) throw new ArgumentException($"{value} is not exact in IBM float");
        b.Add((byte)(sign | exponent));
        Put(b, mantissa, 3);
    }

    static byte[] PackBits(uint[] codes, int bits)
    {
        var bytes = new byte[(codes.Length * (long)bits + 7) / 8];
        long pos = 0;
        foreach (uint c in codes)
            for (int k = bits - 1; k >= 0; k--, pos++)
                if (((c >> k) & 1) != 0) bytes[pos >> 3] |= (byte)(0x80 >> (int)(pos & 7));
        return bytes;
    }

    static byte[] Bitmap(bool[] present)
    {
        var bytes = new byte[(present.Length + 7) / 8];
        for (int n = 0; n < present.Length; n++) if (present[n]) bytes[n >> 3] |= (byte)(0x80 >> (n & 7));
        return bytes;
    }

    /// <summary>A GRIB1 message: ECMWF centre with local definition 1 (or none), regular lat/lon grid in millidegrees.</summary>
    public static byte[] Grib1(int ni, int nj, int la1, int lo1, int la2, int lo2, int di, int dj, int scanning, Packing packing,
        int table = 128, int parameter = 130, int levelType = 100, int level = 500, int p1 = 0, int p2 = 0, int timeRange = 0,
        int unit = 1, bool incrementsGiven = true, int gridType = 0, int? localNumber = 3, int bdsFlags = 0)
    {
        var pds = new List<byte>();
        int pdsLength = localNumber is null ? 28 : 52;
        Put(pds, pdsLength, 3);
        pds.AddRange([(byte)table, 98, 145, 255, (byte)(0x80 | (packing.Present is null ? 0 : 0x40)), (byte)parameter, (byte)levelType]);
        Put(pds, level, 2);
        pds.AddRange([24, 2, 29, 6, 0, (byte)unit, (byte)p1, (byte)p2, (byte)timeRange, 0, 0, 0, 21, 0]); // 2024-02-29 06:00
        PutSigned(pds, packing.DecimalScale, 2);
        while (pds.Count < Math.Min(40, pdsLength)) pds.Add(0);
        if (localNumber is int number)
        {
            pds.AddRange([1, 1, 11]); // local definition 1, class od, type pf
            Put(pds, 1035, 2);        // stream enfo
            pds.AddRange("0001"u8.ToArray());
            pds.AddRange([(byte)number, 51]);
            while (pds.Count < pdsLength) pds.Add(0);
        }

        var gds = new List<byte>();
        Put(gds, 32, 3);
        gds.AddRange([0, 255, (byte)gridType]);
        Put(gds, ni, 2); Put(gds, nj, 2);
        PutSigned(gds, la1, 3); PutSigned(gds, lo1, 3);
        gds.Add((byte)(incrementsGiven ? 0x80 : 0));
        PutSigned(gds, la2, 3); PutSigned(gds, lo2, 3);
        Put(gds, incrementsGiven ? di : 0xFFFF, 2); Put(gds, incrementsGiven ? dj : 0xFFFF, 2);
        gds.Add((byte)scanning);
        while (gds.Count < 32) gds.Add(0);

        var bms = new List<byte>();
        if (packing.Present is { } present)
        {
            byte[] map = Bitmap(present);
            int length = 6 + map.Length + ((6 + map.Length) % 2);
            Put(bms, length, 3);
            bms.Add((byte)((length - 6) * 8 - present.Length));
            Put(bms, 0, 2);
            bms.AddRange(map);
            while (bms.Count < length) bms.Add(0);
        }

        var bds = new List<byte>();
        byte[] data = PackBits(packing.Codes, packing.Bits);
        int bdsLength = 11 + data.Length + ((11 + data.Length) % 2);
        Put(bds, bdsLength, 3);
        bds.Add((byte)(bdsFlags | ((bdsLength - 11) * 8 - packing.Codes.Length * packing.Bits)));
        PutSigned(bds, packing.BinaryScale, 2);
        PutIbm(bds, packing.Reference);
        bds.Add((byte)packing.Bits);
        bds.AddRange(data);
        while (bds.Count < bdsLength) bds.Add(0);

        var message = new List<byte>("GRIB"u8.ToArray());
        int total = 8 + pds.Count + gds.Count + bms.Count + bds.Count + 4;
        Put(message, total, 3);
        message.Add(1);
        message.AddRange(pds); message.AddRange(gds); message.AddRange(bms); message.AddRange(bds);
        message.AddRange("7777"u8.ToArray());
        return [.. message];
    }

    internal sealed record Grib2Field(int Template, int Category, int Parameter, int SurfaceType, int SurfaceValue, Packing Packing,
        int ForecastTime = 0, int? Statistic = null, int StatisticLength = 0, int EnsembleType = 3, int Perturbation = 7,
        bool ReusePreviousBitmap = false, int Representation = 0);

    /// <summary>A GRIB2 message (discipline 0) with one grid and one or more fields (sections 4–7 repeated).</summary>
    public static byte[] Grib2(int ni, int nj, long la1, long lo1, long la2, long lo2, long di, long dj, int scanning,
        IReadOnlyList<Grib2Field> fields, int gridTemplate = 0, int typeOfData = 4, int edition = 2, int? marsType = null)
    {
        var body = new List<byte>();
        // section 1
        Put(body, 21, 4); body.Add(1); Put(body, 98, 2); Put(body, 0, 2); body.AddRange([28, 0, 1]);
        Put(body, 2024, 2); body.AddRange([2, 29, 6, 30, 0, 0, (byte)typeOfData]);
        if (marsType is int type)
        {
            // ECMWF local section: local definition 1, class od (1), type, stream enfo (1035), expver, number, total
            Put(body, 19, 4); body.Add(2); Put(body, 1, 2); Put(body, 1, 2); Put(body, type, 2); Put(body, 1035, 2);
            body.AddRange("0042"u8.ToArray()); body.AddRange([0, 0]);
        }
        // section 3
        var s3 = new List<byte>();
        Put(s3, 72, 4); s3.Add(3); s3.Add(0); Put(s3, (long)ni * nj, 4); s3.AddRange([0, 0]); Put(s3, gridTemplate, 2);
        s3.Add(6); for (int i = 0; i < 15; i++) s3.Add(0);
        Put(s3, ni, 4); Put(s3, nj, 4); Put(s3, 0, 4); Put(s3, 0xFFFFFFFF, 4);
        PutSigned(s3, la1, 4); PutSigned(s3, lo1, 4); s3.Add(48); PutSigned(s3, la2, 4); PutSigned(s3, lo2, 4);
        Put(s3, di, 4); Put(s3, dj, 4); s3.Add((byte)scanning);
        body.AddRange(s3);
        foreach (var f in fields)
        {
            var s4 = new List<byte>();
            int length4 = f.Template switch { 0 => 34, 1 => 37, 8 => 58, 11 => 61, _ => 34 };
            Put(s4, length4, 4); s4.Add(4); Put(s4, 0, 2); Put(s4, f.Template, 2);
            s4.AddRange([(byte)f.Category, (byte)f.Parameter, 4, 0, 255]); Put(s4, 0, 2); s4.Add(0);
            s4.Add(1); Put(s4, f.ForecastTime, 4);
            s4.Add((byte)f.SurfaceType); s4.Add(0); Put(s4, f.SurfaceValue, 4);
            s4.Add(255); s4.Add(255); Put(s4, 0xFFFFFFFF, 4);
            if (f.Template is 1 or 11) s4.AddRange([(byte)f.EnsembleType, (byte)f.Perturbation, 51]);
            if (f.Template is 8 or 11)
            {
                Put(s4, 2024, 2); s4.AddRange([3, 1, 0, 0, 0]); // end of the overall interval (not used by the reader)
                s4.Add(1); Put(s4, 0, 4);
                s4.AddRange([(byte)(f.Statistic ?? 0), 2, 1]); Put(s4, f.StatisticLength, 4); s4.Add(255); Put(s4, 0, 4);
            }
            while (s4.Count < length4) s4.Add(0);
            body.AddRange(s4);

            var p = f.Packing;
            int packed = p.Codes.Length;
            var s5 = new List<byte>();
            Put(s5, 21, 4); s5.Add(5); Put(s5, packed, 4); Put(s5, f.Representation, 2);
            Put(s5, BitConverter.SingleToInt32Bits((float)p.Reference), 4);
            PutSigned(s5, p.BinaryScale, 2); PutSigned(s5, p.DecimalScale, 2); s5.Add((byte)p.Bits); s5.Add(0);
            body.AddRange(s5);

            if (f.ReusePreviousBitmap) { Put(body, 6, 4); body.AddRange([6, 254]); }
            else if (p.Present is { } present)
            {
                byte[] map = Bitmap(present);
                Put(body, 6 + map.Length, 4); body.AddRange([6, 0]); body.AddRange(map);
            }
            else { Put(body, 6, 4); body.AddRange([6, 255]); }

            byte[] data = PackBits(p.Codes, p.Bits);
            Put(body, 5 + data.Length, 4); body.Add(7); body.AddRange(data);
        }
        var message = new List<byte>("GRIB"u8.ToArray());
        message.AddRange([0, 0, 0, (byte)edition]);
        Put(message, 16 + body.Count + 4, 8);
        message.AddRange(body);
        message.AddRange("7777"u8.ToArray());
        return [.. message];
    }

    /// <summary>Y = (R + X·2^E)·10^(−D) — the packing formula written out for the expected values.</summary>
    public static double[] Expected(Packing p, int points)
    {
        var values = new double[points];
        int k = 0;
        for (int n = 0; n < points; n++)
        {
            bool present = p.Present?[n] ?? true;
            values[n] = !present ? double.NaN
                : (p.Reference + (p.Bits == 0 ? 0 : p.Codes[k++]) * Math.Pow(2, p.BinaryScale)) / Math.Pow(10, p.DecimalScale);
        }
        return values;
    }
}
