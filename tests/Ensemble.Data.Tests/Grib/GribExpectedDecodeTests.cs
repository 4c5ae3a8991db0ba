using System.Globalization;
using Ensemble.Data.Grib;
using Ensemble.TestSupport;
using Xunit;
using Xunit.Abstractions;

namespace Ensemble.Data.Tests.Grib;

/// <summary>
/// Every GRIB sample that has an ecCodes reference decode in shared/data/_expected: all listed messages, all keys,
/// and the value statistics.
/// Tolerance for decoded values: half a quantisation step, 0.5·2^E·10^(−D) (the most a correct simple-packing
/// decoder can differ from any other, since the packed integers are exact), plus float64 rounding of the value
/// (4 ulp-ish: 1e−15·|v|). The mean gets the same bound: it is an average of values each within that bound.
/// referenceValue is printed by the CSV with ~6 significant digits, so it is compared with relative 1e−5.
/// </summary>
public sealed class GribExpectedDecodeTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => new()
    {
        "analysis/ifs_an_2t_20170723_12z_0p75deg_global.grib",
        "analysis/ifs_an_z500_20170723_12z_0p75deg_global.grib",
        "ensemble/ecmwf_ens_storm_20131025_10fg3_z850.grib",
        "ensemble/ecmwf_ens_wgust_20181120.grib",
        "ensemble/ecmwf_ens_z500_20120920_step96.grib",
        "ensemble/ecmwf_ens_z850_tiny_51members.grib",
        "ensemble/ecmwf_hres_storm_20131025_10fg3_z850.grib",
        "ensemble/era5_eda_10members_t_z_500_850_global3deg.grib",
        "ensemble/ncep_cfs_seasonal_monthly_2t_124members.grib",
        "ensemble/ncep_gefs_pf5_prmsl_1deg.grib",
        "ensemble/ukmo_monthly_fcmean_2t_28members.grib",
        "timeseries/era5_2t_hourly_2019-03_uk_0p25deg.grib",
        "timeseries/ifs_fc_t_z_1000_20201221_12z_steps0-48.grib",
        "verification/ifs_an_20160925_20161001_12h/10u_sfc.grib",
        "verification/ifs_an_20160925_20161001_12h/10v_sfc.grib",
        "verification/ifs_an_20160925_20161001_12h/msl_sfc.grib",
        "verification/ifs_an_20160925_20161001_12h/pv_pt.grib",
        "verification/ifs_an_20160925_20161001_12h/t_pl.grib",
        "verification/ifs_an_20160925_20161001_12h/u_pl.grib",
        "verification/ifs_an_20160925_20161001_12h/v_pl.grib",
        "verification/ifs_an_20160925_20161001_12h/w_pl.grib",
        "verification/ifs_fc_20160925_00z_step0_120/10u_sfc.grib",
        "verification/ifs_fc_20160925_00z_step0_120/10v_sfc.grib",
        "verification/ifs_fc_20160925_00z_step0_120/msl_sfc.grib",
        "verification/ifs_fc_20160925_00z_step0_120/pv_pt.grib",
        "verification/ifs_fc_20160925_00z_step0_120/t_pl.grib",
        "verification/ifs_fc_20160925_00z_step0_120/tp_sfc.grib",
        "verification/ifs_fc_20160925_00z_step0_120/u_pl.grib",
        "verification/ifs_fc_20160925_00z_step0_120/v_pl.grib",
        "verification/ifs_fc_20160925_00z_step0_120/w_pl.grib",
    };

    /// <summary>CSV columns that are ecCodes keys of the message header, compared through <see cref="GribMessage.Keys"/>.</summary>
    static readonly string[] TextKeys = ["edition", "centre", "dataType", "shortName", "paramId", "typeOfLevel", "stepRange",
        "number", "gridType", "Ni", "Nj", "jScansPositively", "packingType", "bitsPerValue", "binaryScaleFactor",
        "decimalScaleFactor", "bitmapPresent", "missingValue"];
    static readonly string[] NumericKeys = ["level", "dataDate", "dataTime", "latitudeOfFirstGridPointInDegrees",
        "longitudeOfFirstGridPointInDegrees", "latitudeOfLastGridPointInDegrees", "longitudeOfLastGridPointInDegrees",
        "iDirectionIncrementInDegrees", "jDirectionIncrementInDegrees"];

    [SkippableTheory]
    [MemberData(nameof(Files))]
    public void MatchesEcCodes(string relative)
    {
        string path = Shared.Require("data/" + relative);
        var expected = ExpectedCsv.Load(Shared.Require("data/_expected/" + relative.Replace("/", "__", StringComparison.Ordinal) + ".csv"));
        using var file = GribFile.Open(path);
        Assert.Equal(expected.Rows.Count, file.Messages.Count);
        Assert.Contains("msg_index", expected.Columns);
        double worstInSteps = 0;
        foreach (var row in expected.Rows)
        {
            int index = int.Parse(row["msg_index"], CultureInfo.InvariantCulture);
            var m = file.Messages[index];
            string where = $"{relative} message {index}";
            Assert.Equal((long)ExpectedCsv.Num(row["byte_offset"]), m.Offset);
            Assert.Equal(long.Parse(row["total_length"], CultureInfo.InvariantCulture), m.TotalLength);
            foreach (var key in TextKeys)
            {
                Assert.True(m.Keys.TryGetValue(key, out var actual), $"{where}: key {key} missing");
                Assert.True(row[key] == Convert.ToString(actual, CultureInfo.InvariantCulture), $"{where}: {key} = {actual}, ecCodes {row[key]}");
            }
            foreach (var key in NumericKeys)
            {
                Assert.True(m.Keys.TryGetValue(key, out var actual), $"{where}: key {key} missing");
                double a = Convert.ToDouble(actual, CultureInfo.InvariantCulture), e = ExpectedCsv.Num(row[key]);
                Assert.True(Math.Abs(a - e) <= 1e-9 * Math.Max(1, Math.Abs(e)), $"{where}: {key} = {a}, ecCodes {e}");
            }
            double reference = ExpectedCsv.Num(row["referenceValue"]);
            Assert.True(Math.Abs(m.ReferenceValue - reference) <= 1e-5 * Math.Abs(reference) + 1e-30,
                $"{where}: referenceValue {m.ReferenceValue}, ecCodes {reference}");

            // the typed API agrees with the keys
            Assert.Equal(row["shortName"], m.ShortName);
            Assert.Equal(row["typeOfLevel"], m.TypeOfLevel);
            Assert.Equal(int.Parse(row["number"], CultureInfo.InvariantCulture), m.PerturbationNumber);
            Assert.Equal(row["dataDate"] + row["dataTime"], m.ReferenceTime.ToString("yyyyMMddHHmm", CultureInfo.InvariantCulture));

            double[] values = m.Values();
            Assert.Equal(int.Parse(row["n_values"], CultureInfo.InvariantCulture), values.Length);
            var present = values.Where(v => !double.IsNaN(v)).ToArray();
            Assert.Equal(int.Parse(row["n_missing"], CultureInfo.InvariantCulture), values.Length - present.Length);
            double halfStep = 0.5 * m.QuantisationStep;
            void Check(string column, double actual)
            {
                double e = ExpectedCsv.Num(row[column]);
                double err = Math.Abs(actual - e), tol = halfStep + 1e-15 * Math.Abs(e);
                Assert.True(err <= tol, $"{where}: {column} = {actual:R}, ecCodes {e:R}, |error| {err:E3} > tolerance {tol:E3}");
                if (halfStep > 0) worstInSteps = Math.Max(worstInSteps, err / (2 * halfStep));
            }
            Check("min", present.Min());
            Check("max", present.Max());
            Check("mean", present.Average());
            Check("value_first", values[0]);
            Check("value_last", values[^1]);
            Check("value_mid", values[values.Length / 2]);
        }
        output.WriteLine($"{relative}: {expected.Rows.Count} messages, worst value error {worstInSteps:E2} quantisation steps (tolerance 0.5)");
    }
}
