using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>Scalar and vector SHT against torch-harmonics outputs (HEAD truncation lmax = mmax = min).</summary>
public class TransformFixtureTests
{
    public static TheoryData<string, string, int, int, int> Scalar() => new()
    {
        { "eq33x64", "equiangular", 33, 64, 17 },
        { "lg32x64", "legendre-gauss", 32, 64, 32 },
        { "lob33x64", "lobatto", 33, 64, 32 },
        { "lg240x480_l240m241", "legendre-gauss", 240, 480, 240 },
    };

    [SkippableTheory]
    [MemberData(nameof(Scalar))]
    public void ForwardFloat64(string name, string grid, int nlat, int nlon, int lmax)
    {
        using var scope = NewDisposeScope();
        var input = Fixtures.Tensor($"sht_{name}_in.npy");
        var expected = Fixtures.Tensor($"sht_{name}_out.npy");
        using var sht = new RealSHT(nlat, nlon, lmax, lmax, GridTypes.Parse(grid), dtype: ScalarType.Float64);
        double err = Fixtures.RelErr(sht.forward(input), expected);
        Assert.True(err <= 1e-12, $"{name} forward float64 relative error {err:E3}");
    }

    [SkippableTheory]
    [MemberData(nameof(Scalar))]
    public void InverseFloat64(string name, string grid, int nlat, int nlon, int lmax)
    {
        using var scope = NewDisposeScope();
        var input = Fixtures.Tensor($"isht_{name}_in.npy");
        var expected = Fixtures.Tensor($"isht_{name}_out.npy");
        using var isht = new InverseRealSHT(nlat, nlon, lmax, lmax, GridTypes.Parse(grid), dtype: ScalarType.Float64);
        double err = Fixtures.RelErr(isht.forward(input), expected);
        Assert.True(err <= 1e-12, $"{name} inverse float64 relative error {err:E3}");
    }

    [SkippableTheory]
    [MemberData(nameof(Scalar))]
    public void ForwardAndInverseFloat32(string name, string grid, int nlat, int nlon, int lmax)
    {
        using var scope = NewDisposeScope();
        var g = GridTypes.Parse(grid);
        using var sht = new RealSHT(nlat, nlon, lmax, lmax, g, dtype: ScalarType.Float32);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, lmax, g, dtype: ScalarType.Float32);
        double fwd = Fixtures.RelErr(sht.forward(Fixtures.Tensor($"sht_{name}_in.npy").to(ScalarType.Float32)), Fixtures.Tensor($"sht_{name}_out.npy"));
        double inv = Fixtures.RelErr(isht.forward(Fixtures.Tensor($"isht_{name}_in.npy").to(ScalarType.ComplexFloat32)), Fixtures.Tensor($"isht_{name}_out.npy"));
        Assert.True(fwd <= 5e-6, $"{name} forward float32 relative error {fwd:E3}");
        Assert.True(inv <= 5e-6, $"{name} inverse float32 relative error {inv:E3}");
    }

    [SkippableFact]
    public void VectorForwardAndInverseFloat64()
    {
        using var scope = NewDisposeScope();
        using var vsht = new RealVectorSHT(32, 64, 32, 32, GridType.LegendreGauss, dtype: ScalarType.Float64);
        using var ivsht = new InverseRealVectorSHT(32, 64, 32, 32, GridType.LegendreGauss, dtype: ScalarType.Float64);
        double fwd = Fixtures.RelErr(vsht.forward(Fixtures.Tensor("vsht_lg32x64_in.npy")), Fixtures.Tensor("vsht_lg32x64_out.npy"));
        double inv = Fixtures.RelErr(ivsht.forward(Fixtures.Tensor("ivsht_lg32x64_in.npy")), Fixtures.Tensor("ivsht_lg32x64_out.npy"));
        Assert.True(fwd <= 1e-10, $"vector forward relative error {fwd:E3}");
        Assert.True(inv <= 1e-10, $"vector inverse relative error {inv:E3}");
    }

    [SkippableFact]
    public void VectorFloat32()
    {
        using var scope = NewDisposeScope();
        using var vsht = new RealVectorSHT(32, 64, 32, 32, GridType.LegendreGauss);
        using var ivsht = new InverseRealVectorSHT(32, 64, 32, 32, GridType.LegendreGauss);
        double fwd = Fixtures.RelErr(vsht.forward(Fixtures.Tensor("vsht_lg32x64_in.npy").to(ScalarType.Float32)), Fixtures.Tensor("vsht_lg32x64_out.npy"));
        double inv = Fixtures.RelErr(ivsht.forward(Fixtures.Tensor("ivsht_lg32x64_in.npy").to(ScalarType.ComplexFloat32)), Fixtures.Tensor("ivsht_lg32x64_out.npy"));
        Assert.True(fwd <= 5e-6, $"vector forward float32 relative error {fwd:E3}");
        Assert.True(inv <= 5e-6, $"vector inverse float32 relative error {inv:E3}");
    }
}
