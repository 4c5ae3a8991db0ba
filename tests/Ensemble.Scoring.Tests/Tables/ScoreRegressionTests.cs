using Ensemble.Scoring.Tables;
using Xunit;

namespace Ensemble.Scoring.Tests.Tables;

public class ScoreRegressionTests
{
    static ScoreRow Row(string metric, double lead, double value) => new("ml", "z500", "", lead, metric, value, 8, "coslat");

    [Fact]
    public void Rows_new_in_the_current_table_are_not_compared_and_do_not_fail()
    {
        // A baseline written before zonal spectra existed (the smoke baseline): only its own rows are compared.
        var baseline = new ScoreTable([Row("crps", 24, 1.0), Row("rmse", 24, 2.0), Row("ssr", 24, 0.9), Row("spectrum_members:1", 24, 5.0)]);
        var current = new ScoreTable(baseline.Rows.Concat([
            Row("zonal_spectrum_members:1", 24, 7.0), Row("zonal_spectrum_mean:1", 24, 3.0), Row("zonal_spectrum_truth:1", 24, 6.0), Row("crps", 48, 9.0)]));
        var r = ScoreRegression.Compare(current, baseline, 0.05);
        Assert.True(r.Passed);
        Assert.Equal(["crps", "rmse", "ssr"], r.Compared.Select(c => c.Metric).Order(StringComparer.Ordinal).ToArray());
        // The shared rows are still checked.
        var worse = new ScoreTable(current.Rows.Select(x => x.Metric == "crps" && x.LeadTimeHours == 24 ? x with { Value = 1.2 } : x));
        Assert.False(ScoreRegression.Compare(worse, baseline, 0.05).Passed);
    }
}
