using Ensemble.Scoring.Deterministic;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Weights;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Scoring.Tests.Reference;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

public class WeightsTests
{
    [Fact]
    public void Wb2_cell_area_test_vector()
    {
        double s3 = Math.Sqrt(3);
        var expected = new[] { 1 - s3 / 2, (s3 - 1) / 2, 0.5, 0.5, (s3 - 1) / 2, 1 - s3 / 2 }.Select(v => 3 * v).ToArray();
        Close.Absolute(LatitudeWeights.CellArea(new double[] { -75, -45, -15, 15, 45, 75 }), expected, 1e-14, "WB2");
        // North → south order gives the same weights in that order.
        Close.Absolute(LatitudeWeights.CellArea(new double[] { 75, 45, 15, -15, -45, -75 }), expected.Reverse().ToArray(), 1e-14, "reversed");
    }

    [Fact]
    public void Cos_lat_has_mean_one_and_cell_area_keeps_poles()
    {
        var lat = LatitudeWeights.EquiangularLatitudes(181);
        var cos = LatitudeWeights.CosLat(lat);
        var area = LatitudeWeights.CellArea(lat);
        Assert.Equal(1.0, cos.Average(), 12);
        Assert.Equal(1.0, area.Average(), 12);
        Assert.True(Math.Abs(cos[0]) < 1e-15 && area[0] > 0);
    }

    [Fact]
    public void Aggregation_is_spatial_mean_then_time_mean()
    {
        using var w = LatitudeWeights.ToTensor(new[] { 1.0, 3.0 });
        using var f = tensor(new double[] { 1, 1, 2, 2, /* t1 */ 3, 3, 6, 6 }, dtype: ScalarType.Float64).reshape(2, 2, 2);
        using var perTime = Aggregation.SpatialMean(f, w);
        Close.Absolute(D(perTime), new[] { (1 + 3 * 2) / 4.0, (3 + 3 * 6) / 4.0 }, 1e-15, "per time");
        using var score = Aggregation.Score(f, w);
        Assert.Equal(((1 + 6) / 4.0 + (3 + 18) / 4.0) / 2, score.item<double>(), 15);
    }
}

public class SpreadSkillTests
{
    [Fact]
    public void Matches_direct_definitions()
    {
        var gen = new Generator(3);
        using var f = randn(5, 3, 4, 6, generator: gen, dtype: ScalarType.Float64) + 5e4;
        using var y = randn(3, 4, 6, generator: gen, dtype: ScalarType.Float64) + 5e4;
        using var w = LatitudeWeights.ToTensor(LatitudeWeights.CosLat(new double[] { 60, 20, -20, -60 }));
        var r = SpreadSkill.Compute(f, y, w);
        using var mse = (f.mean([0L]) - y).pow(2);
        using var v = f.var(0L);
        double rmse = Math.Sqrt(D(Aggregation.Score(mse, w))[0]);
        double spread = Math.Sqrt(D(Aggregation.Score(v, w))[0]);
        Assert.Equal(rmse, r.Rmse, 9);
        Assert.Equal(spread, r.Spread, 9);
        Assert.True(r.CorrectionApplied);
        Assert.Equal(Math.Sqrt(6.0 / 5) * spread / rmse, r.Ratio, 9);
        var u = SpreadSkill.Compute(f, y, w, applyCorrection: false);
        Assert.False(u.CorrectionApplied);
        Assert.Equal(spread / rmse, u.Ratio, 9);
    }

    [Fact]
    public void Perfect_ensemble_has_corrected_ratio_near_one()
    {
        // Members and truth exchangeable draws; T = 400, M = 10, 8×16 points per time.
        var gen = new Generator(2024);
        using var all = randn(11, 400, 8, 16, generator: gen, dtype: ScalarType.Float64);
        using var f = all.narrow(0, 0, 10);
        using var y = all[10];
        using var w = LatitudeWeights.ToTensor(LatitudeWeights.CosLat(Enumerable.Range(0, 8).Select(i => 70.0 - 20 * i).ToArray()));
        var fortin = SpreadSkill.Compute(f, y, w);
        var raw = SpreadSkill.Compute(f, y, w, applyCorrection: false);
        Assert.InRange(fortin.Ratio, 0.98, 1.02);
        Assert.InRange(raw.Ratio, Math.Sqrt(10.0 / 11) - 0.02, Math.Sqrt(10.0 / 11) + 0.02);
    }
}

