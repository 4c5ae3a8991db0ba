using Ensemble.Scoring.Probabilistic;
using Xunit;
using static Ensemble.Scoring.Tests.Reference;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

public class RpsTests
{
    // xskillscore test_rps_wilks_example (Wilks 2006, p. 301), verification-metrics.md §12.5.
    [Theory]
    [InlineData(0.0001, 0.73, 0.89)]
    [InlineData(0.3, 0.53, 0.29)]
    public void Wilks_example(double obs, double rpsF1, double rpsF2)
    {
        double[] f1 = { 0, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3 };
        double[] f2 = { 0, 0, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3, 0.3, 0.3 };
        var edges = new[] { 0, 0.01, 0.24, 1.0 };
        Assert.Equal(rpsF1, Rps.FromEnsemble(T(f1), tensor(obs), edges).item<double>(), 12);
        Assert.Equal(rpsF2, Rps.FromEnsemble(T(f2), tensor(obs), edges).item<double>(), 12);
    }

    [Fact]
    public void Scoringrules_probability_example() =>
        Assert.Equal(0.1619, Rps.FromProbabilities(new[] { 0.01, 0.32, 0.44, 0.23 }, 2), 12);

    [Fact]
    public void Hens_extreme_scores()
    {
        using var ls = ExtremeEventScores.LogScore(T(new[] { 0.2, 0.9 }), T(new[] { 0.0, 1.0 }));
        var v = D(ls);
        Assert.Equal(-Math.Log(0.8 + 1e-9), v[0], 14);
        Assert.Equal(-Math.Log(0.9 + 1e-9), v[1], 14);
        Assert.Equal(0.0, ExtremeEventScores.Edi(0.3, 0.3), 14);
        Assert.True(ExtremeEventScores.Edi(0.05, 0.8) > 0.8);
        using var tw = ExtremeEventScores.ThresholdWeightedMae(T(new[] { 1.0, 3.0 }), T(new[] { 2.5, 0.0 }), 2.0);
        Assert.Equal(new[] { 0.5, 1.0 }, D(tw));
        var diagram = Reliability.Compute(new[] { 0.05, 0.05, 0.95, 0.95 }, new[] { 0.0, 0.0, 1.0, 1.0 });
        var dec = ExtremeEventScores.Decompose(diagram, 0.5);
        Assert.Equal(0.05 * 0.05, dec.Reliability, 14);
        Assert.Equal(0.25, dec.Resolution, 14);
        Assert.Equal(0.25, dec.Uncertainty, 14);
    }
}
