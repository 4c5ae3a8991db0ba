using static Ensemble.Data.Grib.GribBytes;

namespace Ensemble.Data.Grib;

/// <summary>
/// GRIB edition 2: sections 0–7, grid template 3.0, product templates 4.0/4.1/4.8/4.11, data representation 5.0,
/// bitmap section 6 (including 254 = reuse the previous bitmap). Sections 2–7 may repeat: each section 7 closes a field.
/// </summary>
internal static class Grib2Parser
{
    sealed class State
    {
        public byte[]? Identification;
        public byte[]? Local;
        public LatLonGrid? Grid;
        public int GridTemplate = -1;
        public byte[]? Product;
        public byte[]? Representation;
        public long? BitmapOffset;
        public long BitmapBits;
        public long? PreviousBitmapOffset;
        public long PreviousBitmapBits;
    }

    public static List<GribMessage> Parse(GribParseContext m, int firstIndex)
    {
        byte[] s0 = m.Read(m.Start, 16);
        int discipline = s0[6];
        var fields = new List<GribMessage>();
        var st = new State();
        long pos = m.Start + 16, end = m.Start + m.Length - 4;
        while (pos < end)
        {
            byte[] head = m.Read(pos, 5);
            long length = U32(head, 0);
            int number = head[4];
            if (length < 5 || pos + length > end)
                throw m.Error($"section {number} at byte {pos} declares {length} octets, beyond the message end (corrupt or truncated)");
            switch (number)
            {
                case 1: st.Identification = MinLength(m, pos, length, 21); break;
                case 2: st.Local = m.Read(pos, (int)length); break;
                case 3: st.Grid = ParseGrid(m, m.Read(pos, (int)length), out st.GridTemplate); break;
                case 4: st.Product = MinLength(m, pos, length, 9); break;
                case 5: st.Representation = MinLength(m, pos, length, 11); break;
                case 6:
                    if (length < 6) throw m.Error($"bitmap section at byte {pos} is {length} octets long (corrupt)");
                    ParseBitmap(m, pos, length, st);
                    break;
                case 7:
                    fields.Add(BuildField(m, st, discipline, pos, length, firstIndex + fields.Count, fields.Count + 1));
                    st.Product = null; st.Representation = null;
                    break;
                default: throw m.Error($"unknown GRIB2 section number {number} at byte {pos}");
            }
            pos += length;
        }
        if (fields.Count == 0) throw m.Error("GRIB2 message has no data section (section 7)");
        return fields;
    }

    static byte[] MinLength(GribParseContext m, long pos, long length, int minimum)
    {
        byte[] section = m.Read(pos, (int)length);
        if (section.Length < minimum) throw m.Error($"section {section[4]} at byte {pos} is {length} octets long, at least {minimum} expected (corrupt)");
        return section;
    }

    static void ParseBitmap(GribParseContext m, long pos, long length, State st)
    {
        int indicator = m.Read(pos + 5, 1)[0];
        switch (indicator)
        {
            case 0:
                st.BitmapOffset = pos + 6;
                st.BitmapBits = (length - 6) * 8;
                st.PreviousBitmapOffset = st.BitmapOffset;
                st.PreviousBitmapBits = st.BitmapBits;
                break;
            case 254:
                if (st.PreviousBitmapOffset is null) throw m.Error("bitmap indicator 254 (reuse previous bitmap) with no previous bitmap in the message");
                st.BitmapOffset = st.PreviousBitmapOffset;
                st.BitmapBits = st.PreviousBitmapBits;
                break;
            case 255:
                st.BitmapOffset = null;
                st.BitmapBits = 0;
                break;
            default: throw m.Error($"predefined bitmap (indicator {indicator}) is not supported");
        }
    }