public class RankAndBrierTests
{
    [Fact]
    public void Ranks_count_members_below_and_break_ties_randomly()
    {
        using var f = T(new double[,] { { 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 } }); // [M=4, 2 points]
        using var y = T(new double[] { 2.5, 1 });
        var seen = new HashSet<long>();
        for (int seed = 0; seed < 60; seed++)
        {
            var r = D(RankHistogram.Ranks(f, y, seed).to(ScalarType.Float64));
            Assert.Equal(3.0, r[0]);
            seen.Add((long)r[1]);
        }
        // Point 2 ties with all four members: every rank 0 … 4 must occur.
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, seen.OrderBy(v => v).ToArray());
        // Same seed, same ranks.
        Assert.Equal(D(RankHistogram.Ranks(f, y, 5).to(ScalarType.Float64)), D(RankHistogram.Ranks(f, y, 5).to(ScalarType.Float64)));
    }

    [Fact]
    public void Perfect_ensemble_gives_a_flat_histogram()
    {
        var gen = new Generator(9);
        using var all = randn(10, 20000, generator: gen, dtype: ScalarType.Float64);
        var counts = RankHistogram.Counts(all.narrow(0, 0, 9), all[9], seed: 1);
        Assert.Equal(10, counts.Length);
        Assert.Equal(20000, counts.Sum());
        // Expected 2000 per bin, binomial sd ≈ 42: allow 5 sd.
        Assert.All(counts, c => Assert.InRange(c, 2000 - 212, 2000 + 212));
    }

    // properscoring tests/test_brier.py.
    [Fact]
    public void Properscoring_threshold_brier()
    {
        using var f = T(new double[] { -1, 1 }).unsqueeze(1).expand(2, 3);
        using var y = zeros(3, dtype: ScalarType.Float64);
        using var bs = Brier.Score(f, y, T(new double[] { -2, 0, 2 }));
        Close.Absolute(D(bs), new[] { 0, 0.25, 0 }, 1e-15, "brier");
        using var bs2 = Brier.Score(T(new double[] { 0, 0, 0, 1 }), tensor(0.0), 0.0);
        Assert.Equal(0.0625, bs2.item<double>(), 15);
        using var sr = Brier.FromCounts(tensor(0.271 * 1000), tensor(0.0), 1000, fair: false);
        Assert.Equal(0.073441, sr.item<double>(), 12);
    }

    [Fact]
    public void Fair_brier_equals_wb2_debiased()
    {
        var gen = new Generator(4);
        using var f = randn(7, 50, generator: gen, dtype: ScalarType.Float64);
        using var y = randn(50, generator: gen, dtype: ScalarType.Float64);
        using var fair = Brier.Score(f, y, 0.3, fair: true);
        using var ind = f.gt(0.3).to(ScalarType.Float64);
        using var p = ind.mean([0L]);
        using var o = y.gt(0.3).to(ScalarType.Float64);
        using var wb2 = (p - o).pow(2) - ind.var(0L) / 7.0;
        Close.Absolute(D(fair), D(wb2), 1e-14, "fair vs WB2");
    }
}

public class RocReliabilityTests
{
    static readonly double[] Prob = { 0.7, 0.2, 0.5, 0.6, 0.1, 0.6, 0.9, 0.5, 1.0, 0.3, 0.4, 0.4, 0.7, 0.6, 0.7, 0.0, 0.3, 0.0, 0.7, 0.0, 0.6, 0.9, 0.8, 0.6, 0.8, 0.3, 0.7, 0.6, 0.4, 0.9, 0.5, 0.1, 0.5, 0.2, 1.0, 0.3, 0.7, 0.5, 0.0, 0.3 };
    static readonly double[] Event = { 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0 };

