using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.NetCdf;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.NetCdf;

public class NetCdfInspectAndErrorTests
{
    [SkippableFact]
    public void DescribeListsDimensionsVariablesAndAttributes()
    {
        string path = Shared.Require("data/analysis/era5_i10fg_20110801_0p25deg_global_721x1440.nc");
        string text = NetCdfInspect.Describe(path);
        Assert.Contains("// NETCDF3_64BIT_OFFSET", text);
        Assert.Contains("\tlatitude = 721 ;", text);
        Assert.Contains("\tshort i10fg(time, latitude, longitude) ;", text);
        Assert.Contains("i10fg:units = \"m s**-1\" ;", text);
        Assert.Contains("i10fg:_FillValue = -32767s ;", text);
    }

    [SkippableFact]
    public void TimesDecodeAndUnsupportedCalendarsFailClearly()
    {
        using (var nc = NetCdfFile.Open(Shared.Require("data/analysis/era5_i10fg_20110801_0p25deg_global_721x1440.nc")))
            Assert.Equal([new DateTime(2011, 8, 1, 0, 0, 0, DateTimeKind.Utc)], nc.Times("time"));
        using (var nc = NetCdfFile.Open(Shared.Require("data/analysis/ncep_hgt500_monthly_2p5deg_global_21months.nc")))
        {
            var t = nc.Times("time");
            Assert.Equal(new DateTime(1958, 1, 1, 0, 0, 0, DateTimeKind.Utc), t[0]);
            Assert.Equal(new DateTime(1977, 2, 1, 0, 0, 0, DateTimeKind.Utc), t[^1]);
        }
        using (var nc = NetCdfFile.Open(Shared.Require("data/ensemble/cesm_le_40members_6hourly_TS_point_1990_1995.nc")))
        {
            // noleap: 6-hourly from 1990-01-01 to 1996-01-01 is 6 × 365 days (8761 values), no Feb 29 in 1992.
            var t = nc.Times("time");
            Assert.Equal(new DateTime(1990, 1, 1, 0, 0, 0, DateTimeKind.Utc), t[0]);
            Assert.Equal(new DateTime(1996, 1, 1, 0, 0, 0, DateTimeKind.Utc), t[^1]);
            Assert.DoesNotContain(t, x => x.Month == 2 && x.Day == 29);
        }
    }

    [Fact]
    public void CfTimeUnitsParseReferenceVariants()
    {
        var u = CfTimeUnits.Parse("hours since 1900-01-01 00:00:0.0", "gregorian");
        Assert.Equal(new DateTime(2011, 8, 1, 0, 0, 0, DateTimeKind.Utc), u.Decode(978096));
        Assert.Equal(new DateTime(1950, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddDays(3957), CfTimeUnits.Parse("days since 1950-01-01 00:00:00").Decode(3957));
        Assert.Equal(new DateTime(2, 1, 1, 0, 0, 0, DateTimeKind.Utc), CfTimeUnits.Parse("hours since 0001-01-01 00:00:00.0", "proleptic_gregorian").Decode(8760));
        Assert.Throws<EnsembleException>(() => CfTimeUnits.Parse("days since 2000-01-01", "mayan"));
        Assert.Throws<EnsembleException>(() => CfTimeUnits.Parse("fortnights since 2000-01-01"));
    }

    [SkippableFact]
    public void TruncatedAndForeignFilesNameTheFileAndProblem()
    {
        using var tmp = new TempDir();
        foreach (var src in new[] { "data/analysis/ncep_hgt500_monthly_2p5deg_global_21months.nc", "data/analysis/era5_sfc_19950714_12z_conus_0p25deg.nc" })
        {
            byte[] bytes = File.ReadAllBytes(Shared.Require(src));
            string cut = tmp.File("cut_" + Path.GetFileName(src));
            File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
            var e = Assert.ThrowsAny<EnsembleException>(() =>
            {
                using var nc = NetCdfFile.Open(cut);
                foreach (var v in nc.Variables.Where(v => v.Type != NcType.Char)) nc.ReadDoubles(v.Name);
            });
            Assert.Contains(cut, e.Message);
        }
        string junk = tmp.File("junk.nc");
        File.WriteAllText(junk, "this is not netCDF");
        Assert.Contains("not a netCDF file", Assert.Throws<EnsembleException>(() => NetCdfFile.Open(junk)).Message);
        using var ok = NetCdfFile.Open(Shared.Require("data/analysis/ncep_hgt500_monthly_2p5deg_global_21months.nc"));
        Assert.Contains("no variable 'z500'", Assert.Throws<EnsembleException>(() => ok.Variable("z500")).Message);
        Assert.Throws<EnsembleException>(() => ok.ReadSlice("HGT", [0, 0, 0], [22, 1, 1]));
    }
}