    static LatLonGrid ParseGrid(GribParseContext m, byte[] s, out int template)
    {
        if (s.Length < 14) throw m.Error("grid definition section is too short");
        template = U16(s, 12);
        if (s[5] != 0) throw m.Error($"grid definition source {s[5]} (predefined grid) is not supported");
        if (template != 0)
            throw m.Error($"grid template 3.{template} ({GribTables.Grib2GridName(template)}) is not supported (only 3.0, regular lat/lon)");
        if (s.Length < 72) throw m.Error($"grid template 3.0 needs 72 octets, section 3 has {s.Length}");
        if (s[10] != 0) throw m.Error("quasi-regular grid (list of numbers of points) is not supported");
        long ni = U32(s, 30), nj = U32(s, 34);
        if (ni == 0xFFFFFFFF || nj == 0xFFFFFFFF || ni == 0 || nj == 0 || ni * nj > LatLonGrid.MaxPoints)
            throw m.Error($"grid of {ni} x {nj} points is not supported");
        if (U32(s, 6) != ni * nj) throw m.Error($"section 3 declares {U32(s, 6)} data points for a {ni} x {nj} grid");
        long basicAngle = U32(s, 38), subdivisions = U32(s, 42);
        // Angles are in micro-degrees unless a basic angle is given (e.g. TIGGE UKMO: 360/1728 degree units).
        double unit = basicAngle is 0 or 0xFFFFFFFF || subdivisions is 0 or 0xFFFFFFFF
            ? 1e-6
            : (double)basicAngle / subdivisions;
        double Angle(long v) => unit == 1e-6 ? v / 1e6 : v * unit;
        double la1 = Angle(S32(s, 46)), lo1 = Angle(S32(s, 50)), la2 = Angle(S32(s, 55)), lo2 = Angle(S32(s, 59));
        int scanning = s[71];
        long diRaw = U32(s, 63), djRaw = U32(s, 67);
        var provisional = new LatLonGrid((int)ni, (int)nj, la1, lo1, la2, lo2, 0, 0, scanning);
        double di = diRaw == 0xFFFFFFFF ? Math.Abs(provisional.LonStep) : Angle(diRaw);
        double dj = djRaw == 0xFFFFFFFF ? Math.Abs(provisional.LatStep) : Angle(djRaw);
        return new LatLonGrid((int)ni, (int)nj, la1, lo1, la2, lo2, di, dj, scanning);
    }

