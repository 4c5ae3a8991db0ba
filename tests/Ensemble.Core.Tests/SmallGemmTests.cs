using TorchSharp;
using static TorchSharp.torch;
using Ensemble.Core.Native;
using Xunit;

namespace Ensemble.Core.Tests;

/// <summary><see cref="SmallGemm"/> against float64 products: every block form, partial panels, both stride paths, epilogues.</summary>
public unsafe class SmallGemmTests
{
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
    public void Matches_a_float64_product(int rows, int k, int n, int k2, int epilogue)
    {
        Assert.True(SmallGemm.Supported, "AVX2/FMA");
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
            SmallGemm.Run(wp, k, xp, ld, w2p, k2, x2p, ld, rows, n, yp, ld, e);

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

    /// <summary>The single-product form with a weight row stride and a scale (the SHT's Legendre products).</summary>
    [Theory]
    [InlineData(45, 30, 64, 40)]
    [InlineData(91, 91, 64, 91)]
    [InlineData(7, 1, 20, 5)]
    [InlineData(13, 0, 33, 4)]
    public void Strided_weights_and_scale(int rows, int k, int n, int ldw)
    {
        Assert.True(SmallGemm.Supported, "AVX2/FMA");
        using var scope = NewDisposeScope();
        var gen = new Generator(9);
        var wfull = randn([rows, Math.Max(ldw, k)], generator: gen);
        var x = randn([Math.Max(k, 1), n + 5], generator: gen);
        var y = randn([rows, n], generator: gen);
        float* wp = (float*)Mkl.Data(wfull), xp = (float*)Mkl.Data(x), yp = (float*)Mkl.Data(y);
        SmallGemm.Run(wp, Math.Max(ldw, k), k, xp, n + 5, rows, n, yp, n, new GemmEpilogue { Scale = 0.25f });
        var d = ScalarType.Float64;
        var want = k == 0 ? zeros([rows, n], dtype: d) : wfull.to(d).narrow(1, 0, k).mm(x.to(d).narrow(0, 0, k).narrow(1, 0, n)) * 0.25;
        double err = (y.to(d) - want).abs().max().item<double>();
        Assert.True(err <= 1e-5 * (want.abs().max().item<double>() + 1), $"{err:E3}");
    }
}
