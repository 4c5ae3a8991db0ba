using Ensemble.Core;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Spherical.Tests;

public class QuadratureTests
{
    public static TheoryData<string, int> Cases()
    {
        var d = new TheoryData<string, int>();
        foreach (int n in new[] { 8, 33, 240, 721 })
        {
            d.Add("equiangular", n);
            d.Add("legendre-gauss", n);
            if (n != 721) d.Add("lobatto", n);
        }
        return d;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void NodesAndWeightsMatchTorchHarmonics(string grid, int n)
    {
        double[] xRef = Fixtures.Doubles($"quad_{grid}_n{n}_x.npy");
        double[] wRef = Fixtures.Doubles($"quad_{grid}_n{n}_w.npy");
        var (x, w) = Quadrature.Nodes(GridTypes.Parse(grid), n);
        Close.Absolute(x, xRef, 1e-13, $"{grid} n={n} nodes");
        Close.Absolute(w, wRef, 1e-13, $"{grid} n={n} weights");
    }

    [Fact]
    public void ClenshawCurtisCheckValues()
    {
        var (_, w8) = Quadrature.Nodes(GridType.Equiangular, 8);
        Assert.Equal(1.0 / 49.0, w8[0], 1e-16);
        var (_, w) = Quadrature.Nodes(GridType.Equiangular, 721);
        Assert.Equal(1.0 / (720.0 * 720.0 - 1.0), w[0], 1e-18);
        Assert.Equal(1.85880194e-05, w[1], 1e-13);
        Assert.Equal(2.0, w.Sum(), 1e-13);
        Assert.Equal([1.0, 1.0], Quadrature.Nodes(GridType.Equiangular, 2).W);
    }

    [Theory]
    [InlineData(GridType.LegendreGauss, 12, 23)]
    [InlineData(GridType.Lobatto, 12, 21)]
    [InlineData(GridType.Equiangular, 13, 12)]
    public void IntegratesPolynomialsToTheExactnessDegree(GridType grid, int n, int degree)
    {
        var (x, w) = Quadrature.Nodes(grid, n);
        for (int p = 0; p <= degree; p++)
        {
            double q = 0;
            for (int k = 0; k < n; k++) q += w[k] * Math.Pow(x[k], p);
            double exact = p % 2 == 1 ? 0 : 2.0 / (p + 1);
            Assert.True(Math.Abs(q - exact) < 1e-13, $"{grid} n={n}: ∫x^{p} = {q}, expected {exact}");
        }
    }

    [Fact]
    public void GridParsingAndOrientation()
    {
        Assert.Equal(GridType.LegendreGauss, GridTypes.Parse("Legendre-Gauss"));
        Assert.Equal(GridType.Lobatto, GridTypes.Parse("lobatto"));
        Assert.Throws<EnsembleException>(() => GridTypes.Parse("equiangular-trapezoidal"));
        Assert.Throws<EnsembleException>(() => Quadrature.Nodes(GridType.Equiangular, 1));

        var era5 = new SphericalGrid(GridType.Equiangular, 721, 1440);
        var lat = era5.LatitudesDeg();
        Assert.Equal(90.0, lat[0], 1e-12);
        Assert.Equal(90.0 - 180.0 * 100 / 720, lat[100], 1e-11);
        Assert.Equal(-90.0, lat[720], 1e-12);
        Assert.Equal(359.75, era5.LongitudesDeg()[1439], 1e-12);
        Assert.Equal(2.0, era5.QuadratureWeights().Sum(), 1e-13);

        // verification-metrics §13.5: the 5×10 Gauss–Legendre grid latitudes
        var lg = new SphericalGrid(GridType.LegendreGauss, 5, 10).LatitudesDeg();
        Close.Absolute(lg, [64.98266022146859, 32.579498825338106, 0, -32.579498825338106, -64.98266022146859], 1e-12, "LG 5 latitudes");
    }
}
