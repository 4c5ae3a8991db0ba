using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>Analytic and structural properties of the transforms (no fixtures needed).</summary>
public class TransformPropertyTests
{
    /// <summary>Random band-limited triangular coefficients with real m = 0 column.</summary>
    internal static Tensor BandLimited(long batch, int lmax, int mmax, int lBand, long seed)
    {
        using var scope = NewDisposeScope();
        var g = new Generator((ulong)seed);
        var re = randn([batch, lmax, mmax], dtype: ScalarType.Float64, generator: g);
        var im = randn([batch, lmax, mmax], dtype: ScalarType.Float64, generator: g);
        var mask = ones(lmax, mmax, dtype: ScalarType.Float64).tril();
        if (lBand < lmax) mask.narrow(0, lBand, lmax - lBand).zero_();
        im.select(2, 0).zero_();
        return complex(re * mask, im * mask).MoveToOuterDisposeScope();
    }

    [Theory]
    [InlineData(GridType.Equiangular, 33, 64, 17)]
    [InlineData(GridType.LegendreGauss, 32, 64, 32)]
    [InlineData(GridType.Lobatto, 33, 64, 32)]
    [InlineData(GridType.LegendreGauss, 48, 96, 48)]
    [InlineData(GridType.Equiangular, 65, 128, 33)]
    public void RoundTripOfBandLimitedFieldsIsExact(GridType grid, int nlat, int nlon, int lmax)
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(nlat, nlon, lmax, lmax, grid, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, lmax, grid, dtype: ScalarType.Float64);
        var c = BandLimited(3, lmax, lmax, lmax, 11);
        var f = isht.forward(c);
        var f2 = isht.forward(sht.forward(f));
        double err = (f2 - f).abs().max().item<double>() / f.abs().max().item<double>();
        Assert.True(err <= 1e-11, $"{grid} {nlat}×{nlon} lmax={lmax}: round-trip error {err:E3}");
        double cerr = Fixtures.MaxRelErr(sht.forward(f), c);
        Assert.True(cerr <= 1e-11, $"{grid}: coefficient round-trip error {cerr:E3}");
    }

    [Theory]
    [InlineData(GridType.LegendreGauss, 24, 48, 24)]
    [InlineData(GridType.Equiangular, 49, 96, 25)]
    [InlineData(GridType.Lobatto, 25, 48, 24)]
    public void ParsevalHolds(GridType grid, int nlat, int nlon, int lmax)
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(nlat, nlon, lmax, lmax, grid, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, lmax, grid, dtype: ScalarType.Float64);
        var f = isht.forward(BandLimited(2, lmax, lmax, lmax, 5));
        var e = PowerSpectrum.Degree(sht.forward(f)).sum(-1);                 // [2]
        var w = tensor(new SphericalGrid(grid, nlat, nlon).QuadratureWeights(), dtype: ScalarType.Float64);
        var integral = (f.pow(2).sum(-1) * w).sum(-1) * (2 * Math.PI / nlon);  // ∫ f² dΩ by quadrature
        for (int i = 0; i < 2; i++)
        {
            double a = e[i].item<double>(), b = integral[i].item<double>();
            Assert.True(Math.Abs(a - b) <= 1e-11 * b, $"{grid}: Σ E(l) = {a}, ∫f² = {b}");
        }
    }

    [Theory]
    [InlineData(GridType.LegendreGauss, 16, 32)]
    [InlineData(GridType.Equiangular, 33, 64)]
    public void AnalyticHarmonicsGiveUnitCoefficients(GridType grid, int nlat, int nlon)
    {
        using var scope = NewDisposeScope();
        int lmax = 12;
        using var sht = new RealSHT(nlat, nlon, lmax, lmax, grid, dtype: ScalarType.Float64);
        var g = new SphericalGrid(grid, nlat, nlon);
        double[] x = g.CosColatitudes();
        double[] lon = g.LongitudesDeg().Select(d => d * Math.PI / 180).ToArray();
        // 2 Re Y_3^2 = 2 P̄_3^2(x) cos 2λ with P_3^2 = 15 x (1 − x²) (phase (−1)² = 1); Y_2^0; constants; cos θ.
        double c32 = Math.Sqrt(7 / (4 * Math.PI) / 120.0);
        var y32 = new double[nlat * nlon];
        var y20 = new double[nlat * nlon];
        var y11 = new double[nlat * nlon];
        var one = new double[nlat * nlon];
        var cosT = new double[nlat * nlon];
        for (int k = 0; k < nlat; k++)
            for (int j = 0; j < nlon; j++)
            {
                double xv = x[k], s = Math.Sqrt(1 - xv * xv);
                y32[k * nlon + j] = 2 * c32 * 15 * xv * (1 - xv * xv) * Math.Cos(2 * lon[j]);
                y20[k * nlon + j] = Math.Sqrt(5 / (4 * Math.PI)) * (3 * xv * xv - 1) / 2;
                // 2 Re Y_1^1 with the Condon–Shortley phase: −2 √(3/(8π)) sin θ cos λ
                y11[k * nlon + j] = -2 * Math.Sqrt(3 / (8 * Math.PI)) * s * Math.Cos(lon[j]);
                one[k * nlon + j] = 1;
                cosT[k * nlon + j] = xv;
            }
        void Check(double[] field, int l, int m, double value)
        {
            var c = sht.forward(tensor(field, dtype: ScalarType.Float64).reshape(nlat, nlon));
            var expected = zeros([lmax, lmax], dtype: ScalarType.ComplexFloat64);
            expected[l, m] = value;
            double err = (c - expected).abs().max().item<double>();
            Assert.True(err <= 1e-12 * Math.Max(1, value), $"Y_{l}^{m}: max deviation {err:E3}");
        }
        Check(y32, 3, 2, 1.0);
        Check(y20, 2, 0, 1.0);
        Check(y11, 1, 1, 1.0);
        Check(one, 0, 0, Math.Sqrt(4 * Math.PI));
        Check(cosT, 1, 0, Math.Sqrt(4 * Math.PI / 3));
    }

    /// <summary>Dense §4.1/§4.2 reference: einsum of the full float64 table, no blocking.</summary>
    static (Tensor Fwd, Tensor Inv) Dense(Tensor f, Tensor c, GridType grid, int nlat, int nlon, int lmax, int mmax)
    {
        var g = new SphericalGrid(grid, nlat, nlon);
        var x = g.CosColatitudes();
        var w = tensor(g.QuadratureWeights(), dtype: ScalarType.Float64);
        var pf = tensor(Legendre.Table(mmax, lmax, x).Cast<double>().ToArray(), dtype: ScalarType.Float64).reshape(mmax, lmax, nlat);
        var wt = pf * w;
        var xf = fft.rfft(f, dim: -1, norm: FFTNormType.Forward) * (2 * Math.PI);
        int nf = nlon / 2 + 1;
        xf = mmax <= nf ? xf.narrow(-1, 0, mmax) : cat([xf, zeros([.. xf.shape[..^1], mmax - nf], dtype: xf.dtype)], -1);
        var re = einsum("...km,mlk->...lm", real(xf), wt);
        var im = einsum("...km,mlk->...lm", imag(xf), wt);
        var fwd = complex(re, im);
        var gr = einsum("...lm,mlk->...km", real(c), pf);
        var gi = einsum("...lm,mlk->...km", imag(c), pf);
        gi.select(-1, 0).zero_();
        if (nlon % 2 == 0 && nlon / 2 < mmax) gi.select(-1, nlon / 2).zero_();
        var gc = complex(gr, gi);
        if (mmax > nf) gc = gc.narrow(-1, 0, nf);
        var inv = fft.irfft(gc, n: nlon, dim: -1, norm: FFTNormType.Forward);
        return (fwd, inv);
    }

    [Theory]
    [InlineData(GridType.LegendreGauss, 12, 16, 10, 14)]   // mmax > nlon/2 + 1: zero padding, Nyquist zeroing
    [InlineData(GridType.LegendreGauss, 20, 40, 20, 5)]    // mmax < lmax
    [InlineData(GridType.Equiangular, 21, 40, 11, 21)]     // mmax > lmax: zero columns
    [InlineData(GridType.Lobatto, 17, 31, 16, 16)]         // odd nlon
    public void BlockedContractionEqualsDenseReference(GridType grid, int nlat, int nlon, int lmax, int mmax)
    {
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        var f = randn([2, 3, nlat, nlon], dtype: ScalarType.Float64, generator: gen);
        var c = complex(randn([2, 3, lmax, mmax], dtype: ScalarType.Float64, generator: gen), randn([2, 3, lmax, mmax], dtype: ScalarType.Float64, generator: gen));
        var (fwdRef, invRef) = Dense(f, c, grid, nlat, nlon, lmax, mmax);
        using var sht = new RealSHT(nlat, nlon, lmax, mmax, grid, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, mmax, grid, dtype: ScalarType.Float64);
        var fwd = sht.forward(f);
        var inv = isht.forward(c);
        Assert.Equal([2L, 3, lmax, mmax], fwd.shape);
        Assert.Equal([2L, 3, nlat, nlon], inv.shape);
        Assert.True(Fixtures.RelErr(fwd, fwdRef) <= 1e-13, $"forward vs dense {Fixtures.RelErr(fwd, fwdRef):E3}");
        Assert.True(Fixtures.RelErr(inv, invRef) <= 1e-13, $"inverse vs dense {Fixtures.RelErr(inv, invRef):E3}");
    }

    [Fact]
    public void TablesAreNonPersistentBuffersThatFollowDtype()
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(16, 32, 16, 16);
        using var isht = new InverseRealSHT(16, 32, 16, 16);
        using var vsht = new RealVectorSHT(16, 32, 16, 16);
        using var ivsht = new InverseRealVectorSHT(16, 32, 16, 16);
        foreach (nn.Module m in new nn.Module[] { sht, isht, vsht, ivsht })
        {
            Assert.Empty(m.state_dict());
            Assert.Equal(ScalarType.Float32, ((SphericalTransformModule)m).Table.dtype);
        }
        var f = randn(2, 16, 32);
        var c32 = sht.forward(f);
        Assert.Equal(ScalarType.ComplexFloat32, c32.dtype);
        sht.to(ScalarType.Float64);
        isht.to(ScalarType.Float64);
        Assert.Empty(sht.state_dict());
        Assert.Equal(ScalarType.Float64, sht.Table.dtype);
        var c64 = sht.forward(f.to(ScalarType.Float64));
        Assert.Equal(ScalarType.ComplexFloat64, c64.dtype);
        Assert.True(Fixtures.RelErr(c32, c64) < 1e-6);
        Assert.Equal(ScalarType.Float64, isht.forward(c64).dtype);
        sht.to(CPU);
        Assert.Equal(ScalarType.ComplexFloat64, sht.forward(f.to(ScalarType.Float64)).dtype);
    }

    [Fact]
    public void BadInputsAreRejectedClearly()
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(16, 32, 16, 16);
        var e = Assert.Throws<ArgumentException>(() => sht.forward(zeros(2, 16, 30)));
        Assert.Contains("[16, 32]", e.Message);
        Assert.Throws<ArgumentException>(() => sht.forward(zeros([2, 16, 32], dtype: ScalarType.Float64)));
        using var isht = new InverseRealSHT(16, 32, 16, 16);
        Assert.Throws<ArgumentException>(() => isht.forward(zeros([16, 16], dtype: ScalarType.Float32)));
        Assert.Throws<EnsembleException>(() => new RealSHT(16, 32, 0, 16));
    }
}
