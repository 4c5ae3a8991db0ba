using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

public class PhysicsAndSpectraTests
{
    const double A = 6.37122e6;

    /// <summary>
    /// §5: vrtdivspec(u, v) = lap · a · vsht(u, v) with lap = −l(l+1)/a² (shallow-water solver convention, csphase off):
    /// slot 0 is the relative vorticity, slot 1 the divergence.
    /// </summary>
    static (Tensor Vort, Tensor Div) VorticityDivergence(Tensor u, Tensor v, int nlat, int nlon, int lmax)
    {
        using var vsht = new RealVectorSHT(nlat, nlon, lmax, lmax, GridType.LegendreGauss, csphase: false, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, lmax, GridType.LegendreGauss, csphase: false, dtype: ScalarType.Float64);
        var l = arange(lmax, dtype: ScalarType.Float64);
        var lap = (-l * (l + 1) / (A * A)).reshape(lmax, 1);
        var spec = vsht.forward(stack([u, v], 0)) * lap * A;
        return (isht.forward(spec[0]), isht.forward(spec[1]));
    }

    static Tensor LatitudeField(int nlat, int nlon, Func<double, double> f)
    {
        var lat = new SphericalGrid(GridType.LegendreGauss, nlat, nlon).LatitudesDeg();
        var vals = new double[nlat * nlon];
        for (int k = 0; k < nlat; k++)
            for (int j = 0; j < nlon; j++) vals[k * nlon + j] = f(lat[k] * Math.PI / 180);
        return tensor(vals, dtype: ScalarType.Float64).reshape(nlat, nlon);
    }

    [Fact]
    public void SolidBodyRotationHasVorticityTwoUSinPhiOverAAndNoDivergence()
    {
        using var scope = NewDisposeScope();
        const int nlat = 32, nlon = 64, lmax = 32;
        const double U = 20.0;
        var u = LatitudeField(nlat, nlon, phi => U * Math.Cos(phi));
        var v = zeros_like(u);
        var (vort, div) = VorticityDivergence(u, v, nlat, nlon, lmax);
        var expected = LatitudeField(nlat, nlon, phi => 2 * U * Math.Sin(phi) / A);
        double scale = 2 * U / A;
        Assert.True((vort - expected).abs().max().item<double>() <= 1e-11 * scale, "vorticity of solid-body rotation");
        Assert.True(div.abs().max().item<double>() <= 1e-11 * scale, "divergence of solid-body rotation");
    }

    [Fact]
    public void MeridionalFlowHasTheAnalyticDivergence()
    {
        using var scope = NewDisposeScope();
        const int nlat = 32, nlon = 64, lmax = 32;
        var v = LatitudeField(nlat, nlon, phi => Math.Cos(phi) * Math.Sin(phi));
        var u = zeros_like(v);
        var (vort, div) = VorticityDivergence(u, v, nlat, nlon, lmax);
        var expected = LatitudeField(nlat, nlon, phi => (Math.Cos(phi) * Math.Cos(phi) - 2 * Math.Sin(phi) * Math.Sin(phi)) / A);
        // Degree 2 enters, whose forward weight carries torch-harmonics' float32 1/(l(l+1)) = 1/6 (rel. error 1.5e−8).
        double err = (div - expected).abs().max().item<double>() * A / 2;
        Assert.True(err <= 1e-7, $"divergence of v = cos φ sin φ: error {err:E3} of the maximum");
        Assert.True(vort.abs().max().item<double>() <= 1e-11 * 2 / A, "vorticity of a purely meridional zonal-mean flow");
    }

