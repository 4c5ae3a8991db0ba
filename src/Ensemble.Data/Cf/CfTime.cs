using System.Globalization;
using System.Text.RegularExpressions;
using Ensemble.Core;

namespace Ensemble.Data.Cf;

/// <summary>
/// CF time coordinates: "&lt;unit&gt; since &lt;reference&gt;" in every CF calendar (<see cref="CfCalendar"/>):
/// standard/gregorian (Julian before 1582-10-15), proleptic_gregorian, julian, noleap/365_day, all_leap/366_day
/// and 360_day. Offsets are counted in the calendar's own days; <see cref="DecodeFields(double, string)"/> gives the
/// calendar's date, <see cref="Decode(double, string)"/> the same fields as a <see cref="DateTime"/> (cftime's
/// labels; an error for dates such as 360_day 02-30 that do not exist in the Gregorian calendar).
/// </summary>
public sealed partial record CfTimeUnits(CfTimeUnit Unit, DateTime Reference, string Calendar)
{
    CfDateTime? _referenceFields;

    /// <summary>The reference date in the calendar (may be a date DateTime cannot hold, e.g. year 0 or 360_day 02-30).</summary>
    public CfDateTime ReferenceFields
    {
        get => _referenceFields ?? new CfDateTime(Reference.Year, Reference.Month, Reference.Day, Reference.Hour, Reference.Minute, Reference.Second, Reference.Ticks % TimeSpan.TicksPerSecond);
        init => _referenceFields = value;
    }

    /// <summary>Parses a CF units string such as "hours since 1900-01-01 00:00:0.0".</summary>
    public static CfTimeUnits Parse(string units, string? calendar = null, string what = "time")
    {
        var m = UnitsRegex().Match(units.Trim().TrimEnd('\0'));
        if (!m.Success)
            throw new EnsembleException($"{what}: units '{units}' are not of the form '<unit> since <date>'");
        var unit = ParseUnit(m.Groups[1].Value)
            ?? throw new EnsembleException($"{what}: unsupported time unit '{m.Groups[1].Value}' in '{units}'");
        string cal = NormaliseCalendar(calendar, what);
        var fields = ParseReference(m.Groups[2].Value, what);
        CfCalendar.DayNumber(cal, fields.Year, fields.Month, fields.Day, $"{what}: reference of '{units}'");
        DateTime reference = fields.Year is >= 1 and <= 9999 && fields.Day <= DateTime.DaysInMonth(fields.Year, fields.Month)
            ? new DateTime(fields.Year, fields.Month, fields.Day, fields.Hour, fields.Minute, fields.Second, DateTimeKind.Utc).AddTicks(fields.SubSecondTicks)
            : DateTime.MinValue;
        return new CfTimeUnits(unit, reference, cal) { ReferenceFields = fields };
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

    public DateTime Decode(double value, string what = "time") => DecodeFields(value, what).ToDateTime($"{what} ({Calendar} calendar)");

    /// <summary>The calendar date and time <paramref name="value"/> units after the reference.</summary>
    public CfDateTime DecodeFields(double value, string what = "time")
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
            throw new EnsembleException($"{what}: value is missing or not finite");
        var r = ReferenceFields;
        try
        {
            if (Unit is CfTimeUnit.Months or CfTimeUnit.Years)
            {
                // Calendar arithmetic on whole months (CF's "months since" as used by NCEP/NCAR data).
                double months = Unit == CfTimeUnit.Years ? value * 12 : value;
                if (Math.Abs(months - Math.Round(months)) > 1e-9)
                    throw new EnsembleException($"{what}: fractional {Unit.ToString().ToLowerInvariant()} ({value}) have no calendar meaning");
                long total = checked(r.Year * 12L + (r.Month - 1) + (long)Math.Round(months));
                int y = checked((int)Math.Floor(total / 12.0)), mo = (int)(total - y * 12L) + 1;
                int day = Math.Min(r.Day, CfCalendar.DaysInMonth(Calendar, y, mo, what));
                return r with { Year = y, Month = mo, Day = day };
            }
            long ticks = checked((long)Math.Round(value * TicksPerUnit(Unit)));
            long sinceMidnight = checked(((r.Hour * 60L + r.Minute) * 60 + r.Second) * TimeSpan.TicksPerSecond + r.SubSecondTicks + ticks);
            long days = sinceMidnight >= 0 ? sinceMidnight / TimeSpan.TicksPerDay : -((-sinceMidnight + TimeSpan.TicksPerDay - 1) / TimeSpan.TicksPerDay);
            long rest = sinceMidnight - days * TimeSpan.TicksPerDay;
            var (yy, mm, dd) = CfCalendar.FromDayNumber(Calendar, CfCalendar.DayNumber(Calendar, r.Year, r.Month, r.Day, what) + days);
            var tod = TimeSpan.FromTicks(rest);
            return new CfDateTime(yy, mm, dd, tod.Hours, tod.Minutes, tod.Seconds, rest % TimeSpan.TicksPerSecond);
        }
        catch (OverflowException)
        {
            throw new EnsembleException($"{what}: {value} {Unit} since {r} is outside the representable dates");
        }
    }

