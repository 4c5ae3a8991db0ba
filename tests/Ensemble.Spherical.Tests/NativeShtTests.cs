using Ensemble.Core.Native;
using Ensemble.Spherical.Native;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>
/// The native degree-major SHT (MKL DFTI + BLAS through libtorch's exports, <see cref="NativeSht"/>) against the
/// libtorch path it replaces for inference, and the cases where it must step aside. (Its pieces in any order or
/// concurrently: DegreeMajorPiecesTests, which runs it.)
/// </summary>
public class NativeShtTests
{
    [Fact]
    public void Native_path_is_available_on_linux_x64()
    {
        if (!OperatingSystem.IsLinux() || System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture != System.Runtime.InteropServices.Architecture.X64)
            return;                                                           // nothing to check elsewhere: the libtorch path runs
        Assert.True(Mkl.Available, $"MKL entry points in libtorch_cpu.so: {Mkl.Unavailable}");
        if (Environment.GetEnvironmentVariable("ENSEMBLE_NATIVE_KERNELS") != "0") Assert.True(NativeKernels.Enabled);
    }

    [Theory]
    [InlineData(91, 180, 45, 46, GridType.Equiangular, 20, ScalarType.Float64)]   // 4 Fourier chunks of 5 fields
    [InlineData(45, 90, 45, 46, GridType.LegendreGauss, 6, ScalarType.Float64)]
    [InlineData(16, 20, 12, 12, GridType.Equiangular, 3, ScalarType.Float64)]     // mmax above nlon/2 + 1, Nyquist order
    [InlineData(17, 33, 20, 8, GridType.Equiangular, 2, ScalarType.Float64)]      // odd nlon, mmax far below lmax
    [InlineData(9, 16, 12, 9, GridType.LegendreGauss, 1, ScalarType.Float64)]     // Nyquist order 8 < mmax, one field
    [InlineData(91, 180, 45, 46, GridType.Equiangular, 20, ScalarType.Float32)]
    [InlineData(181, 360, 90, 91, GridType.Equiangular, 8, ScalarType.Float32)]
    public void Native_transforms_match_the_libtorch_path(int nlat, int nlon, int lmax, int mmax, GridType grid, int b, ScalarType dtype)
    {
        Assert.True(NativeKernels.Enabled, Mkl.Unavailable);
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(nlat, nlon, lmax, mmax, grid, dtype: dtype);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, mmax, grid, dtype: dtype);
        var x = randn([b, nlat, nlon], dtype: dtype, generator: new Generator(3));
        // Arbitrary coefficients, imaginary m = 0 and Nyquist parts included (both paths must ignore them).
        var complexType = dtype == ScalarType.Float64 ? ScalarType.ComplexFloat64 : ScalarType.ComplexFloat32;
        var c = randn([lmax, mmax, b, 2], dtype: dtype, generator: new Generator(4));
        var cc = view_as_complex(c.clone()).reshape(lmax, mmax, b);
        Assert.Equal(complexType, cc.dtype);
        Tensor forwardRef, inverseRef;
        using (NativeKernels.Suppress())
        {
            forwardRef = sht.ForwardDegreeMajor(x);
            inverseRef = isht.InverseDegreeMajor(cc, [b]);
        }
        var forward = sht.ForwardDegreeMajor(x);
        var inverse = isht.InverseDegreeMajor(cc, [b]);
        double tol = dtype == ScalarType.Float64 ? 1e-12 : 2e-6;
        double ef = MaxAbs(forward - forwardRef) / MaxAbs(forwardRef);
        double ei = MaxAbs(inverse - inverseRef) / MaxAbs(inverseRef);
        Assert.True(ef <= tol, $"forward: {ef:E3} (tolerance {tol:E0})");
        Assert.True(ei <= tol, $"inverse: {ei:E3} (tolerance {tol:E0})");
        // The orders and degrees the transforms leave out are exactly zero in both.
        var upper = forward.select(0, 0).narrow(0, 1, Math.Min(lmax, mmax) - 1);      // l = 0, m ≥ 1: P_0^m = 0
        Assert.Equal(0.0, MaxAbs(upper));
    }

    static double MaxAbs(Tensor t) => t.abs().max().to(ScalarType.Float64).item<double>();

    [Fact]
    public void Inputs_recording_a_gradient_take_the_libtorch_path()
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(16, 32, 12, 12, GridType.LegendreGauss, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(16, 32, 12, 12, GridType.LegendreGauss, dtype: ScalarType.Float64);
        var x = randn([2, 16, 32], dtype: ScalarType.Float64, generator: new Generator(7)).requires_grad_();
        Assert.False(NativeSht.Applies(x, sht.Table));
        var y = isht.InverseDegreeMajor(sht.ForwardDegreeMajor(x), [2]);
        y.square().sum().backward();
        Assert.NotNull(x.grad);
        Assert.True(x.grad!.abs().sum().item<double>() > 0);
        using (no_grad()) Assert.True(NativeSht.Applies(x, sht.Table));
    }
}
