using Ensemble.Models.Sfno;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

/// <summary>The CPU forward runs members in chunks; any chunking must give the whole-batch result.</summary>
public class SfnoBatchChunkingTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ChunkedForwardEqualsTheWholeBatchAndTheTappedPath(int membersPerChunk)
    {
        var config = new SfnoConfig
        {
            ImgShapeX = 17, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 3, NOutChannels = 2, EmbedDim = 6, NumLayers = 3,
        };
        using var net = new SphericalFourierNeuralOperatorNet(config, ScalarType.Float64, seed: 5);
        net.eval();
        using var inference = torch.inference_mode();
        using var x = torch.randn([5, 3, 17, 32], dtype: ScalarType.Float64, generator: new Generator(11));
        net.MembersPerChunk = 5;
        using var whole = net.forward(x);
        using var tapped = net.Forward(x, (_, _) => { });          // a tap always runs the batch at once
        net.MembersPerChunk = membersPerChunk;
        using var chunked = net.forward(x);
        Assert.Equal(whole.shape, chunked.shape);
        double diff = (chunked - whole).abs().max().item<double>();
        double scale = whole.abs().max().item<double>();
        Assert.True(scale > 0);
        Assert.True(diff <= 1e-13 * scale, $"chunked forward differs by {diff:E3} (scale {scale:E3})");
        // The tapped path runs the decoder and the big skip as separate layers (to show the decoder's output);
        // the untapped inference path accumulates the skip into the decoder's tiles: equal up to rounding.
        Assert.True((tapped - whole).abs().max().item<double>() <= 1e-13 * scale);
        // Each member alone gives its slice of the batch result.
        using var second = net.forward(x.narrow(0, 1, 1));
        Assert.True((second - whole.narrow(0, 1, 1)).abs().max().item<double>() <= 1e-13 * scale);
    }
}
