using Ensemble.Core.Native;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Models.Tests;

/// <summary>The native pointwise kernels: the GELU against libtorch's exact (erf) GELU, and the tiles against the libtorch tiles.</summary>
public unsafe class PointwiseKernelsTests
{
    [Fact]
    public void Gelu_matches_the_erf_form_to_float_precision()
    {
        // Dense over [−12, 12] (both tails), plus zeros and values around the exp clamp.
        var values = Enumerable.Range(-120_000, 240_001).Select(i => i * 1e-4f).Concat([0f, -0f, -40f, -1e4f, 1e4f, 3.4e38f, -3.4e38f]).ToArray();
        using var x = torch.tensor(values);
        using var y = torch.empty_like(x);
        PointwiseKernels.NormAct((float*)Mkl.Data(x), values.Length, (float*)Mkl.Data(y), values.Length, 1, values.Length, null, null, null, "gelu");
        using var x64 = x.to(ScalarType.Float64);
        using var want = torch.nn.functional.gelu(x64);
        using var err = (y.to(ScalarType.Float64) - want).abs();
        using var bound = x64.abs().clamp_min(1.0).mul(3e-7);
        Assert.True(err.le(bound).all().item<bool>(), $"max |error| {err.max().item<double>():E3} at x = {x[err.argmax()].item<float>()} (worst ratio at {x[(err / bound).argmax()].item<float>()})");
        Assert.Equal(0f, y[values.Length - 7].item<float>());
        Assert.Equal(3.4e38f, y[values.Length - 2].item<float>());
        Assert.Equal(0f, y[values.Length - 1].item<float>());
    }

    [Theory]
    [InlineData(true, true, true, true)]
    [InlineData(true, false, true, true)]
    [InlineData(false, true, false, true)]
    [InlineData(false, false, true, true)]
    [InlineData(true, true, true, false)]
    [InlineData(true, false, true, false)]
    [InlineData(false, true, false, false)]
    [InlineData(false, false, true, false)]
    public void Native_tiles_match_the_libtorch_tiles(bool norms, bool mlp, bool biases, bool strips)
    {
        Assert.True(NativeKernels.Enabled, Mkl.Unavailable);
        Assert.True(!strips || SmallGemm.Supported, "AVX2/FMA");
        PointwiseFusion.Strips = strips;                                      // per thread; restored below
        try { TilesMatch(norms, mlp, biases); }
        finally { PointwiseFusion.Strips = true; }
    }

    static void TilesMatch(bool norms, bool mlp, bool biases)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        const int E = 24, Hidden = 40;
        var gen = new Generator(11);
        var norm0 = norms ? nn.InstanceNorm2d(E, eps: 1e-6, affine: true) : null;
        var norm1 = norms ? nn.InstanceNorm2d(E, eps: 1e-6, affine: true) : null;
        var mlpModule = mlp ? new SfnoMlp(E, Hidden, "gelu", new SfnoPrecision(ScalarType.Float32, ScalarType.Float32), ScalarType.Float32) : null;
        var skip = nn.Conv2d(E, E, 1, bias: false);
        foreach (var p in new nn.Module?[] { norm0, norm1, mlpModule, skip }.Where(m => m is not null).SelectMany(m => m!.parameters()))
            p.copy_(randn(p.shape, generator: gen));
        if (!biases && mlpModule is not null) { mlpModule.Fc1.bias!.zero_(); mlpModule.Fc2.bias!.zero_(); }
        // 37×200 points: several 512 KB tiles, a ragged last tile and row lengths that are not multiples of 8.
        var z = randn([2, E, 37, 200], generator: gen).mul(3).add(1.5);
        var r = randn([2, E, 37, 200], generator: gen);
        var native = PointwiseFusion.BlockRest(z, r, norm0, norm1, "gelu", mlpModule, skip);
        Tensor reference;
        using (NativeKernels.Suppress()) reference = PointwiseFusion.BlockRest(z, r, norm0, norm1, "gelu", mlpModule, skip);
        double rel = (native - reference).abs().max().item<float>() / reference.abs().max().item<float>();
        Assert.True(rel <= 2e-6, $"block rest: {rel:E3}");

        var first = nn.Conv2d(5, Hidden, 1, bias: biases);
        var last = nn.Conv2d(Hidden, 7, 1, bias: biases);
        var big = nn.Conv2d(5, 7, 1, bias: false);
        foreach (var p in first.parameters().Concat(last.parameters()).Concat(big.parameters())) p.copy_(randn(p.shape, generator: gen));
        var x = randn([2, 5, 37, 200], generator: gen);
        var enc = PointwiseFusion.EncoderDecoder(x, first, last, "gelu", big, x);
        Tensor encRef;
        using (NativeKernels.Suppress()) encRef = PointwiseFusion.EncoderDecoder(x, first, last, "gelu", big, x);
        double erel = (enc - encRef).abs().max().item<float>() / encRef.abs().max().item<float>();
        Assert.True(erel <= 2e-6, $"encoder/decoder: {erel:E3}");
    }

    [Fact]
    public void MeanAndM2_match_float64_two_pass_sums_also_for_a_large_mean()
    {
        var rng = new Random(3);
        foreach (var (mean, spread, n) in new[] { (0.0, 1.0, 1000), (1e4, 1e-2, 4099), (-3e3, 5.0, 7), (2.0, 0.0, 64) })
        {
            var x = Enumerable.Range(0, n).Select(_ => (float)(mean + spread * (rng.NextDouble() * 2 - 1))).ToArray();
            double mu = x.Average(v => (double)v), m2 = x.Sum(v => ((double)v - mu) * ((double)v - mu));
            (double gotMean, double gotM2) r;
            fixed (float* p = x) r = PointwiseKernels.MeanAndM2(p, n);
            Assert.True(Math.Abs(r.gotMean - mu) <= 1e-12 * Math.Max(1, Math.Abs(mu)), $"mean {r.gotMean} vs {mu}");
            Assert.True(Math.Abs(r.gotM2 - m2) <= 1e-9 * Math.Max(1e-30, m2) + 1e-20, $"M2 {r.gotM2} vs {m2} (mean {mean}, spread {spread})");
        }
    }
}
