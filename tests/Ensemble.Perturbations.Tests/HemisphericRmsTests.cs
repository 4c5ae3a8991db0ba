using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Perturbations.Tests;

/// <summary>The §4 norm against plain loops, including the tropical linspace and the zero-norm rule.</summary>
public class HemisphericRmsTests
{
    [Theory]
    [InlineData(16, 32)]
    [InlineData(17, 32)]
    [InlineData(721, 8)]
    public void NormMatchesTheLoopDefinitionRowByRow(int nlat, int nlon)
    {
        using var g = new Generator(5);
        using var dx = torch.randn([2, 3, nlat, nlon], dtype: ScalarType.Float64, generator: g) * torch.linspace(0.5, 3, nlat, dtype: ScalarType.Float64).reshape(nlat, 1);
        using var norm = HemisphericRms.Norm(dx);
        var (north, south) = HemisphericRms.Hemispheres(dx);
        using var _n = north;
        using var _s = south;
        Assert.Equal(new long[] { 2, 3, nlat, 1 }, norm.shape);
        int ex = (int)Math.Floor(70.0 * nlat / 180.0);
        if (nlat == 721) Assert.Equal(280, ex);
        int nt = nlat - 2 * ex;
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++)
            {
                var (nh, sh) = Reference.Hemispheres(Reference.Field(dx, b, c));
                var row = Reference.Values(norm[b, c]);
                for (int i = 0; i < nlat; i++)
                {
                    double want = i < ex ? nh : i >= nlat - ex ? sh : nh + (sh - nh) * (i - ex) / (nt - 1);
                    Assert.True(Math.Abs(row[i] - want) <= 1e-13 * want, $"row {i}: {row[i]} vs {want}");
                }
                // Both ends of the tropical blend are exactly the hemispheric values, as in torch.linspace.
                Assert.Equal(north[b, c].item<double>(), row[ex]);
                Assert.Equal(south[b, c].item<double>(), row[nlat - ex - 1]);
            }
    }

    [Fact]
    public void RescaleHitsTheAmplitudesAndLeavesZeroChannelsZero()
    {
        using var g = new Generator(8);
        using var dx = torch.randn([3, 16, 32], dtype: ScalarType.Float64, generator: g);
        dx[1].zero_();
        using var r = HemisphericRms.Rescale(dx, [2.5, 7.0, 0.01]);
        Assert.False(torch.isnan(r).any().item<bool>());
        Assert.Equal(0.0, r[1].abs().max().item<double>());
        foreach (var (c, a) in new[] { (0, 2.5), (2, 0.01) })
        {
            var (nh, sh) = Reference.Hemispheres(Reference.Field(r, 0, c));
            Assert.True(Math.Abs(nh / a - 1) < 1e-12 && Math.Abs(sh / a - 1) < 1e-12, $"channel {c}: NH {nh}, SH {sh}, A {a}");
        }
        // Amplitude 0 switches a channel off.
        using var off = HemisphericRms.Rescale(dx, [0.0, 1.0, 1.0]);
        Assert.Equal(0.0, off[0].abs().max().item<double>());
    }
}
