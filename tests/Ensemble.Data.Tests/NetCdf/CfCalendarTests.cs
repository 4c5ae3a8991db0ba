using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.NetCdf;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.NetCdf;

public class CfCalendarTests
{
    static CfDateTime D(int y, int m, int d, int hh = 0) => new(y, m, d, hh, 0, 0, 0);

    [Theory]
    // Hand-computed: noleap years have 365 days, so 365 days after 2000-01-01 is 2001-01-01 (Gregorian: 2000-12-31).
    [InlineData("days since 2000-01-01", "noleap", 365, 2001, 1, 1, 0)]
    [InlineData("days since 2000-01-01", "365_day", 59, 2000, 3, 1, 0)]
    [InlineData("days since 2000-01-01", "proleptic_gregorian", 365, 2000, 12, 31, 0)]
    // all_leap: Jan (31) + Feb (29) = 60 days to March 1 of 2001.
    [InlineData("days since 2001-01-01", "all_leap", 60, 2001, 3, 1, 0)]
    [InlineData("days since 2001-01-01", "366_day", 366, 2002, 1, 1, 0)]
    // 360_day: 30-day months, 45.5 days = 1 month 15.5 days.
    [InlineData("days since 2000-01-01", "360_day", 45.5, 2000, 2, 16, 12)]
    [InlineData("hours since 2000-01-01 06:00", "360_day", 8640, 2001, 1, 1, 6)]
    // julian: 1900 is a leap year (Feb 29 exists), so 2 days after 1900-02-28 is 1900-03-01.
    [InlineData("days since 1900-02-28", "julian", 2, 1900, 3, 1, 0)]
    // standard: the day after Julian 1582-10-04 is Gregorian 1582-10-15; proleptic_gregorian just counts on.
    [InlineData("days since 1582-10-04", "standard", 1, 1582, 10, 15, 0)]
    [InlineData("days since 1582-10-04", "gregorian", -1, 1582, 10, 3, 0)]
    [InlineData("days since 1582-10-04", "proleptic_gregorian", 1, 1582, 10, 5, 0)]
    // standard before the reform: JDN(Julian 1500-03-01) = 2268993; + 30000 = 2298993, 167 days before
    // JDN 2299160 = Julian 1582-10-04, i.e. Julian 1582-04-20.
    [InlineData("days since 1500-03-01", "standard", 30000, 1582, 4, 20, 0)]
    public void DecodesByHandComputedDates(string units, string calendar, double value, int y, int m, int d, int h)
    {
        var u = CfTimeUnits.Parse(units, calendar);
        Assert.Equal(D(y, m, d, h), u.DecodeFields(value));
        Assert.Equal(value, u.Encode(D(y, m, d, h)), 9);
    }

    [Fact]
    public void CalendarDatesWithoutAGregorianTwinOnlyDecodeAsFields()
    {
        var u = CfTimeUnits.Parse("days since 2000-01-01", "360_day");
        Assert.Equal(D(2000, 2, 30), u.DecodeFields(59));
        var e = Assert.Throws<EnsembleException>(() => u.Decode(59));
        Assert.Contains("2000-02-30", e.Message);
        Assert.Equal(D(1900, 2, 29), CfTimeUnits.Parse("days since 1900-02-28", "julian").DecodeFields(1));
        Assert.Equal(D(2001, 2, 29), CfTimeUnits.Parse("days since 2001-01-01", "all_leap").DecodeFields(59));
        // A reference that only exists in the calendar.
        Assert.Equal(D(1, 1, 1), CfTimeUnits.Parse("days since 0000-12-30", "360_day").DecodeFields(1));
        Assert.Throws<EnsembleException>(() => CfTimeUnits.Parse("days since 2001-02-29", "noleap"));
        Assert.Throws<EnsembleException>(() => CfTimeUnits.Parse("days since 1582-10-10", "standard"));
        Assert.Equal(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc), CfTimeUnits.Parse("days since 2000-01-01", "noleap").Decode(365));
    }

    [SkippableFact]
    public void MatchesNetCdf4PythonForCalendarsAndGroups()
    {
        PythonInterop.RequireOrSkip("netCDF4, cftime, numpy");
        using var dir = new TempDir();
        string path = dir.File("cal.nc");
        const string script = """
import sys, numpy as np, netCDF4, cftime
cals = ["standard", "proleptic_gregorian", "julian", "noleap", "all_leap", "360_day"]
values = np.array([-400000.25, -1000.5, 0, 59.75, 365, 1461, 36500.5, 150000])
with netCDF4.Dataset(sys.argv[1], "w") as ds:
    for c in cals:
        g = ds.createGroup("g_" + c)
        g.createDimension("time", len(values))
        t = g.createVariable("time", "f8", ("time",))
        t.units = "days since 1850-01-01 06:00:00"
        t.calendar = c
        t[:] = values
        x = g.createVariable("x", "f4", ("time",))
        x[:] = np.arange(len(values), dtype="f4") * 1.5
    for c in cals:
        d = cftime.num2date(values, "days since 1850-01-01 06:00:00", calendar=c)
        print(c, " ".join(v.strftime("%Y-%m-%dT%H:%M:%S") for v in d))
""";
        var lines = PythonInterop.RunWith("netCDF4, cftime, numpy", script, path).Trim().Split('\n');
        using var nc = NetCdfFile.Open(path);
        Assert.Equal(12, nc.Variables.Count);
        foreach (var line in lines)
        {
            var parts = line.Split(' ');
            string cal = parts[0];
            var v = nc.Variable($"g_{cal}/x");
            Assert.Equal([$"g_{cal}/time"], v.Dimensions);
            Assert.Equal(new[] { 0.0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5 }, nc.ReadDoubles($"g_{cal}/x"));
            var tv = nc.Variable($"g_{cal}/time");
            var units = CfTimeUnits.Parse(tv.TextAttribute("units")!, tv.TextAttribute("calendar"));
            var decoded = nc.ReadDoubles($"g_{cal}/time").Select(x => units.DecodeFields(x)).Select(f => $"{f.Year:D4}-{f.Month:D2}-{f.Day:D2}T{f.Hour:D2}:{f.Minute:D2}:{f.Second:D2}");
            Assert.Equal(parts.Skip(1), decoded);
        }
    }
}
