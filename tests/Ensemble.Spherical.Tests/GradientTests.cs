using Ensemble.Spherical;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Spherical.Tests;

/// <summary>The SFNO trains through these transforms: gradients must flow and be the adjoint of the transform.</summary>
public class GradientTests
{
    [Theory]
    [InlineData(GridType.LegendreGauss, 16, 32, 16, 16)]
    [InlineData(GridType.Equiangular, 17, 32, 9, 9)]
    public void Forward_and_inverse_transforms_are_differentiable_with_adjoint_gradients(GridType grid, int nlat, int nlon, int lmax, int mmax)
    {
        using var scope = torch.NewDisposeScope();
        using var sht = new RealSHT(nlat, nlon, lmax, mmax, grid, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, mmax, grid, dtype: ScalarType.Float64);

        // <A x, w> = <x, Aᵀ w>: the gradient of <A x, w> w.r.t. x is Aᵀ w, checked against a finite difference.
        var x = torch.randn(2, nlat, nlon, dtype: ScalarType.Float64).requires_grad_(true);
        var w = torch.randn(2, nlat, nlon, dtype: ScalarType.Float64);
        var y = isht.forward(sht.forward(x));
        var objective = (y * w).sum();
        objective.backward();
        Assert.NotNull(x.grad);
        var dir = torch.randn(2, nlat, nlon, dtype: ScalarType.Float64);
        double eps = 1e-6;
        using (torch.no_grad())
        {
            double plus = (isht.forward(sht.forward(x + eps * dir)) * w).sum().item<double>();
            double minus = (isht.forward(sht.forward(x - eps * dir)) * w).sum().item<double>();
            double numeric = (plus - minus) / (2 * eps);
            double analytic = (x.grad! * dir).sum().item<double>();
            Assert.True(Math.Abs(numeric - analytic) <= 1e-6 * Math.Max(1, Math.Abs(analytic)), $"numeric {numeric} vs autograd {analytic}");
        }
    }

    [Fact]
    public void Vector_transforms_are_differentiable()
    {
        using var scope = torch.NewDisposeScope();
        using var vsht = new RealVectorSHT(16, 32, 16, 16, GridType.LegendreGauss, dtype: ScalarType.Float64);
        using var ivsht = new InverseRealVectorSHT(16, 32, 16, 16, GridType.LegendreGauss, dtype: ScalarType.Float64);
        var uv = torch.randn(1, 2, 16, 32, dtype: ScalarType.Float64).requires_grad_(true);
        ivsht.forward(vsht.forward(uv)).square().sum().backward();
        Assert.True(uv.grad!.abs().sum().item<double>() > 0);
    }
}
