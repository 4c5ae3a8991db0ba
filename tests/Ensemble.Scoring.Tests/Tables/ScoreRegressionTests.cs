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

    [Fact]
    public void Rounding_noise_at_lead_0_passes_an_exact_gate_but_real_changes_still_fail()
    {
        // Values as in the smoke campaign: at lead 0 the ensemble mean equals the analysis up to float rounding.
        var baseline = new ScoreTable([
            Row("crps", 0, 4.08e-8), Row("rmse", 0, 3.77e-15), Row("ssr", 0, 6.83e7),
            Row("crps", 6, 3.25e-7), Row("rmse", 6, 5.35e-7), Row("ssr", 6, 0.56),
            Row("crps", 24, 2.97e-7), Row("rmse", 24, 5.16e-7), Row("ssr", 24, 0.68)]);
        // A change of summation order: lead-0 rmse +8 %, its ssr −20 %, everything else identical.
        var noisy = new ScoreTable(baseline.Rows.Select(r => r.LeadTimeHours != 0 ? r
            : r.Metric == "rmse" ? r with { Value = 4.07e-15 } : r.Metric == "ssr" ? r with { Value = 5.4e7 } : r));
        var ok = ScoreRegression.Compare(noisy, baseline, 1e-6);
        Assert.True(ok.Passed, ScoreRegression.Format(ok.Worse));
        var skipped = Assert.Single(ok.Compared, c => c.Metric == "ssr" && c.LeadTimeHours == 0);
        Assert.Contains("rounding", skipped.Reason);
        Assert.False(skipped.Worse);
        // A real change is still caught, at lead 0 (crps) and later (rmse +0.2 % at lead 6, ssr further from 1).
        foreach (var (metric, lead, value) in new[] { ("crps", 0.0, 4.2e-8), ("rmse", 6.0, 5.36e-7), ("ssr", 24.0, 0.67) })
        {
            var worse = new ScoreTable(noisy.Rows.Select(r => r.Metric == metric && r.LeadTimeHours == lead ? r with { Value = value } : r));
            var r = ScoreRegression.Compare(worse, baseline, 1e-6);
            Assert.False(r.Passed, $"{metric} at lead {lead} got worse but passed");
            Assert.Equal((metric, lead), (Assert.Single(r.Worse).Metric, r.Worse[0].LeadTimeHours));
        }
        // The floor is a millionth of the series' scale: at the default 5 % it changes nothing.
        var early = new ScoreTable(baseline.Rows.Select(r => r.Metric == "rmse" && r.LeadTimeHours == 6 ? r with { Value = 5.35e-7 * 1.06 } : r));
        Assert.False(ScoreRegression.Compare(early, baseline, 0.05).Passed);
    }
}
