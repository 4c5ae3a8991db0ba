using Ensemble.Spherical;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Perturbations.Tests;

/// <summary>Spherical Gaussian, plain Gaussian and control perturbations.</summary>
public class NoisePerturbationTests(ITestOutputHelper output)
{
    static readonly string[] Channels = ["z500", "t850", "q700"];
    static readonly DateTime T0 = new(2021, 7, 1, 0, 0, 0, DateTimeKind.Utc);
    static readonly double[] A = [30.0, 0.5, 0.0];

    static IInitialPerturbation Create(string method) => PerturbationFactory.Create(
        new PerturbationConfig { Method = method, Amplitudes = new() { ["z500"] = A[0], ["t850"] = A[1], ["q700"] = A[2] } }, Channels, 16, 32);

    static Tensor Run(IInitialPerturbation m, IReadOnlyList<long> seeds) =>
        m.Perturbations(new PerturbationRequest(torch.zeros(3, 16, 32, dtype: ScalarType.Float64), T0, seeds));

    [Theory]
    [InlineData("gaussian")]
    [InlineData("spherical_gaussian")]
    public void PairsAreReproducibleAloneIndependentAndScaledPerChannel(string method)
    {
        var m = Create(method);
        var seeds = PerturbationSeeds.Pairs(7, 2, T0, 0, 16);
        using var d = Run(m, seeds);
        Assert.Equal(new long[] { 16, 3, 16, 32 }, d.shape);
        using var alone = Run(m, [seeds[5]]);
        Assert.True(Reference.BitEqual(alone[0], d[5]), "a pair alone differs from the batch");
        Assert.Equal(0.0, d.select(1, 2).abs().max().item<double>());   // amplitude 0 → unperturbed

        // Grid-point std per channel ≈ A (σ = 1 fields; the spherical field's mean square is ExpectedMeanSquare).
        double expectedMs = method == "gaussian" ? 1.0 : SphericalNoise.ExpectedMeanSquare(16, 5e5);
        for (int c = 0; c < 2; c++)
        {
            double ms = Reference.Values(d.select(1, c)).Average(v => v * v) / (A[c] * A[c]);
            output.WriteLine($"{method} channel {c}: mean square / A² = {ms:F4} (expected {expectedMs:F4})");
            Assert.InRange(ms / expectedMs, 0.85, 1.15);
        }
        // Correlation between pairs ≈ 0 (σ_r ≈ 1/√256 on this grid; 120 pairs of pairs).
        var z = Enumerable.Range(0, 16).Select(p => Reference.Values(d[p, 0])).ToList();
        var r = new List<double>();
        for (int a = 0; a < 16; a++) for (int b = a + 1; b < 16; b++) r.Add(Reference.Correlation(z[a], z[b]));
        output.WriteLine($"{method}: pair correlations mean {r.Average():F4}, max |r| {r.Max(Math.Abs):F3}");
        Assert.InRange(r.Average(), -0.04, 0.04);
        Assert.True(r.Max(Math.Abs) < 0.4);
        // Channels of one pair are independent fields too.
        Assert.InRange(Reference.Correlation(Reference.Values(d[0, 0]), Reference.Values(d[0, 1])), -0.4, 0.4);
    }

    [Fact]
    public void TheSphericalFieldIsSmootherThanWhiteNoise()
    {
        // Lag-1 correlation along longitude: ≈ 0 for white noise, clearly positive for the 500 km field… on a 16×32 grid
        // (1250 km spacing) it is weak, so use a larger length scale to make the difference unmistakable.
        var cfg = new PerturbationConfig { Method = "spherical_gaussian", Amplitudes = new() { ["z500"] = 1.0 }, Noise = new NoiseConfig { LengthScale = 3e6 } };
        var sph = PerturbationFactory.Create(cfg, Channels, 16, 32);
        var white = PerturbationFactory.Create(cfg with { Method = "gaussian" }, Channels, 16, 32);
        double Lag1(IInitialPerturbation m)
        {
            using var d = Run(m, PerturbationSeeds.Pairs(1, 0, T0, 0, 4));
            using var z = d.select(1, 0);
            using var rolled = z.roll(1, -1);
            return Reference.Correlation(Reference.Values(z), Reference.Values(rolled));
        }
        double rs = Lag1(sph), rw = Lag1(white);
        output.WriteLine($"lag-1 correlation: spherical {rs:F3}, white {rw:F3}");
        Assert.True(rs > 0.5 && Math.Abs(rw) < 0.15);
    }

    [Fact]
    public void TheControlIsZero()
    {
        var m = PerturbationFactory.Create(PerturbationConfig.Parse("method: none"), Channels, 16, 32);
        Assert.Equal("none", m.Name);
        using var d = Run(m, [1, 2, 3]);
        Assert.Equal(new long[] { 3, 3, 16, 32 }, d.shape);
        Assert.Equal(0.0, d.abs().max().item<double>());
        using var none = Run(m, []);
        Assert.Equal(0, none.shape[0]);
    }
}