    static GribMessage BuildField(GribParseContext m, State st, int discipline, long dataPos, long dataLength, int index, int fieldNumber)
    {
        byte[] id = st.Identification ?? throw m.Error("GRIB2 message has no identification section (section 1)");
        LatLonGrid grid = st.Grid ?? throw m.Error("GRIB2 field has no grid definition section (section 3)");
        byte[] p = st.Product ?? throw m.Error("GRIB2 field has no product definition section (section 4)");
        byte[] r = st.Representation ?? throw m.Error("GRIB2 field has no data representation section (section 5)");
        var keys = new Dictionary<string, object>();

        int centre = U16(id, 5), subCentre = U16(id, 7);
        DateTime reference;
        try { reference = new DateTime(U16(id, 12), id[14], id[15], id[16], id[17], id[18], DateTimeKind.Utc); }
        catch (ArgumentOutOfRangeException) { throw m.Error("invalid reference date/time in section 1"); }

        // ECMWF local section (mars_labeling): local definition number, then MARS class, type, stream (2 octets each), expver.
        string dataType = GribTables.Grib2DataType(id[20]);
        if (st.Local is { Length: >= 17 } local && (centre == 98 || subCentre == 98))
        {
            keys["localDefinitionNumber"] = U16(local, 5);
            keys["marsClass"] = keys["class"] = GribTables.MarsClass(U16(local, 7));
            keys["marsType"] = dataType = GribTables.MarsType(U16(local, 9));
            keys["marsStream"] = keys["stream"] = GribTables.MarsStream(U16(local, 11));
            keys["expver"] = System.Text.Encoding.ASCII.GetString(local, 13, 4);
        }

        // Product definition
        int template = U16(p, 7);
        if (template is not (0 or 1 or 8 or 11))
            throw m.Error($"product definition template 4.{template} is not supported (supported: 4.0, 4.1, 4.8, 4.11)");
        int minLength = template switch { 0 => 34, 1 => 37, 8 => 58, _ => 61 };
        if (p.Length < minLength) throw m.Error($"product template 4.{template} needs {minLength} octets, section 4 has {p.Length}");
        int category = p[9], parameter = p[10];
        int unitCode = p[17];
        long forecastTime = S32(p, 18);
        TimeSpan unit = GribTables.TimeUnit(2, unitCode)
            ?? throw m.Error($"GRIB2 forecast time unit {GribTables.TimeUnitName(unitCode)} is not supported");
        int surfaceType = p[22];
        double surfaceValue = ScaledValue(p, 23);
        TimeSpan startStep = GribKeys.Steps(forecastTime, unit, reference, m), endStep = startStep;
        int? statistic = null;
        TimeSpan? statisticLength = null;
        int? ensembleType = null, perturbation = null, ensembleSize = null;
        if (template is 1 or 11)
        {
            ensembleType = p[34];
            perturbation = p[35];
            ensembleSize = p[36];
            keys["typeOfEnsembleForecast"] = p[34];
            keys["perturbationNumber"] = p[35];
            keys["numberOfForecastsInEnsemble"] = p[36];
        }
        if (template is 8 or 11)
        {
            int at = template == 8 ? 34 : 37; // end of overall time interval, then the time-range specifications
            int ranges = p[at + 7];
            if (ranges < 1) throw m.Error("statistical product with no time range specification");
            statistic = p[at + 12];
            int lengthUnitCode = p[at + 14];
            TimeSpan lengthUnit = GribTables.TimeUnit(2, lengthUnitCode)
                ?? throw m.Error($"GRIB2 time range unit {GribTables.TimeUnitName(lengthUnitCode)} is not supported");
            statisticLength = GribKeys.Steps(U32(p, at + 15), lengthUnit, reference, m);
            endStep = GribKeys.Steps(forecastTime, unit, reference, m) + statisticLength.Value;
            if (reference + endStep > DateTime.MaxValue.AddYears(-1)) throw m.Error("end of the statistics time range is out of range");
            keys["typeOfStatisticalProcessing"] = statistic.Value;
            keys["lengthOfTimeRange"] = U32(p, at + 15);
            keys["numberOfTimeRange"] = ranges;
        }

        string typeOfLevel = GribTables.Grib2LevelType(surfaceType);
        double level = surfaceValue;
        if (surfaceType == 100)
        {
            // ecCodes: isobaric levels in hPa, or in Pa when not a whole number of hPa
            if (surfaceValue % 100 == 0) level = surfaceValue / 100;
            else typeOfLevel = "isobaricInPa";
        }
        int? paramId = GribTables.Grib2ParamId(discipline, category, parameter, surfaceType, surfaceValue, statistic, statisticLength);

        // Data representation
        if (r.Length < 11) throw m.Error("data representation section is too short");
        int representation = U16(r, 9);
        long packedCount = U32(r, 5);
        PackedField data;
        if (representation == 0)
        {
            if (r.Length < 21) throw m.Error("data representation template 5.0 needs 21 octets");
            int bits = r[19];
            data = new PackedField("grid_simple", bits, Ieee32(r, 11), S16(r, 15), S16(r, 17),
                DataOffset: dataPos + 5, DataLength: dataLength - 5, DataBitsAvailable: (dataLength - 5) * 8,
                BitmapOffset: st.BitmapOffset, BitmapBits: st.BitmapBits, NumberOfPackedValues: (int)Math.Min(packedCount, int.MaxValue),
                Unsupported: bits > 32 ? $"{bits} bits per value is not supported (at most 32)" : null);
        }
        else
        {
            string name = GribTables.Grib2PackingName(representation);
            data = new PackedField($"template_5.{representation}", 0, 0, 0, 0, dataPos + 5, dataLength - 5, 0,
                st.BitmapOffset, st.BitmapBits, (int)Math.Min(packedCount, int.MaxValue),
                $"data representation template 5.{representation} ({name}) is not supported (only 5.0, simple packing)");
        }
        if (dataLength < 5) throw m.Error("data section is too short");

        keys["discipline"] = discipline;
        keys["parameterCategory"] = category;
        keys["parameterNumber"] = parameter;
        keys["subCentre"] = subCentre;
        keys["productionStatusOfProcessedData"] = id[19];
        keys["typeOfProcessedData"] = id[20];
        keys["gridDefinitionTemplateNumber"] = st.GridTemplate;
        keys["productDefinitionTemplateNumber"] = template;
        keys["dataRepresentationTemplateNumber"] = representation;
        keys["typeOfGeneratingProcess"] = p[11];
        keys["indicatorOfUnitOfTimeRange"] = unitCode;
        keys["forecastTime"] = forecastTime;
        keys["typeOfFirstFixedSurface"] = surfaceType;
        keys["scaledValueOfFirstFixedSurface"] = S32(p, 24);
        keys["scaleFactorOfFirstFixedSurface"] = S8(p, 23);
        keys["typeOfSecondFixedSurface"] = p[28];

        var message = new GribMessage(m.File, grid, data)
        {
            Index = index,
            MessageNumber = m.Number,
            FieldNumber = fieldNumber,
            Offset = m.Start,
            TotalLength = m.Length,
            Edition = 2,
            Centre = GribTables.CentreName(centre),
            CentreCode = centre,
            SubCentre = subCentre,
            ShortName = GribTables.ShortName(paramId),
            ParamId = paramId,
            TypeOfLevel = typeOfLevel,
            Level = level,
            ReferenceTime = reference,
            StartStep = startStep,
            Step = endStep,
            StepRange = GribKeys.StepRange(startStep, endStep),
            StepType = statistic is int sp ? GribTables.StatisticName(sp) : "instant",
            PerturbationNumber = perturbation,
            NumberOfForecastsInEnsemble = ensembleSize,
            TypeOfEnsembleForecast = ensembleType,
            DataType = dataType,
            Keys = keys,
        };
        GribKeys.AddCommon(keys, message);
        return message;
    }

    /// <summary>Scale factor (sign-magnitude octet) and scaled value (sign-magnitude 32 bits); an all-ones value = missing → 0.</summary>
    static double ScaledValue(byte[] p, int at)
    {
        if (AllOnes(p, at + 1, 4)) return 0;
        int scale = S8(p, at);
        long value = S32(p, at + 1);
        // dividing by the exact power of ten rounds correctly (85000 with scale 2 is exactly 850)
        return scale >= 0 ? value / SimplePacking.Power(scale, 10) : value * SimplePacking.Power(-scale, 10);
    }
}