    [Fact]
    public void Roc_test_vector()
    {
        var roc = Roc.Continuous(Prob, Event);
        Close.Absolute(roc.Thresholds, Enumerable.Range(0, 11).Select(i => 1.0 - i / 10.0).ToArray(), 1e-12, "thresholds");
        double[] far = { 0, 0, 1 / 26.0, 1 / 26.0, 4 / 26.0, 8 / 26.0, 11 / 26.0, 14 / 26.0, 19 / 26.0, 20 / 26.0, 22 / 26.0, 1, 1 };
        double[] hr = { 0, 1 / 7.0, 2 / 7.0, 3 / 7.0, 9 / 14.0, 11 / 14.0, 13 / 14.0, 13 / 14.0, 13 / 14.0, 1, 1, 1, 1 };
        Close.Absolute(roc.FalseAlarmRate, far, 1e-7, "FAR");
        Close.Absolute(roc.HitRate, hr, 1e-7, "HR");
        Assert.Equal(0.8324175824175825, roc.Auc, 14);
        Assert.Equal(0.8324175824175825, Roc.MannWhitneyAuc(Prob, Event), 14);
    }

    [Fact]
    public void Reliability_test_vector_and_last_bin_closed()
    {
        var rel = Reliability.Compute(Prob, Event, 5);
        Assert.Equal(new long[] { 6, 7, 14, 6, 7 }, rel.Counts);
        Close.Absolute(rel.ObservedFrequency, new[] { 0, 0.14285714285714285, 0.2857142857142857, 0.5, 0.8571428571428571 }, 1e-15, "freq");
        var ten = Reliability.Compute(new[] { 1.0, 0.95, 0.05 }, new[] { 1.0, 0, 0 });
        Assert.Equal(10, ten.Counts.Length);
        Assert.Equal(2, ten.Counts[9]);
        Assert.True(double.IsNaN(ten.ObservedFrequency[5]));
    }
}

public class EnergyScoreTests
{
    [Fact]
    public void Scoringrules_values()
    {
        using var f = T(new double[,] { { 0.79546742, 0.02461368 }, { 0.4777960, 0.7584595 }, { 0.2164079, 0.3181810 }, { 0.5409873, 0.1319422 } });
        using var y = T(new[] { 0.2743836, 0.8146400 });
        Assert.Equal(0.3949793, EnergyScore.Compute(f, y, CrpsEstimator.Standard).item<double>(), 7);
        Assert.Equal(0.3274585, EnergyScore.Compute(f, y, CrpsEstimator.Fair).item<double>(), 7);
    }

    [Fact]
    public void Derived_m6_d3()
    {
        using var f = T(new double[,] { { 1.2657, -0.0297, -2.6398 }, { 0.0511, 2.7478, -0.0641 }, { -1.0302, 1.6991, -0.6237 }, { 0.4875, 0.759, -1.4797 }, { 0.1212, 1.1886, -0.3334 }, { 0.6491, -0.0268, 1.025 } });
        using var y = T(new[] { 0.7978, -0.3781, 1.5822 });
        Assert.Equal(1.9787907987817919, EnergyScore.Compute(f, y, CrpsEstimator.Standard).item<double>(), 12);
        Assert.Equal(1.776765804552433, EnergyScore.Compute(f, y, CrpsEstimator.Fair).item<double>(), 12);
    }

    [Fact]
    public void One_component_equals_crps()
    {
        var gen = new Generator(5);
        using var f = randn(9, 1, 6, generator: gen, dtype: ScalarType.Float64);
        using var y = randn(1, 6, generator: gen, dtype: ScalarType.Float64);
        Close.Absolute(D(EnergyScore.Compute(f, y)), D(Crps.Ensemble(f, y)), 1e-13, "ES D=1 vs CRPS");
    }
}
