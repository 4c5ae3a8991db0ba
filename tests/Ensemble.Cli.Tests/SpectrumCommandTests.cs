using System.Globalization;
using Ensemble.Data.Npy;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class SpectrumCommandTests
{
    /// <summary>Re Y_l^m up to normalisation on an equiangular grid (poles included), from closed-form P_l^m.</summary>
    static double[] RealYlm(int l, int m, int nlat, int nlon)
    {
        var f = new double[nlat * nlon];
        for (int k = 0; k < nlat; k++)
        {
            double theta = Math.PI * k / (nlat - 1), x = Math.Cos(theta), s = Math.Sin(theta);
            double p = (l, m) switch
            {
                (3, 2) => 15 * x * s * s,                 // P_3^2
                (5, 0) => (63 * Math.Pow(x, 5) - 70 * x * x * x + 15 * x) / 8,  // P_5
                (4, 4) => 105 * Math.Pow(s, 4),             // P_4^4
                _ => throw new ArgumentException("no closed form in this test"),
            };
            for (int j = 0; j < nlon; j++)
                f[k * nlon + j] = p * Math.Cos(m * 2 * Math.PI * j / nlon);
        }
        return f;
    }

    static double[] ReadPower(string csv, int field = 0) => File.ReadAllLines(csv).Skip(1)
        .Select(line => line.Split(','))
        .Where(c => int.Parse(c[0], CultureInfo.InvariantCulture) == field)
        .Select(c => double.Parse(c[2], CultureInfo.InvariantCulture)).ToArray();

    [Theory]
    [InlineData(3, 2)]
    [InlineData(5, 0)]
    [InlineData(4, 4)]
    public void A_single_spherical_harmonic_puts_all_power_at_its_degree(int l, int m)
    {
        using var tmp = new TempDir();
        const int nlat = 33, nlon = 64;
        NpyFile.Write(tmp.File("ylm.npy"), NpyArray.FromDoubles(RealYlm(l, m, nlat, nlon), nlat, nlon));
        var r = CliRunner.InProcess("spectrum", "--input", tmp.File("ylm.npy"), "--grid", "equiangular", "--output", tmp.File("s.csv"));
        Assert.True(r.ExitCode == 0, r.Err);
        double[] e = ReadPower(tmp.File("s.csv"));
        Assert.Equal(17, e.Length); // equiangular exactness limit (nlat+1)/2
        double total = e.Sum();
        Assert.True(e[l] / total > 1 - 1e-12, $"fraction at l={l}: {e[l] / total}");
    }

    [Fact]
    public void Batched_float32_fields_get_one_spectrum_each()
    {
        using var tmp = new TempDir();
        const int nlat = 33, nlon = 64;
        var a = RealYlm(3, 2, nlat, nlon).Concat(RealYlm(5, 0, nlat, nlon)).Select(x => (float)x).ToArray();
        NpyFile.Write(tmp.File("two.npy"), NpyArray.FromFloats(a, 2, 1, nlat, nlon));
        var r = CliRunner.InProcess("spectrum", "-i", tmp.File("two.npy"), "--grid", "equiangular", "--lmax", "8", "--mmax", "8", "-o", tmp.File("s.csv"));
        Assert.True(r.ExitCode == 0, r.Err);
        double[] e0 = ReadPower(tmp.File("s.csv"), 0), e1 = ReadPower(tmp.File("s.csv"), 1);
        Assert.Equal(8, e0.Length);
        Assert.True(e0[3] / e0.Sum() > 1 - 1e-6);
        Assert.True(e1[5] / e1.Sum() > 1 - 1e-6);
    }

    [Fact]
    public void Malformed_npy_is_a_one_line_error()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("bad.npy"), "this is not numpy");
        var r = CliRunner.InProcess("spectrum", "-i", tmp.File("bad.npy"), "--grid", "equiangular", "-o", tmp.File("s.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: {tmp.File("bad.npy")}: not a .npy file (bad magic)", r.Err.Trim());
        Assert.False(File.Exists(tmp.File("s.csv")));
    }

    [Fact]
    public void Truncated_npy_is_a_one_line_error()
    {
        using var tmp = new TempDir();
        NpyFile.Write(tmp.File("ok.npy"), NpyArray.FromDoubles(new double[33 * 64], 33, 64));
        byte[] bytes = File.ReadAllBytes(tmp.File("ok.npy"));
        File.WriteAllBytes(tmp.File("cut.npy"), bytes[..(bytes.Length / 2)]);
        var r = CliRunner.InProcess("spectrum", "-i", tmp.File("cut.npy"), "--grid", "equiangular", "-o", tmp.File("s.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("truncated .npy data", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData(new long[] { 64 }, "expected an array [..., nlat, nlon]")]
    [InlineData(new long[] { 1, 64 }, "too small")]
    public void Wrong_grid_shapes_are_rejected(long[] shape, string message)
    {
        using var tmp = new TempDir();
        long n = shape.Aggregate(1L, (a, b) => a * b);
        NpyFile.Write(tmp.File("f.npy"), NpyArray.FromDoubles(new double[n], shape));
        var r = CliRunner.InProcess("spectrum", "-i", tmp.File("f.npy"), "--grid", "equiangular", "-o", tmp.File("s.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(message, r.Err);
    }

    [Fact]
    public void Lmax_beyond_the_grid_is_rejected()
    {
        using var tmp = new TempDir();
        NpyFile.Write(tmp.File("f.npy"), NpyArray.FromDoubles(new double[33 * 64], 33, 64));
        var r = CliRunner.InProcess("spectrum", "-i", tmp.File("f.npy"), "--grid", "legendre-gauss", "--lmax", "40", "-o", tmp.File("s.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--lmax 40", r.Err);
    }

    [Fact]
    public void Unknown_grid_is_a_usage_error()
    {
        var r = CliRunner.InProcess("spectrum", "-i", "x.npy", "--grid", "hexagonal", "-o", "s.csv");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("hexagonal", r.Err);
    }

    [Fact]
    public void NaN_input_is_rejected()
    {
        using var tmp = new TempDir();
        var f = new double[33 * 64];
        f[100] = double.NaN;
        NpyFile.Write(tmp.File("nan.npy"), NpyArray.FromDoubles(f, 33, 64));
        var r = CliRunner.InProcess("spectrum", "-i", tmp.File("nan.npy"), "--grid", "equiangular", "-o", tmp.File("s.csv"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("NaN", r.Err);
    }
}
