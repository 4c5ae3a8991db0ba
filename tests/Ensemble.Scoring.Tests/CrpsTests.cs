using Ensemble.Scoring.Probabilistic;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Scoring.Tests.Reference;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

public class CrpsTests
{
    static double One(double obs, double[] members, CrpsEstimator est)
    {
        using var f = tensor(members, dtype: ScalarType.Float64);
        using var y = tensor(obs, dtype: ScalarType.Float64);
        using var r = Crps.Ensemble(f, y, est);
        return r.item<double>();
    }

    // properscoring tests/test_crps.py (standard) and the derived fair values (verification-metrics.md §12.1).
    [Theory]
    [InlineData(0, new double[] { -1 }, 1.0)]
    [InlineData(0, new double[] { 0 }, 0.0)]
    [InlineData(0, new double[] { 1 }, 1.0)]
    [InlineData(0, new double[] { 0, 0 }, 0.0)]
    [InlineData(0, new double[] { 0, 1 }, 0.25)]
    [InlineData(0, new double[] { 1, 0 }, 0.25)]
    [InlineData(0, new double[] { 1, 1 }, 1.0)]
    [InlineData(2, new double[] { 0, 1 }, 1.25)]
    [InlineData(0, new double[] { -1, 1 }, 0.5)]
    [InlineData(0, new double[] { 0, 0, 1 }, 1.0 / 9)]
    [InlineData(1, new double[] { 0, 0, 1 }, 4.0 / 9)]
    [InlineData(0, new double[] { -1, 0, 0, 1 }, 1.0 / 8)]
    public void Properscoring_standard_values(double obs, double[] members, double expected) =>
        Assert.Equal(expected, One(obs, members, CrpsEstimator.Standard), 12);

    [Theory]
    [InlineData(0, new double[] { 0, 1 }, 0.0)]
    [InlineData(2, new double[] { 0, 1 }, 1.0)]
    [InlineData(0, new double[] { -1, 1 }, 0.0)]
    [InlineData(0, new double[] { 0, 0, 1 }, 0.0)]
    [InlineData(1, new double[] { 0, 0, 1 }, 1.0 / 3)]
    [InlineData(0, new double[] { -1, 0, 0, 1 }, 0.0)]
    [InlineData(0.3, new double[] { 1, 1, 1 }, 0.7)]
    public void Fair_values(double obs, double[] members, double expected) =>
        Assert.Equal(expected, One(obs, members, CrpsEstimator.Fair), 12);

    [Fact]
    public void Single_member_edge_cases()
    {
        Assert.Equal(0.0, One(0.5, new[] { 0.5 }, CrpsEstimator.Standard), 15);
        Assert.True(double.IsNaN(One(0.5, new[] { 0.5 }, CrpsEstimator.Fair)));
        Assert.Equal(0.7, One(0.3, new double[] { 1, 1, 1 }, CrpsEstimator.Standard), 12);
    }

    [Fact]
    public void Translation_of_properscoring()
    {
        var u = new[] { 0.1, 0.4, 0.45, 0.8, 0.95 };
        Assert.Equal(0.1 + One(0, u, CrpsEstimator.Standard), One(-0.1, u, CrpsEstimator.Standard), 12);
    }

    // properscoring weighted cases (§12.1).
    [Theory]
    [InlineData(1, new double[] { 0, 2 }, new double[] { .5, .5 }, 0.5)]
    [InlineData(1, new double[] { 0, 2 }, new double[] { .8, .2 }, 0.68)]
    [InlineData(1.5, new double[] { 0, 2 }, new double[] { .8, .2 }, 0.98)]
    [InlineData(1, new double[] { 0, 3 }, new double[] { .5, .5 }, 0.75)]
    [InlineData(1, new double[] { -1, 3 }, new double[] { .5, .5 }, 1.0)]
    [InlineData(1, new double[] { 0, 2 }, new double[] { 1, 0 }, 1.0)]
    [InlineData(1, new double[] { 0, 1, 2 }, new double[] { 1, 1, 1 }, 2.0 / 9)]
    [InlineData(-1, new double[] { 0, 1, 2 }, new double[] { 1, 1, 1 }, 14.0 / 9)]
    [InlineData(2.5, new double[] { 0, 1, 2 }, new double[] { 1, 1, 1 }, 19.0 / 18)]
    [InlineData(1, new double[] { 0, 1, 2, 3 }, new double[] { 1, 1, 1, 1 }, 3.0 / 8)]
    public void Properscoring_weighted_values(double obs, double[] members, double[] weights, double expected)
    {
        using var r = Crps.EnsembleWeighted(T(members), tensor(obs), T(weights));
        Assert.Equal(expected, r.item<double>(), 12);
    }

