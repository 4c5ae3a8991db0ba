using Ensemble.Models.Sfno;
using Ensemble.Spherical;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

/// <summary>
/// The dhconv filter runs on degree-major coefficients (one bmm over l, or one MKL gemm per degree with the native
/// kernels (this test runs under inference_mode, so those), in degree groups that skip the zero m &gt; l
/// triangle for lmax ≥ 64); it must equal makani's form inverse(einsum("bixy,iox->boxy", forward(x), W)).
/// </summary>
public class SpectralConvTests
{
    [Theory]
    [InlineData(24, 48, 2, ScalarType.Float64)]       // lmax 24: one dense bmm
    [InlineData(66, 132, 1, ScalarType.Float64)]      // lmax 66: degree groups
    [InlineData(66, 132, 3, ScalarType.Float64)]
    [InlineData(45, 90, 1, ScalarType.Float32)]       // complex64 weights: the degree groups gather in 4×4 transposes
    [InlineData(66, 132, 2, ScalarType.Float32)]
    public void DhconvEqualsTheEinsumForm(int nlat, int nlon, int batch, ScalarType dtype)
    {
        const int e = 6;                                                         // 36 (i, o) rows: a partial 4-row block
        int lmax = nlat, mmax = nlon / 2 + 1;
        using var fwd = new RealSHT(nlat, nlon, lmax, mmax, GridType.LegendreGauss, dtype: dtype);
        using var inv = new InverseRealSHT(nlat, nlon, lmax, mmax, GridType.LegendreGauss, dtype: dtype);
        using var conv = new SpectralConv(fwd, inv, e, "dhconv", dtype);
        var gen = new Generator(17);
        var complexType = dtype == ScalarType.Float64 ? ScalarType.ComplexFloat64 : ScalarType.ComplexFloat32;
        using (torch.no_grad())
            conv.Weight.copy_(torch.randn([e, e, lmax], dtype: complexType, generator: gen));
        using var x = torch.randn([batch, e, nlat, nlon], dtype: dtype, generator: gen);
        double tolerance = dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
        using var inference = torch.inference_mode();
        var (y, residual) = conv.forward(x);
        using (y)
        using (residual)
        {
            using var xs = fwd.forward(x);
            using var zs = torch.einsum("bixy,iox->boxy", xs, conv.Weight);
            using var want = inv.forward(zs.contiguous());
            Assert.True(TestTensors.RelativeError(y, want) < tolerance, $"dhconv differs by {TestTensors.RelativeError(y, want):E2}");
            Assert.Equal(0.0, TestTensors.RelativeError(residual, x));    // same grid: the skip path is the input itself
        }
    }
}
