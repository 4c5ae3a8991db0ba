using static Ensemble.Data.Grib.GribBytes;

namespace Ensemble.Data.Grib;

/// <summary>GRIB edition 1: IS, PDS (with the ECMWF local extension), GDS (regular lat/lon), BMS, BDS (simple packing).</summary>
internal static class Grib1Parser
{
    public static GribMessage Parse(GribParseContext m, int index)
    {
        var keys = new Dictionary<string, object>();
        long pos = m.Start + 8;
        byte[] p = Section(m, pos, "product definition section");
        int pdsLength = p.Length;
        pos += pdsLength;

        int table2Version = p[3], centre = p[4], flags = p[7], parameter = p[8], levelType = p[9];
        int subCentre = pdsLength > 25 ? p[25] : 0;
        int century = p[24], yearOfCentury = p[12];
        int decimalScale = S16(p, 26);
        DateTime reference;
        try { reference = new DateTime((century - 1) * 100 + yearOfCentury, p[13], p[14], p[15], p[16], 0, DateTimeKind.Utc); }
        catch (ArgumentOutOfRangeException)
        {
            throw m.Error($"invalid reference date/time (century {century}, year {yearOfCentury}, month {p[13]}, day {p[14]}, hour {p[15]}, minute {p[16]})");
        }

        // ECMWF local extension: centre 98, or another centre that uses ECMWF's local tables through sub-centre 98.
        bool ecmwfLocal = pdsLength >= 49 && (centre == 98 || subCentre == 98);
        bool ecmwfTables = centre == 98 || subCentre == 98;
        string dataType = "unknown";
        int? number = null, ensembleSize = null;
        if (ecmwfLocal)
        {
            int localDefinition = p[40];
            keys["localDefinitionNumber"] = localDefinition;
            keys["marsClass"] = GribTables.MarsClass(p[41]);
            dataType = GribTables.MarsType(p[42]);
            keys["marsType"] = dataType;
            keys["marsStream"] = GribTables.MarsStream(U16(p, 43));
            keys["stream"] = keys["marsStream"];
            keys["class"] = keys["marsClass"];
            keys["expver"] = System.Text.Encoding.ASCII.GetString(p, 45, 4);
            switch (localDefinition)
            {
                case 1 or 30 or 36 when pdsLength >= 51:
                    number = p[49];
                    ensembleSize = p[50];
                    break;
                case 12 or 15 or 16 when pdsLength >= 51:
                    number = U16(p, 49);
                    break;
            }
        }

        // Time range (table 5) and unit (table 4). P1/P2 are in the unit; indicator 10 makes P1 two octets.
        int unit = p[17], timeRange = p[20];
        int p1 = p[18], p2 = p[19];
        (int start, int end, string stepType) = timeRange switch
        {
            0 => (p1, p1, "instant"),
            1 => (0, 0, "instant"),
            2 => (p1, p2, IntervalStatistic(table2Version, parameter)),
            3 => (p1, p2, "avg"),
            4 => (p1, p2, "accum"),
            5 => (p1, p2, "diff"),
            10 => (U16(p, 18), U16(p, 18), "instant"),
            _ => throw m.Error($"GRIB1 time range indicator {timeRange} is not supported (supported: 0-5, 10)"),
        };
        TimeSpan unitSpan = GribTables.TimeUnit(1, unit)
            ?? throw m.Error($"GRIB1 forecast time unit {GribTables.TimeUnitName(unit)} is not supported");

        // Level (table 3): one 16-bit value, or top/bottom octets for layers.
        (string typeOfLevel, bool layer) = GribTables.Grib1LevelType(levelType);
        double level = layer ? p[10] : U16(p, 10);

        int? paramId = GribTables.Grib1ParamId(table2Version, parameter, ecmwfTables);

        // GDS
        if ((flags & 0x80) == 0) throw m.Error($"GRIB1 message without grid description section (predefined grid {p[6]}) is not supported");
        byte[] g = Section(m, pos, "grid description section");
        pos += g.Length;
        int gridType = g[5];
        if (gridType != 0)
            throw m.Error($"GRIB1 grid type {gridType} ({GribTables.Grib1GridName(gridType)}) is not supported (only 0, regular lat/lon)");
        if (g.Length < 28) throw m.Error($"grid description section of {g.Length} octets is too short for a lat/lon grid");
        int ni = U16(g, 6), nj = U16(g, 8);
        if (ni == 0xFFFF || nj == 0xFFFF) throw m.Error("GRIB1 quasi-regular (reduced) lat/lon grid is not supported");
        if (ni == 0 || nj == 0 || (long)ni * nj > LatLonGrid.MaxPoints) throw m.Error($"grid of {ni} x {nj} points is not supported");
        double la1 = S24(g, 10) / 1000.0, lo1 = S24(g, 13) / 1000.0, la2 = S24(g, 17) / 1000.0, lo2 = S24(g, 20) / 1000.0;
        int resolutionFlags = g[16], scanning = g[27];
        int diRaw = U16(g, 23), djRaw = U16(g, 25);
        bool incrementsGiven = (resolutionFlags & 0x80) != 0 && diRaw != 0xFFFF && djRaw != 0xFFFF;
        double di = incrementsGiven ? diRaw / 1000.0 : ni > 1 ? Math.Abs(SpanLon(lo1, lo2, scanning)) / (ni - 1) : 0;
        double dj = incrementsGiven ? djRaw / 1000.0 : nj > 1 ? Math.Abs(la2 - la1) / (nj - 1) : 0;
        var grid = new LatLonGrid(ni, nj, la1, lo1, la2, lo2, di, dj, scanning);

        // BMS
        long? bitmapOffset = null;
        long bitmapBits = 0;
        if ((flags & 0x40) != 0)
        {
            byte[] b = m.Read(pos, 6);
            int bmsLength = U24(b, 0);
            if (bmsLength < 6) throw m.Error($"bit-map section length {bmsLength} is invalid");
            int table = U16(b, 4);
            if (table != 0) throw m.Error($"GRIB1 predefined bit-map {table} is not supported");
            bitmapOffset = pos + 6;
            bitmapBits = (bmsLength - 6) * 8L - b[3];
            if (pos + bmsLength > m.Start + m.Length - 4)
                throw m.Error($"bit-map section ({bmsLength} octets) overruns the message end (corrupt or truncated)");
            pos += bmsLength;
        }

        // BDS
        byte[] d = m.Read(pos, 11);
        int bdsLength = U24(d, 0);
        if (bdsLength < 11) throw m.Error($"binary data section length {bdsLength} is invalid");
        if (pos + bdsLength > m.Start + m.Length - 4)
            throw m.Error($"binary data section ({bdsLength} octets) overruns the message end (corrupt or truncated)");
        int bdsFlags = d[3];
        int binaryScale = S16(d, 4);
        double referenceValue = Ibm(d, 6);
        int bits = d[10];
        string packingType = (bdsFlags & 0x80) != 0 ? "spectral" : (bdsFlags & 0x40) != 0 ? "grid_second_order" : "grid_simple";
        string? unsupported = (bdsFlags & 0x80) != 0 ? "GRIB1 spherical harmonic coefficients are not supported"
            : (bdsFlags & 0x40) != 0 ? "GRIB1 complex / second-order packing is not supported (only simple packing)"
            : (bdsFlags & 0x10) != 0 ? "GRIB1 data with additional flags (matrix or second-order values) is not supported"
            : bits > 32 ? $"{bits} bits per value is not supported (at most 32)"
            : null;
        var data = new PackedField(packingType, bits, referenceValue, binaryScale, decimalScale,
            DataOffset: pos + 11, DataLength: bdsLength - 11, DataBitsAvailable: (bdsLength - 11) * 8L - (bdsFlags & 0x0F),
            BitmapOffset: bitmapOffset, BitmapBits: bitmapBits, NumberOfPackedValues: null, Unsupported: unsupported);

        TimeSpan startStep = GribKeys.Steps(start, unitSpan, reference, m), endStep = GribKeys.Steps(end, unitSpan, reference, m);
        string shortName = GribTables.ShortName(paramId);
        keys["table2Version"] = table2Version;
        keys["indicatorOfParameter"] = parameter;
        keys["indicatorOfTypeOfLevel"] = levelType;
        keys["timeRangeIndicator"] = timeRange;
        keys["unitOfTimeRange"] = unit;
        keys["P1"] = p1;
        keys["P2"] = p2;
        keys["subCentre"] = subCentre;
        keys["generatingProcessIdentifier"] = p[5];
        if (layer) { keys["topLevel"] = p[10]; keys["bottomLevel"] = p[11]; }
        if (ensembleSize is int size) keys["numberOfForecastsInEnsemble"] = size;

        var message = new GribMessage(m.File, grid, data)
        {
            Index = index,
            MessageNumber = m.Number,
            Offset = m.Start,
            TotalLength = m.Length,
            Edition = 1,
            Centre = GribTables.CentreName(centre),
            CentreCode = centre,
            SubCentre = subCentre,
            ShortName = shortName,
            ParamId = paramId,
            TypeOfLevel = typeOfLevel,
            Level = level,
            ReferenceTime = reference,
            StartStep = startStep,
            Step = endStep,
            StepRange = GribKeys.StepRange(startStep, endStep),
            StepType = stepType,
            PerturbationNumber = number,
            NumberOfForecastsInEnsemble = ensembleSize,
            DataType = dataType,
            Keys = keys,
        };
        GribKeys.AddCommon(keys, message);
        return message;
    }

    static byte[] Section(GribParseContext m, long pos, string name)
    {
        byte[] head = m.Read(pos, 3);
        int length = U24(head, 0);
        if (length < (name.StartsWith("product") ? 28 : 6))
            throw m.Error($"{name} length {length} is invalid (corrupt message)");
        return m.Read(pos, length);
    }

    static double SpanLon(double lo1, double lo2, int scanning)
    {
        double span = lo2 - lo1;
        if ((scanning & 0x80) == 0 && span < 0) span += 360;
        if ((scanning & 0x80) != 0 && span > 0) span -= 360;
        return span;
    }

    /// <summary>Indicator 2 (value over P1–P2) says neither max nor min; ecCodes knows from the parameter.</summary>
    static string IntervalStatistic(int table, int parameter) => (table, parameter) switch
    {
        (128, 49 or 51 or 121 or 123 or 201) or (228, 26 or 28) => "max",
        (128, 52 or 122 or 202) or (228, 27) => "min",
        _ => "range",
    };
}
