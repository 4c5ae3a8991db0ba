using System.Text.Json;
using Ensemble.Scoring.Extremes;
using Ensemble.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static Ensemble.Scoring.Tests.Reference;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

public class ExtremesTests(ITestOutputHelper output)
{
    static double Eps(JsonElement c) =>
        c.TryGetProperty("eps", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetDouble() : -0.1;

    [SkippableFact]
    public void Earthkit_efi_cases()
    {
        var json = Load("efi_sot_earthkit_meteo.json");
        foreach (var c in json.GetProperty("cases").EnumerateArray())
        {
            using var clim = T(Vector(c.GetProperty("clim")));
            using var ens = T(Vector(c.GetProperty("ens")));
            using var efi = Efi.FromPercentiles(clim.unsqueeze(1), ens.unsqueeze(1), Eps(c));
            Assert.True(Math.Abs(efi.item<double>() - c.GetProperty("efi_expected").GetDouble()) <= 1e-9,
                $"EFI {efi.item<double>():R} vs {c.GetProperty("efi_expected").GetDouble():R}");
        }
    }

    [SkippableFact]
    public void Earthkit_efi_first_case_with_eps_and_sorted_members()
    {
        var c = Load("efi_sot_earthkit_meteo.json").GetProperty("cases")[0];
        using var clim = T(Vector(c.GetProperty("clim"))).unsqueeze(1);
        using var ens = T(Vector(c.GetProperty("ens"))).unsqueeze(1);
        Assert.Equal(-0.18384250406420133, Efi.FromPercentiles(clim, ens, 1e-4).item<double>(), 12);
        using var sorted = ens.sort(0).Values;
        Assert.Equal(-0.1838425040642013, Efi.FromPercentiles(clim, sorted).item<double>(), 12);
        using var nanClim = full(101, 1, double.NaN, dtype: ScalarType.Float64);
        Assert.True(double.IsNaN(Efi.FromPercentiles(nanClim, full(51, 1, double.NaN, dtype: ScalarType.Float64)).item<double>()));
    }

    [SkippableFact]
    public void Earthkit_sot_cases()
    {
        var json = Load("efi_sot_earthkit_meteo.json");
        var c0 = json.GetProperty("cases")[0];
        using var clim = T(Vector(c0.GetProperty("clim"))).unsqueeze(1);
        using var ens = T(Vector(c0.GetProperty("ens"))).unsqueeze(1);
        // Upstream tests use allclose (rtol 1e-5) and publish 8-9 significant digits.
        Assert.Equal(c0.GetProperty("sot90_expected").GetDouble(), Sot.Compute(clim, ens, 90).item<double>(), 8);
        Assert.Equal(c0.GetProperty("sot10_expected").GetDouble(), Sot.Compute(clim, ens, 10).item<double>(), 7);
        var c2 = json.GetProperty("cases")[2];
        using var clim2 = T(Vector(c2.GetProperty("clim"))).unsqueeze(1);
        using var ens2 = T(Vector(c2.GetProperty("ens"))).unsqueeze(1);
        Assert.True(double.IsNaN(Sot.Compute(clim2, ens2, 90, eps: 1e4).item<double>()));

        foreach (var c in json.GetProperty("sot_definition_cases").GetProperty("cases").EnumerateArray())
        {
            double eps = c.TryGetProperty("eps", out var e) ? e.GetDouble() : -1e-4;
            using var r = Sot.FromQuantiles(T(Vector(c.GetProperty("qc_tail"))), T(Vector(c.GetProperty("qc"))), T(Vector(c.GetProperty("qf"))), eps);
            var got = D(r);
            var want = Vector(c.GetProperty("expected"));
            for (int i = 0; i < want.Length; i++)
                Assert.True(double.IsNaN(want[i]) ? double.IsNaN(got[i]) : Math.Abs(got[i] - want[i]) <= 1e-12, $"sot_func {i}: {got[i]} vs {want[i]}");
        }
        foreach (var (a, b, f) in new[] { (0.05, 0.1, double.NaN), (0.05, double.NaN, 0.1), (double.NaN, 0.1, 0.2) })
            Assert.True(double.IsNaN(Sot.FromQuantiles(tensor(a), tensor(b), tensor(f)).item<double>()));
    }

    [SkippableFact]
    public void Earthkit_cpf_cases()
    {
        // Upstream's test arrays are float32 and CPF is computed and stored in float32: in float32 mode the
        // results must equal the references exactly; in float64 they agree to the float32 rounding of the
        // (cancelling) crossing interpolation, ≤ 1e-6.
        var a = Load("cpf_earthkit_meteo.json").GetProperty("arrays");
        void Check(string clim, string ens, string val, double? eps = null, bool sym = false, bool fromZero = false)
        {
            using var c = T(Matrix(a.GetProperty(clim))).to(ScalarType.Float32);
            using var e = T(Matrix(a.GetProperty(ens))).to(ScalarType.Float32);
            var want = Vector(a.GetProperty(val));
            var got32 = D(Cpf.Compute(c, e, epsilon: eps, symmetric: sym, fromZero: fromZero, precision: ScalarType.Float32));
            var got64 = D(Cpf.Compute(c, e, epsilon: eps, symmetric: sym, fromZero: fromZero));
            for (int i = 0; i < want.Length; i++)
            {
                Assert.True((float)got32[i] == (float)want[i], $"{val}[{i}] float32: {got32[i]:R} vs {want[i]:R}");
                Assert.True(Math.Abs(got64[i] - want[i]) <= 1e-6, $"{val}[{i}] float64: {got64[i]:R} vs {want[i]:R}");
            }
        }
        Check("cpf_clim", "cpf_ens", "cpf_val");
        Check("cpf_clim2", "cpf_ens2", "cpf_val2", eps: 0.5);
        Check("cpf_clim3", "cpf_ens3", "cpf_val3", sym: true);
        Check("cpf_clim", "cpf_ens", "cpf_val_fromzero", fromZero: true);
    }

    [Theory]
    [InlineData(0.9, 0.5903344706017332)]
    [InlineData(0.95, 0.7128674137425873)]
    [InlineData(0.99, 0.8724628782829602)]
    [InlineData(0.5, 0.0)]
    public void Closed_form_values(double q, double expected) => Assert.Equal(expected, Efi.OfQuantileLevel(q), 14);

    [Fact]
    public void Efi_is_exactly_plus_minus_one_beyond_the_climate_extremes()
    {
        var gen = new Generator(1);
        using var sample = randn(500, 3, 4, generator: gen, dtype: ScalarType.Float64);
        var clim = ModelClimate.FromSample(sample);
        using var above = clim.Values[100].unsqueeze(0) + 1 + rand(20, 3, 4, generator: gen, dtype: ScalarType.Float64);
        using var below = clim.Values[0].unsqueeze(0) - 1 - rand(20, 3, 4, generator: gen, dtype: ScalarType.Float64);
        Close.Absolute(D(Efi.FromPercentiles(clim, above)), Enumerable.Repeat(1.0, 12).ToArray(), 1e-12, "+1");
        Close.Absolute(D(Efi.FromPercentiles(clim, below)), Enumerable.Repeat(-1.0, 12).ToArray(), 1e-12, "-1");
        Close.Absolute(D(Efi.FromSample(sample, above)), Enumerable.Repeat(1.0, 12).ToArray(), 1e-12, "+1 sample");
        Close.Absolute(D(Efi.FromSample(sample, below)), Enumerable.Repeat(-1.0, 12).ToArray(), 1e-12, "-1 sample");
    }

    [Fact]
    public void Concentrated_forecast_gives_the_closed_form()
    {
        // Raw-sample method: members all equal to c₍ₖ₎ give exactly (2/π)·asin(2Q − 1) with Q = (k − 1)/N.
        int n = 400;
        var gen = new Generator(2);
        using var sample = randn(n, 1, generator: gen, dtype: ScalarType.Float64);
        using var sorted = sample.sort(0).Values;
        double maxDiscreteError = 0;
        var clim = ModelClimate.FromSample(sample);
        foreach (int k in new[] { 1, 40, 200, 361, 396, 400 })
        {
            using var ens = sorted[k - 1].expand(25, 1);
            double q = (k - 1.0) / n;
            Assert.Equal(Efi.OfQuantileLevel(q), Efi.FromSample(sample, ens).item<double>(), 12);
        }
        // 101-quantile method: a forecast at climate quantile level Q inside (p_j, p_j+1) has F ramping
        // linearly across that one segment, so its EFI lies between the closed forms at p_j and p_j+1.
        using var climUniform = linspace(0, 1, 101, dtype: ScalarType.Float64).unsqueeze(1);
        for (double q = 0.005; q < 1; q += 0.01)
        {
            using var ens = full(25, 1, q, dtype: ScalarType.Float64);
            double efi = Efi.FromPercentiles(climUniform, ens).item<double>();
            int j = (int)Math.Floor(q * 100);
            Assert.InRange(efi, Efi.OfQuantileLevel(j / 100.0) - 1e-12, Efi.OfQuantileLevel((j + 1) / 100.0) + 1e-12);
            maxDiscreteError = Math.Max(maxDiscreteError, Math.Abs(efi - Efi.OfQuantileLevel(q)));
        }
        output.WriteLine($"101-quantile EFI, one-valued forecast at mid-segment Q: max |EFI − (2/π)asin(2Q−1)| = {maxDiscreteError:E3}");
        Assert.True(maxDiscreteError < 0.02, $"discretisation error {maxDiscreteError}");
        _ = clim;
    }

    [Fact]
    public void Efi_is_near_zero_when_members_come_from_the_climate()
    {
        // 4,000 grid points; climate sample of 1,980 (ECMWF re-forecast size) and 51 members from the same N(0, 1).
        var gen = new Generator(42);
        using var sample = randn(1980, 4000, generator: gen, dtype: ScalarType.Float64);
        using var ens = randn(51, 4000, generator: gen, dtype: ScalarType.Float64);
        var clim = ModelClimate.FromSample(sample);
        var e101 = D(Efi.FromPercentiles(clim, ens));
        var eRaw = D(Efi.FromSample(sample, ens));
        double mean101 = e101.Average(), meanRaw = eRaw.Average();
        double sd101 = Math.Sqrt(e101.Select(v => (v - mean101) * (v - mean101)).Sum() / (e101.Length - 1));
        output.WriteLine($"members from climate: 101-quantile EFI mean {mean101:E3} (sd {sd101:F4}), raw-sample EFI mean {meanRaw:E3}");
        // Standard error of the mean ≈ sd/√4000 ≈ 0.002: allow 4 standard errors.
        Assert.InRange(mean101, -4 * sd101 / Math.Sqrt(4000), 4 * sd101 / Math.Sqrt(4000));
        Assert.InRange(meanRaw, -4 * sd101 / Math.Sqrt(4000) - 1.0 / 1980, 4 * sd101 / Math.Sqrt(4000));

        // Discretisation alone: forecast CDF identical to the climate's (members = the climate sample).
        using var one = randn(1980, 1, generator: gen, dtype: ScalarType.Float64);
        var c1 = ModelClimate.FromSample(one);
        double d101 = Efi.FromPercentiles(c1, one).item<double>();
        double dRaw = Efi.FromSample(one, one).item<double>();
        output.WriteLine($"forecast = climate sample (N = 1980): 101-quantile EFI {d101:E3}, raw-sample EFI {dRaw:E3} (−1/N = {-1.0 / 1980:E3})");
        Assert.InRange(d101, -2e-3, 2e-3);
        Assert.InRange(dRaw, -3.0 / 1980, 0);
    }

    [Fact]
    public void Model_climate_uses_numpy_linear_percentiles()
    {
        using var sample = T(Enumerable.Range(0, 11).Select(i => (double)(10 - i)).ToArray()).unsqueeze(1); // 10 … 0
        var clim = ModelClimate.FromSample(sample);
        Assert.Equal(new long[] { 101, 1 }, clim.Values.shape);
        var v = D(clim.Values);
        for (int k = 0; k <= 100; k++) Assert.Equal(k / 10.0, v[k], 12);
        using var thr = ExtremeThresholds.TruthPercentile(sample, 95);
        Assert.Equal(9.5, thr.item<double>(), 12);
        using var ev = ExtremeThresholds.Events(T(new[] { 9.4, 9.6 }), thr);
        Assert.Equal(new[] { 0.0, 1.0 }, D(ev));
    }
}