    [Fact]
    public void VectorRoundTripOfBandLimitedCoefficients()
    {
        using var scope = NewDisposeScope();
        const int nlat = 24, nlon = 48, lmax = 24;
        using var vsht = new RealVectorSHT(nlat, nlon, lmax, lmax, GridType.LegendreGauss, dtype: ScalarType.Float64);
        using var ivsht = new InverseRealVectorSHT(nlat, nlon, lmax, lmax, GridType.LegendreGauss, dtype: ScalarType.Float64);
        var c = TransformPropertyTests.BandLimited(2 * 3, lmax, lmax, lmax - 1, 9).reshape(3, 2, lmax, lmax);
        c.select(-2, 0).zero_();                       // no l = 0 vector harmonics
        var back = vsht.forward(ivsht.forward(c));
        // The float32 1/(l(l+1)) of torch-harmonics' forward weights bounds the round trip at ~1e−7.
        Assert.True(Fixtures.MaxRelErr(back, c) <= 1e-6, $"vector round trip {Fixtures.MaxRelErr(back, c):E3}");
    }

    [Fact]
    public void DegreeSpectrumCheckValueOnTheFiveByTenGaussGrid()
    {
        using var scope = NewDisposeScope();
        double[,] field =
        {
            { 0.0336, 1.2163, -0.4947, -1.8331, -0.9568, 0.3716, -1.4406, -0.7188, 0.5634, -1.3383 },
            { 0.8692, 0.3662, -0.5542, -0.0161, -0.4704, -0.3684, -0.2996, 0.0441, -0.0641, -0.7168 },
            { -0.9521, 2.0878, -1.0728, -0.1278, 1.2196, 1.0115, -0.7004, 2.0224, 1.7835, -0.2897 },
            { -1.2085, 0.6527, -0.1578, -0.2677, -0.7815, -0.5724, 0.1865, 0.9199, -2.0404, -2.3454 },
            { 0.9849, -0.819, 0.7115, 0.131, 1.2666, 0.9298, -0.2528, -0.1371, 0.3423, 0.765 },
        };
        using var sht = new RealSHT(5, 10, 5, 5, GridType.LegendreGauss, dtype: ScalarType.Float64);
        var f = tensor(field.Cast<double>().ToArray(), dtype: ScalarType.Float64).reshape(5, 10);
        var e = PowerSpectrum.Degree(sht.forward(f)).data<double>().ToArray();
        double[] expected = [0.01102003569721766, 0.1562507008211658, 1.5727481558105016, 4.819017338884788, 1.9165108036155063];
        for (int l = 0; l < 5; l++)
            Assert.True(Math.Abs(e[l] - expected[l]) <= 1e-12 * expected[l], $"E({l}) = {e[l]}, expected {expected[l]}");

        var zonal = PowerSpectrum.Zonal(sht.forward(f));
        Assert.Equal(e.Sum(), zonal.sum().item<double>(), 1e-12);
        // Batched: [2, 5, 10] gives two spectra, the second of 2f four times the first.
        var batched = PowerSpectrum.Degree(sht.forward(stack([f, 2 * f], 0)));
        Assert.Equal([2L, 5], batched.shape);
        Assert.Equal(4 * e[3], batched[1, 3].item<double>(), 1e-12);
    }

    [Fact]
    [Trait("Category", "Large")]
    public void EraGrid721x1440RoundTripAtLmax240()
    {
        // One forward + one inverse on the 0.25° equiangular grid (manifest check eq721x1440_l240m241:
        // torch-harmonics round trip 1.04e−13 max abs).
        using var scope = NewDisposeScope();
        const int nlat = 721, nlon = 1440, lmax = 240;
        using var isht = new InverseRealSHT(nlat, nlon, lmax, lmax, GridType.Equiangular, dtype: ScalarType.Float64);
        var c = TransformPropertyTests.BandLimited(1, lmax, lmax, lmax, 21) * 0.05;
        var f = isht.forward(c);
        isht.Dispose();
        using var sht = new RealSHT(nlat, nlon, lmax, lmax, GridType.Equiangular, dtype: ScalarType.Float64);
        var back = sht.forward(f);
        double err = Fixtures.MaxRelErr(back, c);
        Assert.True(err <= 1e-11, $"721×1440 lmax=240 coefficient round trip {err:E3}");
    }
}
