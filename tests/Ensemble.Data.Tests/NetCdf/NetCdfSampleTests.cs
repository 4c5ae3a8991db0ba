using System.Text.Json;
using Ensemble.Data.NetCdf;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Data.Tests.NetCdf;

/// <summary>Every netCDF sample in shared/data decodes to the netCDF4-python reference statistics.</summary>
public class NetCdfSampleTests
{
    public static TheoryData<string> Files() => new()
    {
        "analysis/era5_i10fg_20110801_0p25deg_global_721x1440.nc",
        "analysis/era5_sfc_19950714_12z_conus_0p25deg.nc",
        "analysis/era5_t_z_500_850_20070101_12z_1deg_global.nc",
        "analysis/eraint_uvz_monthly_jan_jul_0p75deg_global.nc",
        "analysis/ncep_hgt500_monthly_2p5deg_global_21months.nc",
        "ensemble/cesm_le_40members_6hourly_TS_point_1990_1995.nc",
        "ensemble/ensembles_multimodel_seasonal_tas_19601101_21members_2p5deg.nc",
    };

    static JsonElement Expected(string file)
    {
        // Python's json writes bare NaN, which is not JSON: quote it.
        string json = System.Text.RegularExpressions.Regex.Replace(
            File.ReadAllText(Shared.Require("data/_expected/netcdf_unpacked_stats.json")), @"(?<=[:\[,]\s*)NaN\b", "\"NaN\"");
        return JsonDocument.Parse(json).RootElement.GetProperty(file);
    }

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void DecodesLikeNetcdf4Python(string file)
    {
        string path = Shared.Require("data/" + file);
        var exp = Expected(file);
        using var nc = NetCdfFile.Open(path);
        Assert.Equal(exp.GetProperty("data_model").GetString(), nc.Format);

        var dims = exp.GetProperty("dims").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
        Assert.Equal(dims.Keys.OrderBy(k => k), nc.Dimensions.Select(d => d.Name).OrderBy(k => k));
        foreach (var d in nc.Dimensions) Assert.Equal(dims[d.Name], d.Length);

        foreach (var pv in exp.GetProperty("vars").EnumerateObject())
        {
            string name = pv.Name;
            var e = pv.Value;
            var v = nc.Variable(name);
            Assert.Equal(e.GetProperty("dims").EnumerateArray().Select(x => x.GetString()!), v.Dimensions);
            Assert.Equal(e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt64()), v.Shape);
            Assert.Equal(e.GetProperty("dtype").GetString(), DType(v.Type));
            CheckAttributes(e.GetProperty("attrs"), v, file);
            if (v.Type == NcType.Char)
            {
                var s = nc.ReadStrings(name);
                Assert.Equal(v.Shape[0], s.Length);
                continue;
            }
            var values = nc.ReadDoubles(name);
            var valid = values.Where(x => !double.IsNaN(x)).ToArray();
            Assert.True(e.GetProperty("n_masked").GetInt32() == values.Length - valid.Length,
                $"{file}:{name} masked {values.Length - valid.Length}, expected {e.GetProperty("n_masked").GetInt32()}");
            Near(e.GetProperty("min").GetDouble(), valid.Min(), $"{file}:{name} min");
            Near(e.GetProperty("max").GetDouble(), valid.Max(), $"{file}:{name} max");
            Near(e.GetProperty("mean").GetDouble(), valid.Average(), $"{file}:{name} mean");
            var first = e.GetProperty("first");
            if (first.ValueKind == JsonValueKind.Null) Assert.True(double.IsNaN(values[0]), $"{file}:{name} first should be masked");
            else Near(first.GetDouble(), values[0], $"{file}:{name} first");
        }
    }

    static void CheckAttributes(JsonElement attrs, NcVariable v, string file)
    {
        foreach (var a in attrs.EnumerateObject())
        {
            var got = v.Attribute(a.Name);
            Assert.True(got is not null, $"{file}:{v.Name} lacks attribute {a.Name}");
            if (a.Value.ValueKind == JsonValueKind.String)
            {
                if (a.Value.GetString() == "NaN") { Assert.True(double.IsNaN(got!.Number ?? 0), $"{a.Name}"); continue; }
                Assert.Equal(a.Value.GetString(), got!.Text);
            }
            else if (a.Value.ValueKind == JsonValueKind.Number)
                Near(a.Value.GetDouble(), got!.Number!.Value, $"{file}:{v.Name}.{a.Name}");
        }
    }

    // netCDF4-python computes in float64 for packed data and float32 for float data: float32 precision.
    static void Near(double expected, double actual, string what)
    {
        double tol = 2e-7 * Math.Max(1, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: {actual:R} vs expected {expected:R}");
    }

    static string DType(NcType t) => t switch
    {
        NcType.Byte => "int8", NcType.Char => "|S1", NcType.Short => "int16", NcType.Int => "int32",
        NcType.Float => "float32", NcType.Double => "float64", NcType.Int64 => "int64", NcType.UByte => "uint8",
        _ => t.ToString(),
    };
}
