using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Spherical.Tests;

public class LegendreTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var d = new TheoryData<string, int, int>();
        foreach (var norm in new[] { "ortho", "four-pi", "schmidt" })
            for (int inv = 0; inv < 2; inv++)
                for (int cs = 0; cs < 2; cs++) d.Add(norm, inv, cs);
        return d;
    }

    static double[] Flat(double[,,] t) => t.Cast<double>().ToArray();

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void TablesMatchTorchHarmonics(string norm, int inverse, int csphase)
    {
        double[] x = Fixtures.Doubles("legpoly_x.npy");
        double[] expected = Fixtures.Doubles($"legpoly_m6_l6_{norm}_inv{inverse}_cs{csphase}.npy");
        var table = Legendre.Table(6, 6, x, GridTypes.ParseNorm(norm), inverse == 1, csphase == 1);
        Close.Absolute(Flat(table), expected, 1e-13, $"legpoly {norm} inv{inverse} cs{csphase}");
    }

    [SkippableFact]
    public void DerivativeTableMatchesTorchHarmonics()
    {
        double[] theta = Fixtures.Doubles("dlegpoly_lg16_theta.npy");
        double[] expected = Fixtures.Doubles("dlegpoly_m8_l8_lg16_ortho_cs1.npy");
        var x = theta.Select(Math.Cos).ToArray();
        var d = Legendre.DerivativeTable(8, 8, x, SphericalNorm.Ortho, inverse: false, csphase: true);
        Close.Absolute(d.Cast<double>().ToArray(), expected, 1e-13, "dlegpoly");
    }

    [Fact]
    public void ClosedForms()
    {
        double[] x = [-0.9, -0.3, 0.0, 0.4, 0.95];
        var p = Legendre.Table(3, 3, x);
        for (int k = 0; k < x.Length; k++)
        {
            double s = Math.Sqrt(1 - x[k] * x[k]);
            Assert.Equal(1 / Math.Sqrt(4 * Math.PI), p[0, 0, k], 1e-15);
            Assert.Equal(Math.Sqrt(3 / (4 * Math.PI)) * x[k], p[0, 1, k], 1e-15);
            Assert.Equal(-Math.Sqrt(3 / (8 * Math.PI)) * s, p[1, 1, k], 1e-15);
            Assert.Equal(Math.Sqrt(5 / (4 * Math.PI)) * (3 * x[k] * x[k] - 1) / 2, p[0, 2, k], 1e-14);
            Assert.Equal(0.0, p[2, 1, k]);
        }
        // Rectangular requests: the same values as the square table, zeros for m > l.
        var wide = Legendre.Table(5, 3, x);
        for (int k = 0; k < x.Length; k++)
        {
            Assert.Equal(p[1, 2, k], wide[1, 2, k]);
            Assert.Equal(0.0, wide[4, 2, k]);
        }
    }
}
