using Ensemble.Models.Sfno;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

/// <summary>
/// The raw-memory forward (<see cref="NativeForward"/>) runs the layer path's kernels on workspace buffers: its result
/// must equal the layer path's bit for bit, on one thread and on the workers, for the shapes and options it takes
/// (grid change or not, big skip or not, no MLP, no norm, layers too wide for the strips), and models it does not take
/// must still run (through the layer path).
/// </summary>
[Collection("torch thread count")]
public class NativeForwardTests(ITestOutputHelper output)
{
    static SphericalFourierNeuralOperatorNet Net(SfnoConfig config)
    {
        var net = new SphericalFourierNeuralOperatorNet(config, seed: 5);
        net.eval();
        // Non-trivial biases and norm affines (the initialisation leaves them 0 and 1), so every term is exercised.
        using var noGrad = torch.no_grad();
        var g = new Generator(11);
        foreach (var (_, p) in net.named_parameters())
            if (!p.is_complex()) p.add_(torch.randn(p.shape, generator: g).mul_(0.2));
        return net;
    }

    static Tensor Layered(SphericalFourierNeuralOperatorNet net, Tensor x)
    {
        NativeForward.Enabled = false;
        try { return net.forward(x); }
        finally { NativeForward.Enabled = true; }
    }

    static T WithThreads<T>(int threads, Func<T> body)
    {
        int before = torch.get_num_threads();
        torch.set_num_threads(threads);
        try { return body(); }
        finally { torch.set_num_threads(before); }
    }

    public static TheoryData<string> Options => ["default", "scale 1", "no big skip", "no mlp", "no norm", "wide", "odd grid", "relu"];

    static SfnoConfig Config(string option) => option switch
    {
        "default" => new SfnoConfig { ImgShapeX = 33, ImgShapeY = 64, ScaleFactor = 2, NInChannels = 3, NOutChannels = 2, EmbedDim = 16, NumLayers = 3 },
        "scale 1" => new SfnoConfig { ImgShapeX = 16, ImgShapeY = 32, ScaleFactor = 1, NInChannels = 3, NOutChannels = 3, EmbedDim = 8, NumLayers = 2 },
        "no big skip" => new SfnoConfig { ImgShapeX = 33, ImgShapeY = 64, ScaleFactor = 2, NInChannels = 3, NOutChannels = 3, EmbedDim = 16, NumLayers = 2, BigSkip = false },
        "no mlp" => new SfnoConfig { ImgShapeX = 33, ImgShapeY = 64, ScaleFactor = 2, NInChannels = 2, NOutChannels = 2, EmbedDim = 16, NumLayers = 2, UseMlp = false },
        "no norm" => new SfnoConfig { ImgShapeX = 33, ImgShapeY = 64, ScaleFactor = 2, NInChannels = 2, NOutChannels = 2, EmbedDim = 16, NumLayers = 2, NormalizationLayer = "none" },
        // E + hidden = 288 > 256: the block rest takes the MKL tiles, the encoder and decoder the strips.
        "wide" => new SfnoConfig { ImgShapeX = 17, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 2, NOutChannels = 2, EmbedDim = 96, NumLayers = 2 },
        "odd grid" => new SfnoConfig { ImgShapeX = 19, ImgShapeY = 30, ScaleFactor = 3, NInChannels = 4, NOutChannels = 4, EmbedDim = 12, NumLayers = 3 },
        "relu" => new SfnoConfig { ImgShapeX = 33, ImgShapeY = 64, ScaleFactor = 2, NInChannels = 3, NOutChannels = 3, EmbedDim = 16, NumLayers = 2, ActivationFunction = "relu" },
        _ => throw new ArgumentException(option),
    };

    [Theory]
    [MemberData(nameof(Options))]
    public void EqualsTheLayerPathBitForBit(string option)
    {
        var config = Config(option);
        using var net = Net(config);
        using var inference = torch.inference_mode();
        using var x = torch.randn([3, config.NInChannels, config.ImgShapeX, config.ImgShapeY], generator: new Generator(2));
        WithThreads(1, () =>
        {
            Assert.True(NativeForward.Applies(net, x), $"{option}: the native forward should take this model");
            using var native = net.forward(x);
            // Members one by one against the layer path on that member alone (the layer path forwards a one-thread
            // batch jointly, whose batch-shaped MKL calls round differently), and the native batch's rows against them.
            for (long m = 0; m < x.shape[0]; m++)
            {
                using var xm = x.narrow(0, m, 1);
                using var one = net.forward(xm);
                using var layered = Layered(net, xm);
                output.WriteLine($"{option}, member {m}: max |native − layered| = {(one - layered).abs().max().item<float>():E3}");
                Assert.True(one.bytes.SequenceEqual(layered.bytes), $"{option}: member {m}: native forward differs from the layer path");
                using var row = native.narrow(0, m, 1).contiguous();
                Assert.True(one.bytes.SequenceEqual(row.bytes), $"{option}: member {m} alone differs from its batch row");
            }
            return 0;
        });
        // On 2 workers: a member alone (its pieces shared) and the batch (one member per worker) give the same bytes.
        using var alone = WithThreads(1, () => net.forward(x.narrow(0, 1, 1)));
        WithThreads(2, () =>
        {
            using var shared = net.forward(x.narrow(0, 1, 1));
            Assert.True(shared.bytes.SequenceEqual(alone.bytes), $"{option}: member on 2 workers differs from one thread");
            using var batch = net.forward(x);
            using var row = batch.narrow(0, 1, 1).contiguous();
            Assert.True(row.bytes.SequenceEqual(alone.bytes), $"{option}: batch row on 2 workers differs from the member alone");
            return 0;
        });
    }

    [Fact]
    public void ModelsItDoesNotTakeRunThroughTheLayerPath()
    {
        var config = new SfnoConfig { ImgShapeX = 16, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 2, NOutChannels = 2, EmbedDim = 8, NumLayers = 2, PosEmbed = "direct" };
        using var net = Net(config);
        using var inference = torch.inference_mode();
        using var x = torch.randn([2, 2, 16, 32], generator: new Generator(4));
        WithThreads(1, () =>
        {
            Assert.False(NativeForward.Applies(net, x), "pos_embed is left to the layer path");
            using var y = net.forward(x);
            using var layered = Layered(net, x);
            Assert.True(y.bytes.SequenceEqual(layered.bytes));
            return 0;
        });
        using var f64 = new SphericalFourierNeuralOperatorNet(config with { PosEmbed = "none" }, ScalarType.Float64, seed: 1);
        using var x64 = x.to(ScalarType.Float64);
        WithThreads(1, () =>
        {
            Assert.False(NativeForward.Applies(f64, x64), "float64 models are left to the layer path");
            return 0;
        });
    }

    [Fact]
    public void ReloadedWeightsAreUsedByTheNextForward()
    {
        var config = Config("default");
        using var net = Net(config);
        using var other = Net(config);
        using var noGrad = torch.no_grad();
        foreach (var (_, p) in other.named_parameters()) p.mul_(0.9);
        using var x = torch.randn([1, config.NInChannels, config.ImgShapeX, config.ImgShapeY], generator: new Generator(3));
        WithThreads(1, () =>
        {
            using (torch.inference_mode())
            using (net.forward(x)) { }                                                 // workspace and pointers in use
            net.LoadStateDict(other.state_dict(), "other");
            using var inference = torch.inference_mode();
            using var y = net.forward(x);
            using var want = Layered(other, x);
            Assert.True(y.bytes.SequenceEqual(want.bytes), "the forward after a reload must use the new weights");
            return 0;
        });
    }
}
