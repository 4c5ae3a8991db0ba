using System.Globalization;
using System.Text.RegularExpressions;
using Ensemble.Core;

namespace Ensemble.Data.Cf;

/// <summary>
/// CF time coordinates: "&lt;unit&gt; since &lt;reference&gt;" with the calendars whose dates .NET's DateTime
/// represents exactly (standard/gregorian after the 1582 reform, proleptic_gregorian). Other calendars
/// (noleap, 360_day, julian, ...) are refused with a clear error instead of being silently misdecoded.
/// </summary>
public sealed partial record CfTimeUnits(CfTimeUnit Unit, DateTime Reference, string Calendar)
{
    static readonly DateTime GregorianReform = new(1582, 10, 15, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>Parses a CF units string such as "hours since 1900-01-01 00:00:0.0".</summary>
    public static CfTimeUnits Parse(string units, string? calendar = null, string what = "time")
    {
        var m = UnitsRegex().Match(units.Trim().TrimEnd('\0'));
        if (!m.Success)
            throw new EnsembleException($"{what}: units '{units}' are not of the form '<unit> since <date>'");
        var unit = ParseUnit(m.Groups[1].Value)
            ?? throw new EnsembleException($"{what}: unsupported time unit '{m.Groups[1].Value}' in '{units}'");
        string cal = NormaliseCalendar(calendar, what);
        var reference = ParseReference(m.Groups[2].Value, what);
        if (cal == "standard" && reference < GregorianReform)
            throw new EnsembleException($"{what}: calendar 'standard' with reference {reference:yyyy-MM-dd} before the 1582 Gregorian reform (mixed Julian dates) is not supported; use proleptic_gregorian");
        return new CfTimeUnits(unit, reference, cal);
    }

    /// <summary>True when the units string has the "since" form of a time coordinate.</summary>
    public static bool IsTimeUnits(string? units) => units is not null && UnitsRegex().IsMatch(units.Trim().TrimEnd('\0'));

    /// <summary>Decodes numeric offsets to UTC times; NaN (masked) values throw, callers mask first.</summary>
    public DateTime[] Decode(ReadOnlySpan<double> values, string what = "time")
    {
        var result = new DateTime[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (double.IsNaN(v) || double.IsInfinity(v))
                throw new EnsembleException($"{what}: value {i} is missing or not finite");
            result[i] = Decode(v, what);
        }
        return result;
    }

    public DateTime Decode(double value, string what = "time")
    {
        try
        {
            if (Unit is CfTimeUnit.Months or CfTimeUnit.Years)
            {
                // Calendar arithmetic on whole months (CF's "months since" as used by NCEP/NCAR data).
                double months = Unit == CfTimeUnit.Years ? value * 12 : value;
                if (Math.Abs(months - Math.Round(months)) > 1e-9)
                    throw new EnsembleException($"{what}: fractional {Unit.ToString().ToLowerInvariant()} ({value}) have no calendar meaning");
                return Reference.AddMonths(checked((int)Math.Round(months)));
            }
            long ticks = checked((long)Math.Round(value * TicksPerUnit(Unit)));
            var t = Reference.AddTicks(ticks);
            if (Calendar == "standard" && t < GregorianReform)
                throw new EnsembleException($"{what}: {t:yyyy-MM-dd} lies before the 1582 Gregorian reform, where calendar 'standard' is Julian");
            return t;
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new EnsembleException($"{what}: {value} {Unit} since {Reference:O} is outside the representable dates");
        }
        catch (OverflowException)
        {
            throw new EnsembleException($"{what}: {value} {Unit} since {Reference:O} is outside the representable dates");
        }
    }

    /// <summary>Offsets of the given times from the reference, in this unit.</summary>
    public double Encode(DateTime time)
    {
        if (Unit is CfTimeUnit.Months or CfTimeUnit.Years)
            throw new EnsembleException("encoding times in months or years is not supported; use hours");
        return (time.ToUniversalTime() - Reference).Ticks / (double)TicksPerUnit(Unit);
    }

    /// <summary>The CF units string, e.g. "hours since 2023-06-01 00:00:00".</summary>
    public string UnitsString => $"{Unit.ToString().ToLowerInvariant()} since {Reference:yyyy-MM-dd HH:mm:ss}";

    /// <summary>"hours since &lt;reference&gt;" with the proleptic Gregorian calendar (what we write).</summary>
    public static CfTimeUnits HoursSince(DateTime reference) =>
        new(CfTimeUnit.Hours, DateTime.SpecifyKind(reference, DateTimeKind.Utc), "proleptic_gregorian");

    static long TicksPerUnit(CfTimeUnit u) => u switch
    {
        CfTimeUnit.Days => TimeSpan.TicksPerDay,
        CfTimeUnit.Hours => TimeSpan.TicksPerHour,
        CfTimeUnit.Minutes => TimeSpan.TicksPerMinute,
        CfTimeUnit.Seconds => TimeSpan.TicksPerSecond,
        CfTimeUnit.Milliseconds => TimeSpan.TicksPerMillisecond,
        CfTimeUnit.Microseconds => TimeSpan.TicksPerMicrosecond,
        _ => throw new ArgumentOutOfRangeException(nameof(u)),
    };

    /// <summary>Parses a bare duration unit ("hours", "days", ...) as used for lead times.</summary>
    public static CfTimeUnit? ParseUnit(string s) => s.Trim().ToLowerInvariant() switch
    {
        "days" or "day" or "d" => CfTimeUnit.Days,
        "hours" or "hour" or "hrs" or "hr" or "h" => CfTimeUnit.Hours,
        "minutes" or "minute" or "mins" or "min" => CfTimeUnit.Minutes,
        "seconds" or "second" or "secs" or "sec" or "s" => CfTimeUnit.Seconds,
        "milliseconds" or "millisecond" or "msecs" or "ms" => CfTimeUnit.Milliseconds,
        "microseconds" or "microsecond" or "us" => CfTimeUnit.Microseconds,
        "months" or "month" => CfTimeUnit.Months,
        "years" or "year" => CfTimeUnit.Years,
        _ => null,
    };

    /// <summary>A bare duration (lead time) in the given unit.</summary>
    public static TimeSpan Duration(double value, CfTimeUnit unit) =>
        unit is CfTimeUnit.Months or CfTimeUnit.Years
            ? throw new EnsembleException($"durations in {unit} have no fixed length")
            : TimeSpan.FromTicks((long)Math.Round(value * TicksPerUnit(unit)));

    static string NormaliseCalendar(string? calendar, string what)
    {
        string c = (calendar ?? "standard").Trim().TrimEnd('\0').ToLowerInvariant();
        return c switch
        {
            "" or "standard" or "gregorian" => "standard",
            "proleptic_gregorian" => "proleptic_gregorian",
            _ => throw new EnsembleException($"{what}: calendar '{calendar}' is not supported (only standard, gregorian, proleptic_gregorian)"),
        };
    }

    static DateTime ParseReference(string s, string what)
    {
        var m = ReferenceRegex().Match(s.Trim());
        if (!m.Success)
            throw new EnsembleException($"{what}: reference date '{s}' is not understood");
        int G(int i, int dflt) => m.Groups[i].Success && m.Groups[i].Value.Length > 0 ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : dflt;
        double sec = m.Groups[6].Success && m.Groups[6].Value.Length > 0 ? double.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture) : 0;
        var t = new DateTime(G(1, 1), G(2, 1), G(3, 1), G(4, 0), G(5, 0), 0, DateTimeKind.Utc).AddTicks((long)Math.Round(sec * TimeSpan.TicksPerSecond));
        if (m.Groups[7].Success && m.Groups[7].Value.Length > 0 && m.Groups[7].Value != "Z" && m.Groups[7].Value.ToUpperInvariant() != "UTC")
        {
            // "+hh:mm" / "-hh" offset from UTC: the local reference minus the offset is UTC.
            var z = TzRegex().Match(m.Groups[7].Value);
            if (!z.Success) throw new EnsembleException($"{what}: time zone '{m.Groups[7].Value}' is not understood");
            int sign = z.Groups[1].Value == "-" ? -1 : 1;
            int hh = int.Parse(z.Groups[2].Value, CultureInfo.InvariantCulture);
            int mm = z.Groups[3].Success && z.Groups[3].Value.Length > 0 ? int.Parse(z.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
            t = t.AddMinutes(-sign * (hh * 60 + mm));
        }
        return t;
    }

    [GeneratedRegex(@"^\s*([A-Za-z]+)\s+since\s+(.+?)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex UnitsRegex();

    [GeneratedRegex(@"^(\d{1,4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T]+(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ReferenceRegex();

    [GeneratedRegex(@"^([+-])(\d{1,2}):?(\d{2})?$")]
    private static partial Regex TzRegex();
}

public enum CfTimeUnit { Days, Hours, Minutes, Seconds, Milliseconds, Microseconds, Months, Years }