    static readonly double[] SrMembers = { 1.7812118, 0.5863797, 0.7038174, -0.7743998, -0.2751647, 1.1863249, 1.2990966, -0.3242982, -0.5968781, 0.9064937 };

    [Fact]
    public void Scoringrules_values()
    {
        Assert.Equal(0.6126602, One(-0.6042506, SrMembers, CrpsEstimator.Standard), 7);
        Assert.Equal(0.5598959288888888, One(-0.6042506, SrMembers, CrpsEstimator.Fair), 9);
        using var w = arange(0, 10, dtype: ScalarType.Float64);
        using var r = Crps.EnsembleWeighted(T(SrMembers), tensor(-0.6042506), w);
        Assert.Equal(0.4923673, r.item<double>(), 7);
    }

    // verification-metrics.md §13.1: 5 cases × 8 members, batched ([M, points]).
    [Fact]
    public void Derived_five_cases_batched()
    {
        double[] obs = { 10.3129, 9.8692, 11.27, 9.907, 9.9338 };
        double[,] cases =
        {
            { 7.8643, 11.8956, 8.694, 9.6112, 9.887, 8.8887, 7.9483, 10.9733 },
            { 10.5416, 7.0707, 13.5211, 11.4527, 8.8609, 11.3533, 9.2996, 9.909 },
            { 11.1833, 8.115, 10.8638, 12.0985, 11.9834, 9.5505, 11.3544, 7.5676 },
            { 9.7627, 10.6742, 7.9846, 9.8775, 12.5871, 13.9272, 11.166, 11.2429 },
            { 8.5615, 8.1859, 7.8816, 10.8123, 11.1279, 9.0119, 8.157, 10.3863 },
        };
        double[] std = { 0.6589125000000002, 0.46186406250000034, 0.4496765625000002, 0.5775093750000002, 0.6268343749999998 };
        double[] fair = { 0.5525607142857145, 0.31698571428571465, 0.32291428571428593, 0.4428928571428574, 0.5307357142857141 };
        using var f = T(cases).t().contiguous();
        using var y = T(obs);
        using var s = Crps.Ensemble(f, y, CrpsEstimator.Standard);
        using var fa = Crps.Ensemble(f, y, CrpsEstimator.Fair);
        Close.Absolute(D(s), std, 1e-12, "standard");
        Close.Absolute(D(fa), fair, 1e-12, "fair");
    }

    [SkippableFact]
    public void Earthkit_27_cases()
    {
        var json = Load("crps_earthkit_meteo.json");
        var obs = Vector(json.GetProperty("obs")[0]);
        var ens = Matrix(json.GetProperty("ens")); // [cases, members]
        var expected = Vector(json.GetProperty("v_ref"));
        using var f = T(ens).t().contiguous();
        using var r = Crps.Ensemble(f, T(obs), CrpsEstimator.Standard);
        Close.Absolute(D(r), expected, 1e-9, "earthkit crps_from_ensemble");
        // Derived fair values of the first three cases (§12.4).
        using var fr = Crps.Ensemble(f, T(obs), CrpsEstimator.Fair);
        Close.Absolute(D(fr)[..3], new[] { 0.11120782608696, 1.33216123188406, 0.13801398550725 }, 1e-9, "fair");
    }