    /// <summary>Offsets of the given times from the reference, in this unit.</summary>
    public double Encode(DateTime time)
    {
        if (Unit is CfTimeUnit.Months or CfTimeUnit.Years)
            throw new EnsembleException("encoding times in months or years is not supported; use hours");
        var t = time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time;
        return Encode(new CfDateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, t.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>Offset of a calendar date from the reference, in this unit (days counted in the calendar).</summary>
    public double Encode(CfDateTime date, string what = "time")
    {
        if (Unit is CfTimeUnit.Months or CfTimeUnit.Years)
            throw new EnsembleException("encoding times in months or years is not supported; use hours");
        var r = ReferenceFields;
        long days = CfCalendar.DayNumber(Calendar, date.Year, date.Month, date.Day, what) - CfCalendar.DayNumber(Calendar, r.Year, r.Month, r.Day, what);
        long ticks = days * TimeSpan.TicksPerDay
            + (((date.Hour - r.Hour) * 60L + (date.Minute - r.Minute)) * 60 + (date.Second - r.Second)) * TimeSpan.TicksPerSecond
            + date.SubSecondTicks - r.SubSecondTicks;
        return ticks / (double)TicksPerUnit(Unit);
    }

    /// <summary>The CF units string, e.g. "hours since 2023-06-01 00:00:00".</summary>
    public string UnitsString => $"{Unit.ToString().ToLowerInvariant()} since {ReferenceFields}";

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

    static string NormaliseCalendar(string? calendar, string what) =>
        CfCalendar.Normalise(calendar)
        ?? throw new EnsembleException($"{what}: calendar '{calendar}' is not supported (standard/gregorian, proleptic_gregorian, julian, noleap/365_day, all_leap/366_day, 360_day)");

    static CfDateTime ParseReference(string s, string what)
    {
        var m = ReferenceRegex().Match(s.Trim());
        if (!m.Success)
            throw new EnsembleException($"{what}: reference date '{s}' is not understood");
        int G(int i, int dflt) => m.Groups[i].Success && m.Groups[i].Value.Length > 0 ? int.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture) : dflt;
        double sec = m.Groups[6].Success && m.Groups[6].Value.Length > 0 ? double.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture) : 0;
        int hour = G(4, 0), minute = G(5, 0);
        if (hour > 23 || minute > 59 || sec >= 61)
            throw new EnsembleException($"{what}: reference time in '{s}' is out of range");
        long subTicks = (long)Math.Round(sec * TimeSpan.TicksPerSecond);
        var fields = new CfDateTime(G(1, 1), G(2, 1), G(3, 1), hour, minute, (int)(subTicks / TimeSpan.TicksPerSecond), subTicks % TimeSpan.TicksPerSecond);
        if (m.Groups[7].Success && m.Groups[7].Value.Length > 0 && m.Groups[7].Value != "Z" && m.Groups[7].Value.ToUpperInvariant() != "UTC")
        {
            // "+hh:mm" / "-hh" offset from UTC: the local reference minus the offset is UTC (Gregorian dates only).
            var z = TzRegex().Match(m.Groups[7].Value);
            if (!z.Success) throw new EnsembleException($"{what}: time zone '{m.Groups[7].Value}' is not understood");
            int sign = z.Groups[1].Value == "-" ? -1 : 1;
            int hh = int.Parse(z.Groups[2].Value, CultureInfo.InvariantCulture);
            int mm = z.Groups[3].Success && z.Groups[3].Value.Length > 0 ? int.Parse(z.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
            var t = fields.ToDateTime(what).AddMinutes(-sign * (hh * 60 + mm));
            fields = new CfDateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, t.Ticks % TimeSpan.TicksPerSecond);
        }
        return fields;
    }

    [GeneratedRegex(@"^\s*([A-Za-z]+)\s+since\s+(.+?)\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex UnitsRegex();

    [GeneratedRegex(@"^(\d{1,4})-(\d{1,2})(?:-(\d{1,2}))?(?:[ T]+(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}(?:\.\d*)?))?)?\s*(Z|UTC|[+-]\d{1,2}(?::?\d{2})?)?$", RegexOptions.IgnoreCase)]
    private static partial Regex ReferenceRegex();

    [GeneratedRegex(@"^([+-])(\d{1,2}):?(\d{2})?$")]
    private static partial Regex TzRegex();
}

public enum CfTimeUnit { Days, Hours, Minutes, Seconds, Milliseconds, Microseconds, Months, Years }
