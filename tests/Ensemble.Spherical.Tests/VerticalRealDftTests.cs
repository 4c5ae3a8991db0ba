using Ensemble.Spherical.Native;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>
/// The eight-rows-at-once float32 real DFT (<see cref="VerticalRealDft"/>) against the DFT sums in float64, in the SHT's
/// layouts: fields [b, nlat, nlon] on one side, orders [m, lat, field] complex on the other; partial groups of fields,
/// truncated orders, every radix, and the inverse's ignored imaginary DC and Nyquist parts.
/// </summary>
public unsafe class VerticalRealDftTests
{
    public static TheoryData<int, int, int, int, long, long> Shapes => new()
    {
        // nlon, nlat, orders kept (nf), fields b, first field s, fields len
        { 180, 3, 46, 32, 8, 16 },          // 90 = 2·3·3·5; (b)'s outer grid, truncated orders
        { 90, 2, 46, 32, 0, 32 },           // 45 = 3·3·5, all orders
        { 360, 2, 91, 8, 0, 8 },            // 180 = 4·3·3·5
        { 64, 2, 33, 13, 3, 10 },           // 32 = 4·4·2; a partial group of 2 fields
        { 20, 3, 11, 5, 0, 5 },             // 10 = 2·5; fewer fields than lanes
        { 12, 1, 7, 9, 1, 8 },              // 6 = 2·3; Nyquist order kept
        { 8, 2, 3, 8, 0, 8 },               // 4
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_and_inverse_match_the_float64_sums(int nlon, int nlat, int nf, int b, long s, long len)
    {
        Assert.True(VerticalRealDft.Supports(nlon));
        var rng = new Random(nlon * 31 + nf);
        var x = new float[b * nlat * nlon];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var orders = new float[nf * nlat * b * 2];
        var spectrum = new float[nf * nlat * b * 2];
        for (int i = 0; i < spectrum.Length; i++) spectrum[i] = (float)(rng.NextDouble() * 2 - 1);
        var f = new float[x.Length];
        fixed (float* xp = x, op = orders, sp = spectrum, fp = f)
        {
            VerticalRealDft.Forward(xp, b, nlat, nlon, s, len, nf, op);
            VerticalRealDft.Inverse(sp, b, nlat, nlon, s, len, nf, fp);
        }
        double worstF = 0, worstI = 0;
        for (long j = s; j < s + len; j++)
            for (int k = 0; k < nlat; k++)
            {
                long row = (j * nlat + k) * nlon;
                double scaleF = 0, scaleI = 0, errF = 0, errI = 0;
                for (int m = 0; m < nf; m++)
                {
                    double re = 0, im = 0;
                    for (int n = 0; n < nlon; n++)
                    {
                        double a = -2 * Math.PI * m * n / nlon;
                        re += x[row + n] * Math.Cos(a);
                        im += x[row + n] * Math.Sin(a);
                    }
                    long at = ((m * nlat + k) * (long)b + j) * 2;
                    errF = Math.Max(errF, Math.Max(Math.Abs(orders[at] - re), Math.Abs(orders[at + 1] - im)));
                    scaleF = Math.Max(scaleF, Math.Max(Math.Abs(re), Math.Abs(im)));
                }
                // irfft of the kept orders (higher ones zero; imaginary parts of m = 0 and m = nlon/2 ignored).
                for (int n = 0; n < nlon; n++)
                {
                    double v = 0;
                    for (int m = 0; m < nf; m++)
                    {
                        long at = ((m * nlat + k) * (long)b + j) * 2;
                        double re = spectrum[at], im = spectrum[at + 1], a = 2 * Math.PI * m * n / nlon;
                        bool edge = m == 0 || 2 * m == nlon;
                        v += edge ? re * Math.Cos(a) : 2 * (re * Math.Cos(a) - im * Math.Sin(a));
                    }
                    errI = Math.Max(errI, Math.Abs(f[row + n] - v));
                    scaleI = Math.Max(scaleI, Math.Abs(v));
                }
                worstF = Math.Max(worstF, errF / scaleF);
                worstI = Math.Max(worstI, errI / scaleI);
            }
        Assert.True(worstF <= 2e-6, $"forward: relative error {worstF:E3}");
        Assert.True(worstI <= 2e-6, $"inverse: relative error {worstI:E3}");
        // Fields outside [s, s + len) are not touched.
        for (long j = 0; j < b; j++)
        {
            if (j >= s && j < s + len) continue;
            for (int m = 0; m < nf; m++)
                for (int k = 0; k < nlat; k++)
                    Assert.Equal(0f, orders[((m * nlat + k) * (long)b + j) * 2]);
            for (int i = 0; i < nlat * nlon; i++) Assert.Equal(0f, f[j * nlat * nlon + i]);
        }
    }

    [Theory]
    [InlineData(14)]
    [InlineData(22)]
    [InlineData(15)]
    [InlineData(2)]
    public void Lengths_with_other_factors_are_left_to_MKL(int nlon) => Assert.False(VerticalRealDft.Supports(nlon));
}