    [Fact]
    public void Fair_and_standard_satisfy_the_identity()
    {
        // CRPS = fCRPS + Ê/(2M), Ê = ΣΣ|x_i − x_j|/(M(M−1)), checked against an O(M²) pair sum.
        var gen = new Generator(7);
        long m = 13;
        using var f = randn(m, 4, 5, generator: gen, dtype: ScalarType.Float64) * 3 + 5e4;
        using var y = randn(4, 5, generator: gen, dtype: ScalarType.Float64) * 3 + 5e4;
        using var s = Crps.Ensemble(f, y, CrpsEstimator.Standard);
        using var fa = Crps.Ensemble(f, y, CrpsEstimator.Fair);
        using var pairs = (f.unsqueeze(0) - f.unsqueeze(1)).abs().sum([0L, 1L]);
        using var ehat = pairs / (m * (m - 1.0));
        using var rhs = fa + ehat / (2.0 * m);
        Close.Absolute(D(s), D(rhs), 1e-9, "identity");
        // Direct O(M²) definitions.
        using var skill = (f - y.unsqueeze(0)).abs().mean([0L]);
        Close.Absolute(D(s), D(skill - pairs / (2.0 * m * m)), 1e-9, "standard direct");
        Close.Absolute(D(fa), D(skill - pairs / (2.0 * m * (m - 1))), 1e-9, "fair direct");
    }

    [Theory]
    [InlineData(1.02, 1, 1, 0.23385454884825208)]
    [InlineData(0, 0, 1, 0.23369497725510913)]
    [InlineData(3, 0.5, 2, 1.5739683061262981)]
    [InlineData(-1, 2, 0.5, 2.717905208382479)]
    [InlineData(1, 1, 0, 0.0)]
    [InlineData(3, 1, 0, 2.0)]
    public void Gaussian_closed_form(double y, double mu, double sigma, double expected) =>
        Assert.Equal(expected, Crps.Gaussian(mu, sigma, y), 12);

    [Fact]
    public void Gaussian_agrees_with_a_100000_member_sample()
    {
        var gen = new Generator(11);
        double mu = 1.5, sigma = 2.0;
        using var members = randn(100_000, 3, generator: gen, dtype: ScalarType.Float64) * sigma + mu;
        using var y = tensor(new[] { 1.5, -1.0, 6.0 }, dtype: ScalarType.Float64);
        using var fair = Crps.Ensemble(members, y, CrpsEstimator.Fair);
        using var closed = Crps.Gaussian(full(3, mu, dtype: ScalarType.Float64), full(3, sigma, dtype: ScalarType.Float64), y);
        Close.Absolute(D(fair), D(closed), 1e-2, "Gaussian vs sample");
    }

    [Fact]
    public void Threshold_weighted_applies_the_chaining_function()
    {
        using var f = T(new double[] { -1, 0.5, 2, 3 });
        using var y = tensor(0.2);
        using var tw = Crps.ThresholdWeighted(f, y, 1.0, CrpsEstimator.Standard);
        // max(X, 1) = [1, 1, 2, 3], max(y, 1) = 1.
        Assert.Equal(One(1.0, new double[] { 1, 1, 2, 3 }, CrpsEstimator.Standard), tw.item<double>(), 14);
        // Below-threshold differences do not count.
        using var tw2 = Crps.ThresholdWeighted(T(new double[] { -5, -3 }), tensor(-4.0), 0.0, CrpsEstimator.Fair);
        Assert.Equal(0.0, tw2.item<double>(), 15);
    }

    [Fact]
    public void Integral_of_brier_over_thresholds_equals_standard_crps()
    {
        double[] members = { 0.3, -1.2, 2.2, 0.9, 0.9, 1.7 };
        double obs = 0.5;
        using var f = T(members);
        using var y = tensor(obs);
        double lo = -3, hi = 4;
        int n = 70_001;
        double dt = (hi - lo) / (n - 1), integral = 0;
        using var thr = linspace(lo, hi, n, dtype: ScalarType.Float64);
        using var fb = f.unsqueeze(1).expand(members.Length, n);
        using var yb = y.expand(n);
        using var bs = Brier.Score(fb, yb, thr);
        var v = D(bs);
        for (int i = 0; i < n; i++) integral += v[i] * ((i == 0 || i == n - 1) ? dt / 2 : dt);
        Assert.Equal(One(obs, members, CrpsEstimator.Standard), integral, 3);
    }

    [Fact]
    public void Shape_mismatch_is_a_user_error() =>
        Assert.Throws<Ensemble.Core.EnsembleException>(() => Crps.Ensemble(zeros(3, 4, 5), zeros(4, 6)));
}
