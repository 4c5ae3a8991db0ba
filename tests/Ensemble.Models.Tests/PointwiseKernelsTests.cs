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
        Assert.True(!strips || PointwiseGemm.Supported, "AVX2/FMA");
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

    /// <summary>
    /// The register-blocked kernel against a float64 reference: row counts through every block form (6, 4, 1 rows and
    /// mixes), widths with a partial last panel, inner sizes from 1, strides that take the packing path (multiples of
    /// 256 floats) and strides that do not, a second product, and every epilogue.
    /// </summary>
    [Theory]
    [InlineData(1, 1, 1, 0, 0)]
    [InlineData(6, 32, 16, 0, 0)]
    [InlineData(32, 32, 100, 0, 0)]
    [InlineData(64, 32, 64, 32, 0)]
    [InlineData(9, 64, 37, 9, 0)]
    [InlineData(13, 7, 250, 0, 1)]
    [InlineData(32, 64, 256, 32, 1)]
    [InlineData(5, 6, 17, 5, 2)]
    [InlineData(32, 32, 512, 0, 3)]
    [InlineData(7, 3, 15, 2, 4)]
    public void PointwiseGemm_matches_a_float64_product(int rows, int k, int n, int k2, int epilogue)
    {
        Assert.True(PointwiseGemm.Supported, "AVX2/FMA");
        using var scope = NewDisposeScope();
        var gen = new Generator(5);
        // Row strides: n itself (packing when n is a multiple of 256) and n + 3 (in place).
        foreach (long pad in new[] { 0L, 3L })
        {
            long ld = n + pad;
            var w = randn([rows, k], generator: gen);
            var x = randn([k, ld], generator: gen);
            var w2 = k2 > 0 ? randn([rows, k2], generator: gen) : null;
            var x2 = k2 > 0 ? randn([k2, ld], generator: gen) : null;
            var bias = randn([rows], generator: gen);
            var mean = randn([rows], generator: gen);
            var scl = rand([rows], generator: gen).add(0.5);
            var shift = randn([rows], generator: gen);
            var y0 = randn([rows, ld], generator: gen);
            var y = y0.clone();
            float* wp = (float*)Mkl.Data(w), xp = (float*)Mkl.Data(x), yp = (float*)Mkl.Data(y);
            float* w2p = w2 is null ? null : (float*)Mkl.Data(w2), x2p = x2 is null ? null : (float*)Mkl.Data(x2);
            float* bp = (float*)Mkl.Data(bias), mp = (float*)Mkl.Data(mean), sp = (float*)Mkl.Data(scl), hp = (float*)Mkl.Data(shift);
            var e = epilogue switch
            {
                0 => default,
                1 => new GemmEpilogue { Bias = bp, Activation = "gelu" },
                2 => new GemmEpilogue { Bias = bp, Activation = "relu" },
                3 => new GemmEpilogue { Accumulate = true },
                _ => new GemmEpilogue { Accumulate = true, NormMean = mp, NormScale = sp, NormShift = hp, Bias = bp },
            };
            PointwiseGemm.Run(wp, k, xp, ld, w2p, k2, x2p, ld, rows, n, yp, ld, e);

            var d = ScalarType.Float64;
            var want = w.to(d).mm(x.to(d).narrow(1, 0, n));
            if (w2 is not null) want += w2.to(d).mm(x2!.to(d).narrow(1, 0, n));
            var old = y0.to(d).narrow(1, 0, n);
            if (epilogue == 3) want += old;
            if (epilogue == 4) want += (old - mean.to(d).unsqueeze(1)) * scl.to(d).unsqueeze(1) + shift.to(d).unsqueeze(1);
            if (epilogue is 1 or 2 or 4) want += bias.to(d).unsqueeze(1);
            if (epilogue == 1) want = nn.functional.gelu(want);
            if (epilogue == 2) want = want.relu();
            var got = y.to(d).narrow(1, 0, n);
            double err = (got - want).abs().max().item<double>(), scale = want.abs().max().item<double>() + 1;
            Assert.True(err <= 1e-5 * scale, $"rows {rows} k {k} n {n} k2 {k2} epilogue {epilogue} ld {ld}: {err:E3}");
            // Columns beyond n (the stride's padding) are untouched.
            if (pad > 0) Assert.True(y.narrow(1, n, pad).eq(y0.narrow(1, n, pad)).all().item<bool>(), "wrote past n");
        }
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
