using Ensemble.Core;

namespace Ensemble.Data.Cf;

/// <summary>A date and time in some CF calendar (fields may not exist in the Gregorian calendar, e.g. 360_day 02-30).</summary>
public readonly record struct CfDateTime(int Year, int Month, int Day, int Hour, int Minute, int Second, long SubSecondTicks)
{
    /// <summary>The same fields as a UTC <see cref="DateTime"/>, or an error when they name no Gregorian date.</summary>
    public DateTime ToDateTime(string what)
    {
        if (Year < 1 || Year > 9999 || Day > DateTime.DaysInMonth(Math.Clamp(Year, 1, 9999), Month))
            throw new EnsembleException($"{what}: {this} has no proleptic Gregorian equivalent (use the calendar's own dates)");
        return new DateTime(Year, Month, Day, Hour, Minute, Second, DateTimeKind.Utc).AddTicks(SubSecondTicks);
    }

    public override string ToString() => $"{Year:D4}-{Month:D2}-{Day:D2} {Hour:D2}:{Minute:D2}:{Second:D2}";
}

/// <summary>
/// Day arithmetic of the CF calendars: day numbers (days since an epoch of the calendar) to and from year/month/day.
/// standard/gregorian is Julian before 1582-10-15 and Gregorian from then on (the day after 1582-10-04);
/// julian and proleptic_gregorian are the pure calendars; noleap/365_day never have Feb 29, all_leap/366_day always;
/// 360_day has twelve 30-day months.
/// </summary>
public static class CfCalendar
{
    public static readonly string[] Names = ["standard", "proleptic_gregorian", "julian", "noleap", "all_leap", "360_day"];
    static readonly int[] MonthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    const long FirstGregorianJdn = 2299161; // 1582-10-15

    /// <summary>Canonical name: gregorian → standard, 365_day → noleap, 366_day → all_leap; null for unknown calendars.</summary>
    public static string? Normalise(string? calendar) => (calendar ?? "standard").Trim().TrimEnd('\0').ToLowerInvariant() switch
    {
        "" or "standard" or "gregorian" => "standard",
        "proleptic_gregorian" => "proleptic_gregorian",
        "julian" => "julian",
        "noleap" or "365_day" => "noleap",
        "all_leap" or "366_day" => "all_leap",
        "360_day" => "360_day",
        _ => null,
    };

    public static int DaysInMonth(string calendar, int year, int month, string what)
    {
        if (month is < 1 or > 12) throw new EnsembleException($"{what}: month {month} is not 1..12");
        return calendar switch
        {
            "360_day" => 30,
            "noleap" => MonthDays[month - 1],
            "all_leap" => month == 2 ? 29 : MonthDays[month - 1],
            "julian" => month == 2 && JulianLeap(year) ? 29 : MonthDays[month - 1],
            "proleptic_gregorian" => month == 2 && GregorianLeap(year) ? 29 : MonthDays[month - 1],
            _ => month == 2 && (year < 1582 ? JulianLeap(year) : GregorianLeap(year)) ? 29 : MonthDays[month - 1],
        };
    }

    static bool JulianLeap(int y) => y % 4 == 0;
    static bool GregorianLeap(int y) => y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

    /// <summary>Day number of a date in the calendar (Julian day number for the real calendars).</summary>
    public static long DayNumber(string calendar, int y, int m, int d, string what)
    {
        if (d < 1 || d > DaysInMonth(calendar, y, m, what))
            throw new EnsembleException($"{what}: {y:D4}-{m:D2}-{d:D2} does not exist in calendar '{calendar}'");
        switch (calendar)
        {
            case "360_day": return y * 360L + (m - 1) * 30 + (d - 1);
            case "noleap": return y * 365L + MonthDays.Take(m - 1).Sum() + (d - 1);
            case "all_leap": return y * 366L + MonthDays.Take(m - 1).Sum() + (m > 2 ? 1 : 0) + (d - 1);
            case "julian": return JulianJdn(y, m, d);
            case "proleptic_gregorian": return GregorianJdn(y, m, d);
            default:
                long g = GregorianJdn(y, m, d);
                if (g >= FirstGregorianJdn) return g;
                long j = JulianJdn(y, m, d);
                if (j >= FirstGregorianJdn) throw new EnsembleException($"{what}: {y:D4}-{m:D2}-{d:D2} falls in the 1582 reform gap of calendar 'standard'");
                return j;
        }
    }

    /// <summary>Year, month and day of a day number.</summary>
    public static (int Year, int Month, int Day) FromDayNumber(string calendar, long n)
    {
        switch (calendar)
        {
            case "360_day":
            {
                long y = FloorDiv(n, 360), r = n - y * 360;
                return ((int)y, (int)(r / 30) + 1, (int)(r % 30) + 1);
            }
            case "noleap":
            case "all_leap":
            {
                int len = calendar == "noleap" ? 365 : 366;
                long y = FloorDiv(n, len);
                int r = (int)(n - y * len), m = 1;
                while (true)
                {
                    int dim = calendar == "all_leap" && m == 2 ? 29 : MonthDays[m - 1];
                    if (r < dim) break;
                    r -= dim; m++;
                }
                return ((int)y, m, r + 1);
            }
            case "julian": return FromJdn(n, gregorian: false);
            case "proleptic_gregorian": return FromJdn(n, gregorian: true);
            default: return FromJdn(n, gregorian: n >= FirstGregorianJdn);
        }
    }

    static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    // Fliegel–Van Flandern style conversions with floor division (valid for negative years too).
    static long GregorianJdn(long y, long m, long d)
    {
        long a = FloorDiv(14 - m, 12), yy = y + 4800 - a, mm = m + 12 * a - 3;
        return d + FloorDiv(153 * mm + 2, 5) + 365 * yy + FloorDiv(yy, 4) - FloorDiv(yy, 100) + FloorDiv(yy, 400) - 32045;
    }

    static long JulianJdn(long y, long m, long d)
    {
        long a = FloorDiv(14 - m, 12), yy = y + 4800 - a, mm = m + 12 * a - 3;
        return d + FloorDiv(153 * mm + 2, 5) + 365 * yy + FloorDiv(yy, 4) - 32083;
    }

    static (int, int, int) FromJdn(long jdn, bool gregorian)
    {
        long b, c;
        if (gregorian)
        {
            long a = jdn + 32044;
            b = FloorDiv(4 * a + 3, 146097);
            c = a - FloorDiv(146097 * b, 4);
        }
        else
        {
            b = 0;
            c = jdn + 32082;
        }
        long d = FloorDiv(4 * c + 3, 1461), e = c - FloorDiv(1461 * d, 4), m = FloorDiv(5 * e + 2, 153);
        int day = (int)(e - FloorDiv(153 * m + 2, 5) + 1), month = (int)(m + 3 - 12 * FloorDiv(m, 10));
        int year = (int)(100 * b + d - 4800 + FloorDiv(m, 10));
        return (year, month, day);
    }
}
