using System.Globalization;

namespace Ensemble.Data.Grib;

/// <summary>ecCodes-named keys shared by both editions, and ecCodes' text forms of steps.</summary>
internal static class GribKeys
{
    /// <summary>Step in hours ("78"), or minutes with an 'm' when not a whole hour ("30m"), as ecCodes prints it.</summary>
    public static string FormatStep(TimeSpan step)
    {
        if (step.Ticks % TimeSpan.TicksPerHour == 0)
            return (step.Ticks / TimeSpan.TicksPerHour).ToString(CultureInfo.InvariantCulture);
        if (step.Ticks % TimeSpan.TicksPerMinute == 0)
            return (step.Ticks / TimeSpan.TicksPerMinute).ToString(CultureInfo.InvariantCulture) + "m";
        return ((long)step.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>count·unit, refusing steps whose validity time falls outside years 1–9998 (a corrupt header).</summary>
    public static TimeSpan Steps(long count, TimeSpan unit, DateTime reference, GribParseContext m)
    {
        double days = count * unit.TotalDays;
        if (days > (DateTime.MaxValue.AddYears(-1) - reference).TotalDays || days < -(reference - DateTime.MinValue.AddYears(1)).TotalDays)
            throw m.Error($"forecast step of {count} x {GribKeys.FormatStep(unit)} is out of range");
        return count * unit;
    }

    public static string StepRange(TimeSpan start, TimeSpan end) =>
        start == end ? FormatStep(end) : $"{FormatStep(start)}-{FormatStep(end)}";

    static object Number(double v) => v == Math.Floor(v) && Math.Abs(v) < int.MaxValue ? (int)v : v;

    public static void AddCommon(Dictionary<string, object> keys, GribMessage m)
    {
        keys["edition"] = m.Edition;
        keys["centre"] = m.Centre;
        keys["dataType"] = m.DataType;
        keys["shortName"] = m.ShortName;
        if (m.ParamId is int id) keys["paramId"] = id;
        keys["typeOfLevel"] = m.TypeOfLevel;
        keys["level"] = Number(m.Level);
        keys["dataDate"] = m.ReferenceTime.Year * 10000 + m.ReferenceTime.Month * 100 + m.ReferenceTime.Day;
        keys["dataTime"] = m.ReferenceTime.Hour * 100 + m.ReferenceTime.Minute;
        keys["stepRange"] = m.StepRange;
        keys["startStep"] = FormatStep(m.StartStep);
        keys["endStep"] = FormatStep(m.Step);
        keys["step"] = FormatStep(m.Step);
        keys["stepType"] = m.StepType;
        DateTime valid = m.ValidTime;
        keys["validityDate"] = valid.Year * 10000 + valid.Month * 100 + valid.Day;
        keys["validityTime"] = valid.Hour * 100 + valid.Minute;
        if (m.PerturbationNumber is int number) keys["number"] = number;
        keys["gridType"] = m.GridType;
        keys["Ni"] = m.Ni;
        keys["Nj"] = m.Nj;
        keys["numberOfPoints"] = m.NumberOfPoints;
        keys["latitudeOfFirstGridPointInDegrees"] = m.La1;
        keys["longitudeOfFirstGridPointInDegrees"] = m.Lo1;
        keys["latitudeOfLastGridPointInDegrees"] = m.La2;
        keys["longitudeOfLastGridPointInDegrees"] = m.Lo2;
        keys["iDirectionIncrementInDegrees"] = m.Di;
        keys["jDirectionIncrementInDegrees"] = m.Dj;
        keys["scanningMode"] = m.ScanningMode;
        keys["iScansNegatively"] = (m.ScanningMode & 0x80) != 0 ? 1 : 0;
        keys["jScansPositively"] = (m.ScanningMode & 0x40) != 0 ? 1 : 0;
        keys["jPointsAreConsecutive"] = (m.ScanningMode & 0x20) != 0 ? 1 : 0;
        keys["packingType"] = m.PackingType;
        keys["bitsPerValue"] = m.BitsPerValue;
        keys["referenceValue"] = m.ReferenceValue;
        keys["binaryScaleFactor"] = m.BinaryScaleFactor;
        keys["decimalScaleFactor"] = m.DecimalScaleFactor;
        keys["bitmapPresent"] = m.BitmapPresent ? 1 : 0;
        keys["missingValue"] = 9999;
        keys["totalLength"] = m.TotalLength;
        keys["offset"] = m.Offset;
    }
}
