using Ensemble.Core;
using Ensemble.Scoring.Spectra;
using Ensemble.Spherical;
using Ensemble.TestSupport;
using Xunit;
using static Ensemble.Scoring.Tests.Reference;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

public class SpectraTests
{
    [Fact]
    public void Wb2_zonal_spectrum_test_vector()
    {
        double[,] field =
        {
            { 1.5233, 1.4585, 0.5349, -0.4169, 0.3185, 0.3912, -1.4214, -0.2872 },
            { -0.6612, 1.4083, 1.7365, -0.6883, -0.4892, -1.2805, 0.298, 0.8464 },
            { 1.8269, -1.2459, 0.9643, -0.1122, -0.6824, -0.3116, -0.7271, 0.4795 },
        };
        double[] expected =
        {
            1951032.9871919914, 9784907.052391173, 12346413.31995163, 1592300.3066042217, 32015.583570013965,
            855737.5147946972, 16258713.484482525, 12683226.588989183, 12956801.100647923, 447395.55100253073,
            16210.31323133405, 4875148.384356837, 4003085.807711237, 13478814.449687518, 5847793.156944912,
        };
        var lat = new double[] { -45, 0, 45 };
        using var s = ZonalEnergySpectrum.Compute(T(field), lat);
        Close.Relative(D(s), expected, 1e-13, "WB2 zonal spectrum");
        using var s2 = ZonalEnergySpectrum.Compute(T(field), lat, doubleNyquist: false);
        var v = D(s2);
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i * 5 + 4] / 2, v[i * 5 + 4], 6);
        var freq = ZonalEnergySpectrum.Frequencies(lat, 8);
        Assert.True(Math.Abs(freq[1, 1] / 2.4994887018750742e-08 - 1) < 1e-14);
        Assert.True(Math.Abs(freq[0, 1] / 3.534810821190051e-08 - 1) < 1e-14);
    }

    [Fact]
    public void Sh_degree_spectrum_test_vector()
    {
        double[,] field =
        {
            { 0.0336, 1.2163, -0.4947, -1.8331, -0.9568, 0.3716, -1.4406, -0.7188, 0.5634, -1.3383 },
            { 0.8692, 0.3662, -0.5542, -0.0161, -0.4704, -0.3684, -0.2996, 0.0441, -0.0641, -0.7168 },
            { -0.9521, 2.0878, -1.0728, -0.1278, 1.2196, 1.0115, -0.7004, 2.0224, 1.7835, -0.2897 },
            { -1.2085, 0.6527, -0.1578, -0.2677, -0.7815, -0.5724, 0.1865, 0.9199, -2.0404, -2.3454 },
            { 0.9849, -0.819, 0.7115, 0.131, 1.2666, 0.9298, -0.2528, -0.1371, 0.3423, 0.765 },
        };
        using var sht = new RealSHT(5, 10, 5, 5, GridType.LegendreGauss, dtype: ScalarType.Float64);
        using var spec = EnsembleSpectrum.Compute(sht, T(field).unsqueeze(0));
        Close.Relative(D(spec.OfMean), new[] { 0.01102003569721766, 0.1562507008211658, 1.5727481558105016, 4.819017338884788, 1.9165108036155063 }, 1e-12, "E(l)");
    }

    [Fact]
    public void Member_spectra_mean_equals_mean_spectrum_plus_spread_spectrum()
    {
        var gen = new Generator(31);
        using var sht = new RealSHT(16, 32, 16, 16, GridType.LegendreGauss, dtype: ScalarType.Float64);
        using var forecast = randn(new long[] { 7, 3, 16, 32 }, generator: gen, dtype: ScalarType.Float64) * 5 + 2;
        using var truth = randn(new long[] { 3, 16, 32 }, generator: gen, dtype: ScalarType.Float64);
        foreach (var kind in new[] { SpectrumKind.Degree, SpectrumKind.Zonal })
        {
            using var s = EnsembleSpectrum.Compute(sht, forecast, truth, kind);
            Assert.Equal(new long[] { 7, 3, 16 }, s.Members.shape);
            Assert.Equal(new long[] { 3, 16 }, s.Truth!.shape);
            Close.Absolute(D(s.MemberMean), D(s.OfMean + s.Deviations), 1e-10, $"identity {kind}");
            // Members really differ from the mean: the spread spectrum is not negligible.
            Assert.True(s.Deviations.sum().item<double>() > 0.5 * s.MemberMean.sum().item<double>());
        }
        // A truth spectrum is that field's own spectrum: a one-member "ensemble" of it has no spread.
        using var one = EnsembleSpectrum.Compute(sht, truth.unsqueeze(0), truth);
        Close.Absolute(D(one.OfMean), D(one.Truth!), 1e-12, "truth");
        Close.Absolute(D(one.Deviations), new double[48], 1e-20, "no spread");
    }

    [Fact]
    public void Zonal_band_member_spectra_mean_equals_mean_spectrum_plus_spread_spectrum()
    {
        var gen = new Generator(47);
        var lat = new double[] { 80, 60, 45, 30, 10, -20, -35, -50, -70 };
        using var forecast = randn(new long[] { 5, 2, 9, 24 }, generator: gen, dtype: ScalarType.Float64) * 3 + 1;
        using var truth = randn(new long[] { 2, 9, 24 }, generator: gen, dtype: ScalarType.Float64);
        using var s = ZonalBandSpectrum.Ensemble(forecast, lat, LatitudeBand.MidLatitudes, truth);
        Assert.Equal(new long[] { 5, 2, 13 }, s.Members.shape);
        Assert.Equal(new long[] { 2, 13 }, s.Truth!.shape);
        using var sum = s.OfMean + s.Deviations;
        Close.Relative(D(s.MemberMean), D(sum), 1e-10, "zonal identity");
        Assert.True(s.Deviations.sum().item<double>() > 0.5 * s.MemberMean.sum().item<double>());
        // Every quantity is the plain band mean of WB2's per-latitude spectrum, computed here from the band rows by hand.
        long[] band = [1, 2, 3, 6, 7];
        using var rows = tensor(band);
        using var own = ZonalEnergySpectrum.Compute(truth.index_select(1, rows), band.Select(i => lat[i]).ToArray());
        Close.Relative(D(s.Truth!), D(own.mean([1L])), 1e-13, "truth band mean");
        using var m2 = ZonalEnergySpectrum.Compute(forecast[2].index_select(1, rows), band.Select(i => lat[i]).ToArray());
        Close.Relative(D(s.Members[2]), D(m2.mean([1L])), 1e-13, "member band mean");
    }

    [Fact]
    public void Zonal_band_spectrum_of_a_single_wave_has_power_only_at_its_wavenumber()
    {
        // f = A cos(k0 λ) on every latitude: S_k0(φ) = C(φ) A²/2 with C = 2πR cos φ (verification-metrics §8.1), 0 elsewhere.
        const int nlon = 20, k0 = 3;
        const double a = 2.5;
        var lat = new double[] { 75, 60, 40, 30.0000000001, 0, -45, -60.5 };
        var field = new double[lat.Length, nlon];
        for (int i = 0; i < lat.Length; i++)
            for (int j = 0; j < nlon; j++) field[i, j] = a * Math.Cos(k0 * 2 * Math.PI * j / nlon);
        using var s = ZonalBandSpectrum.Compute(T(field), lat, LatitudeBand.MidLatitudes);
        var v = D(s);
        Assert.Equal(nlon / 2 + 1, v.Length);
        // Band: 60, 40, 30 (within 1e-6°) and −45; −60.5 and 75 lie outside.
        double expected = new[] { lat[1], lat[2], lat[3], lat[5] }.Average(p => 2 * Math.PI * ZonalEnergySpectrum.Wb2EarthRadius * Math.Cos(p * Math.PI / 180)) * a * a / 2;
        for (int k = 0; k < v.Length; k++)
            Assert.True(k == k0 ? Math.Abs(v[k] / expected - 1) < 1e-12 : Math.Abs(v[k]) < 1e-12 * expected, $"k = {k}: {v[k]} (expected {(k == k0 ? expected : 0)})");
    }

    [Fact]
    public void Zonal_band_without_grid_latitudes_or_inverted_is_a_user_error()
    {
        using var f = zeros(new long[] { 2, 3, 8 }, dtype: ScalarType.Float64);
        var e = Assert.Throws<EnsembleException>(() => ZonalBandSpectrum.Ensemble(f, [90.0, 0, -90], LatitudeBand.MidLatitudes));
        Assert.Contains("30°–60° N/S", e.Message);
        Assert.Throws<EnsembleException>(() => ZonalBandSpectrum.Compute(f, [60.0, 40, 20], new LatitudeBand(50, 40)));
        Assert.Equal(new long[] { 1, 2 }, new LatitudeBand(0, 45).Indices([60.0, 40, -45, -50]));
    }
}
