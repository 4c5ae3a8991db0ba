using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

public class SphericalNoiseTests
{
    [Fact]
    public void HensParametersMatchTheReference()
    {
        var (phi, kT, f0) = SphericalNoise.Parameters(720, 5e5, 48, 1.0);
        Assert.Equal(0.8824969025845955, phi, 1e-15);
        Assert.Equal(0.003079603487993402, kT, 1e-17);
        Assert.Equal(0.018474399681552626, f0, 1e-15);
        Assert.Equal(0.9784, SphericalNoise.ExpectedMeanSquare(720, 5e5), 1e-4);
    }

    [Fact]
    public void SeedsReproduceAndDiffer()
    {
        using var scope = NewDisposeScope();
        using var a = new SphericalNoise(16, seed: 7, count: 2, lengthScale: 1.5e6);
        using var b = new SphericalNoise(16, seed: 7, count: 2, lengthScale: 1.5e6);
        using var c = new SphericalNoise(16, seed: 8, count: 2, lengthScale: 1.5e6);
        for (int i = 0; i < 3; i++)
        {
            var xa = a.Draw();
            Assert.Equal([2L, 17, 32], xa.shape);
            Assert.True(xa.equal(b.Draw()).all().item<bool>(), $"draw {i} not reproduced by the same seed");
            Assert.True((xa - c.Draw()).abs().max().item<float>() > 1e-2, $"draw {i} equal for different seeds");
            Assert.True(xa.select(1, 16).equal(xa.select(1, 15)).all().item<bool>(), "last row must duplicate row nlat−1");
        }
        Assert.Throws<EnsembleException>(() => new SphericalNoise(1, seed: 1));
    }

    [Fact]
    public void StationaryVarianceMatchesTheExpectedMeanSquare()
    {
        using var scope = NewDisposeScope();
        const int nlat = 32;
        const double L = 1.0e6;
        using var noise = new SphericalNoise(nlat, seed: 3, count: 300, lengthScale: L, dtype: ScalarType.Float64);
        var u = noise.Draw().narrow(1, 0, nlat);                                   // [300, 32, 64]
        var w = tensor(new SphericalGrid(GridType.Equiangular, nlat, 2 * nlat).QuadratureWeights(), dtype: ScalarType.Float64) / 2;
        double ms = ((u.pow(2).mean([-1]) * w).sum(-1)).mean().item<double>();    // area-weighted mean of u²
        double expected = SphericalNoise.ExpectedMeanSquare(nlat, L, lmax: nlat);
        Assert.True(Math.Abs(ms - expected) <= 0.04 * expected, $"mean square {ms:F4}, expected {expected:F4}");
    }

    [Fact]
    public void LagCorrelationFollowsTheAr1Coefficient()
    {
        using var scope = NewDisposeScope();
        const int nlat = 16, steps = 80;
        using var noise = new SphericalNoise(nlat, seed: 5, count: 64, lengthScale: 1.5e6, dtype: ScalarType.Float64);
        var series = stack(Enumerable.Range(0, steps).Select(_ => noise.Draw().narrow(1, 0, nlat)).ToArray(), 0);  // [T, N, lat, lon]
        double Lag(int k)
        {
            var x0 = series.narrow(0, 0, steps - k);
            var x1 = series.narrow(0, k, steps - k);
            return ((x0 * x1).sum() / (x0 * x0).sum().sqrt() / (x1 * x1).sum().sqrt()).item<double>();
        }
        double phi = Math.Exp(-6.0 / 48.0);
        Assert.True(Math.Abs(Lag(1) - phi) <= 0.02, $"lag-1 correlation {Lag(1):F4}, expected φ = {phi:F4}");
        Assert.True(Math.Abs(Lag(2) - phi * phi) <= 0.03, $"lag-2 correlation {Lag(2):F4}, expected φ² = {phi * phi:F4}");
        Assert.True(Math.Abs(Lag(8) - Math.Pow(phi, 8)) <= 0.06, $"lag-8 correlation {Lag(8):F4}, expected φ⁸ = {Math.Pow(phi, 8):F4}");
    }

    [Fact]
    public void SpatialCorrelationFollowsTheLengthScale()
    {
        using var scope = NewDisposeScope();
        const int nlat = 32, nlon = 64, row = 15;
        const double L = 1.5e6;
        using var noise = new SphericalNoise(nlat, seed: 11, count: 400, lengthScale: L, dtype: ScalarType.Float64);
        var u = noise.Draw().select(1, row);                                        // [400, 64] along one latitude
        var grid = new SphericalGrid(GridType.Equiangular, nlat, nlon);
        double x = grid.CosColatitudes()[row];
        double coslat = Math.Sqrt(1 - x * x);
        // Exact covariance of the construction: Σ_l s_l² [P̄_l0² + 4 Σ_{m≥1} P̄_lm² cos mΔλ], s_l² = e^{−kT l(l+1)}
        // (the m = 0 imaginary parts are dropped by the real inverse transform).
        var p = Legendre.Table(nlat + 1, nlat, [x]);
        double kT = Math.Pow(L / SphericalNoise.EarthRadius, 2) / 2;
        double Cov(double dl)
        {
            double s = 0;
            for (int l = 0; l < nlat; l++)
            {
                double t = p[0, l, 0] * p[0, l, 0];
                for (int m = 1; m <= l; m++) t += 4 * p[m, l, 0] * p[m, l, 0] * Math.Cos(m * dl);
                s += Math.Exp(-kT * l * (l + 1)) * t;
            }
            return s;
        }
        for (int j = 1; j <= 4; j++)
        {
            double dl = 2 * Math.PI * j / nlon;
            double measured = ((u * roll(u, j, 1)).sum() / (u * u).sum()).item<double>();
            double exact = Cov(dl) / Cov(0);
            double distance = SphericalNoise.EarthRadius * dl * coslat;
            double gaussian = Math.Exp(-distance * distance / (2 * L * L));
            Assert.True(Math.Abs(measured - exact) <= 0.04, $"Δλ={j}: correlation {measured:F3}, exact {exact:F3}");
            // L is the e^{−1/2} distance of an (approximately) Gaussian correlation, exp(−d²/(2L²)).
            Assert.True(Math.Abs(exact - gaussian) <= 0.08, $"Δλ={j}: exact {exact:F3} vs Gaussian {gaussian:F3} at d={distance / 1e3:F0} km");
        }
    }
}
