using Ensemble.Core;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Perturbations.Tests;

/// <summary>HENS bred vectors with a tiny exported SFNO package and synthetic analyses (acceptance of issue 5).</summary>
public sealed class BredVectorTests(ITestOutputHelper output) : IDisposable
{
    static readonly DateTime T0 = new(2020, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    static readonly double[] Amplitudes = [39.27, 0.6, 0.0008];
    readonly TinyModel _model = new();

    public void Dispose() => _model.Dispose();

    static PerturbationConfig Config(string timing = "earth2studio") => new()
    {
        Method = "bred_vector",
        Amplitudes = new() { ["z500"] = Amplitudes[0], ["t850"] = Amplitudes[1], ["q700"] = Amplitudes[2] },
        Timing = timing,
    };

    IInitialPerturbation Create(string timing = "earth2studio") => PerturbationFactory.Create(Config(timing), TinyModel.Channels, TinyModel.NLat, TinyModel.NLon);

    PerturbationRequest Request(IReadOnlyList<long> seeds, List<DateTime>? asked = null) => new(
        TinyModel.Analysis(T0), T0, seeds, _model.Forecaster,
        t => { asked?.Add(t); return TinyModel.Analysis(t); });

    static IReadOnlyList<long> Seeds(int first, int count) => PerturbationSeeds.Pairs(1234, 0, T0, first, count);

    [Theory]
    [InlineData("earth2studio")]
    [InlineData("original")]
    public void HemisphericRmsOfEveryFinalPerturbationEqualsTheTargetAmplitudeNorthAndSouth(string timing)
    {
        using var delta = Create(timing).Perturbations(Request(Seeds(0, 4)));
        Assert.Equal(new long[] { 4, 3, TinyModel.NLat, TinyModel.NLon }, delta.shape);
        double worst = 0;
        for (int p = 0; p < 4; p++)
            for (int c = 0; c < 3; c++)
            {
                var (nh, sh) = Reference.Hemispheres(Reference.Field(delta, p, c));
                worst = Math.Max(worst, Math.Max(Math.Abs(nh / Amplitudes[c] - 1), Math.Abs(sh / Amplitudes[c] - 1)));
            }
        output.WriteLine($"{timing}: worst relative |HRMS − A|/A over 4 pairs × 3 channels × 2 hemispheres = {worst:E2}");
        Assert.True(worst <= 1e-5, $"hemispheric RMS off by {worst:E2}");
    }

    [Fact]
    public void TheSeedIsOnZ500OnlyButBreedingSpreadsItToEveryChannel()
    {
        var bv = (BredVectorPerturbation)Create();
        using var seed = bv.Seed(Seeds(0, 1)[0]);
        Assert.True(seed[0].abs().max().item<double>() > 0);
        Assert.Equal(0.0, seed[1..].abs().max().item<double>());
        // Seed amplitude: A_seed ⊙ u with a unit-variance field, so its RMS is of order A(z500).
        double rms = Math.Sqrt(Reference.Values(seed[0]).Select(v => v * v).Average());
        Assert.InRange(rms / Amplitudes[0], 0.3, 3.0);
        using var delta = bv.Perturbations(Request(Seeds(0, 1)));
        for (int c = 1; c < 3; c++) Assert.True(delta[0, c].abs().max().item<double>() > 0, $"channel {c} stayed unperturbed");
    }

    [Theory]
    [InlineData("earth2studio", new[] { -18, -12, -6 })]
    [InlineData("original", new[] { -12, -6 })]
    public void TheBreedingCycleReadsTheAnalysesOfTheChosenTiming(string timing, int[] hours)
    {
        var asked = new List<DateTime>();
        using var delta = Create(timing).Perturbations(Request(Seeds(0, 2), asked));
        Assert.Equal(hours.Select(h => T0.AddHours(h)), asked);
    }

    [Fact]
    public void APairRecomputedAloneEqualsTheBatchedResultBitForBit()
    {
        var method = Create();
        var seeds = Seeds(0, 5);
        using var batch = method.Perturbations(Request(seeds));
        for (int p = 0; p < seeds.Count; p += 2)
        {
            using var alone = method.Perturbations(Request([seeds[p]]));
            using var row = batch[p].unsqueeze(0);
            Assert.True(Reference.BitEqual(alone, row), $"pair {p} alone differs from the batch (max |diff| {(alone - row).abs().max().item<double>():E3})");
        }
        // And a batch in a different order/composition gives the same rows.
        using var other = method.Perturbations(Request([seeds[3], seeds[1]]));
        Assert.True(Reference.BitEqual(other[0], batch[3]) && Reference.BitEqual(other[1], batch[1]));
    }

    [Fact]
    public void MembersArePlusMinusPairsAroundTheAnalysisClippedAndNeverCumulative()
    {
        var method = Create();
        Assert.Equal([2], method.NonNegativeChannels);        // q700 by the earth2studio rule
        using var analysis = TinyModel.Analysis(T0);
        using var before = analysis.clone();
        using var delta = method.Perturbations(Request(Seeds(0, 6)));
        using var members = CentredPairs.Members(analysis, delta, method.NonNegativeChannels);
        Assert.Equal(new long[] { 12, 3, TinyModel.NLat, TinyModel.NLon }, members.shape);
        Assert.True(Reference.BitEqual(analysis, before), "the analysis was modified");

        var x = Reference.Values(analysis);
        int clipped = 0;
        var rmsByMember = new double[12];
        for (int p = 0; p < 6; p++)
        {
            var d = Reference.Values(delta[p]);
            var plus = Reference.Values(members[2 * p]);
            var minus = Reference.Values(members[2 * p + 1]);
            for (int k = 0; k < x.Length; k++)
            {
                bool q = k / (TinyModel.NLat * TinyModel.NLon) == 2;
                double wantPlus = x[k] + d[k], wantMinus = x[k] - d[k];
                if (q && wantPlus < 0) { Assert.Equal(0.0, plus[k]); clipped++; }
                else Assert.Equal(BitConverter.DoubleToInt64Bits(wantPlus), BitConverter.DoubleToInt64Bits(plus[k]));
                if (q && wantMinus < 0) { Assert.Equal(0.0, minus[k]); clipped++; }
                else
                {
                    Assert.Equal(BitConverter.DoubleToInt64Bits(wantMinus), BitConverter.DoubleToInt64Bits(minus[k]));
                    // Exact negatives around the analysis: the two offsets cancel to the rounding of x ± δ.
                    if (!(q && wantPlus < 0))
                        Assert.True(Math.Abs((plus[k] - x[k]) + (minus[k] - x[k])) <= 2 * Ulp(Math.Max(Math.Abs(x[k]), Math.Max(Math.Abs(plus[k]), Math.Abs(minus[k])))),
                            $"offsets of pair {p} at {k} are not negatives: {plus[k] - x[k]} vs {minus[k] - x[k]}");
                }
                if (q) { Assert.True(plus[k] >= 0 && minus[k] >= 0); }
            }
            for (int s = 0; s < 2; s++)
            {
                var m = s == 0 ? plus : minus;
                rmsByMember[2 * p + s] = Math.Sqrt(Enumerable.Range(0, TinyModel.NLat * TinyModel.NLon).Select(k => (m[k] - x[k]) * (m[k] - x[k])).Average());
            }
        }
        output.WriteLine($"clipped q700 values: {clipped}; z500 RMS(member − analysis) by member: {string.Join(" ", rmsByMember.Select(r => r.ToString("F2")))}");
        Assert.True(clipped > 0, "the test amplitude never drives q700 below zero, so clipping is untested");
        // Not cumulative: member k differs from the analysis by its own δ only, so the RMS does not grow with k
        // (accumulation would make member 11's about √6 × member 1's).
        Assert.True(rmsByMember[10] / rmsByMember[0] < 1.5 && rmsByMember[11] / rmsByMember[1] < 1.5);
        using var d0 = delta[0];
        using var m2 = members[2];
        using var offset = m2 - analysis;
        using var expected = delta[1];
        Assert.True((offset[0] - expected[0]).abs().max().item<double>() <= 1e-9 * 6e4, "member 2 carries more than its own δ");
        Assert.True((offset[0] - expected[0] - d0[0]).abs().max().item<double>() > 1.0, "member 2 contains member 0's δ");
    }

    static double Ulp(double v) => Math.BitIncrement(v) - v;

    [Fact]
    public void SeedsOfDifferentPairsAreIndependent()
    {
        // Correlation of the z500 seed fields of 24 pairs. On the 16×32 grid the 500 km field is white up to l = 15,
        // ~16² = 256 degrees of freedom, so r of two independent fields has σ ≈ 1/√256 ≈ 0.06: the 276 off-diagonal
        // correlations must average within ±0.03 (≈ 8 σ/√276) and none may exceed 0.4 (≈ 6.5 σ).
        var bv = (BredVectorPerturbation)Create();
        var fields = Seeds(0, 24).Select(s => { using var f = bv.Seed(s); return Reference.Values(f[0]); }).ToList();
        var r = new List<double>();
        for (int a = 0; a < fields.Count; a++)
            for (int b = a + 1; b < fields.Count; b++) r.Add(Reference.Correlation(fields[a], fields[b]));
        output.WriteLine($"seed correlations: mean {r.Average():F4}, max |r| {r.Max(Math.Abs):F3}, rms {Math.Sqrt(r.Average(v => v * v)):F3}");
        Assert.InRange(r.Average(), -0.03, 0.03);
        Assert.True(r.Max(Math.Abs) < 0.4);

        // The statistic does detect correlated seeds: consecutive draws of one AR(1) field (earth2studio's batch
        // pitfall, φ = 0.88) fail the same bound.
        using var ar = new Ensemble.Spherical.SphericalNoise(TinyModel.NLat, 99);
        using var u1 = ar.Draw();
        using var u2 = ar.Draw();
        Assert.True(Reference.Correlation(Reference.Values(u1), Reference.Values(u2)) > 0.4);

        // Same seed, same field; and the seed of a pair depends on every part of its identity.
        using var again = bv.Seed(Seeds(0, 1)[0]);
        Assert.True(Reference.BitEqual(again[0], torch.tensor(fields[0]).reshape(TinyModel.NLat, TinyModel.NLon)));
        long s0 = PerturbationSeeds.Pair(1234, 0, T0, 0);
        Assert.Equal(s0, PerturbationSeeds.Pair(1234, 0, DateTime.SpecifyKind(T0, DateTimeKind.Unspecified), 0));
        Assert.Equal(5, new[] { s0, PerturbationSeeds.Pair(1235, 0, T0, 0), PerturbationSeeds.Pair(1234, 1, T0, 0),
            PerturbationSeeds.Pair(1234, 0, T0.AddHours(6), 0), PerturbationSeeds.Pair(1234, 0, T0, 1) }.Distinct().Count());
    }

    [Fact]
    public void MissingModelOrAnalysesOrWrongShapesAreClearErrors()
    {
        var method = Create();
        using var x = TinyModel.Analysis(T0);
        var e = Assert.Throws<EnsembleException>(() => method.Perturbations(new PerturbationRequest(x, T0, Seeds(0, 1))));
        Assert.Contains("model", e.Message);
        e = Assert.Throws<EnsembleException>(() => method.Perturbations(new PerturbationRequest(x, T0, Seeds(0, 1), _model.Forecaster)));
        Assert.Contains("analyses", e.Message);
        using var wrong = torch.zeros(3, 8, 16, dtype: ScalarType.Float64);
        e = Assert.Throws<EnsembleException>(() => method.Perturbations(new PerturbationRequest(x, T0, Seeds(0, 1), _model.Forecaster, _ => wrong)));
        Assert.Contains("[3, 8, 16]", e.Message);
    }
}
