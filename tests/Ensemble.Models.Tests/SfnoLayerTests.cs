using Ensemble.Data.Datasets;
using Ensemble.Models.Checkpoints;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.Spherical;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

/// <summary>
/// Paths the fixture cannot exercise (its biases are 0, norms (1, 0), no pos_embed): a float64 model with random
/// non-zero weights everywhere against a forward written out by hand from reference §7.3.
/// </summary>
public class SfnoLayerTests(ITestOutputHelper output)
{
    static SfnoConfig Small(string posEmbed) => new()
    {
        ImgShapeX = 17, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 3, NOutChannels = 2, EmbedDim = 5, NumLayers = 3, PosEmbed = posEmbed,
    };

    static void Randomise(nn.Module m, long seed)
    {
        using var g = new torch.Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in m.named_parameters())
        {
            var realType = p.dtype switch { ScalarType.ComplexFloat64 => ScalarType.Float64, ScalarType.ComplexFloat32 => ScalarType.Float32, _ => p.dtype };
            using var r = torch.randn(p.is_complex() ? [.. p.shape, 2] : p.shape, dtype: realType, generator: g) * 0.4;
            using var v = p.is_complex() ? torch.view_as_complex(r.contiguous()) : name.Contains("norm") && name.EndsWith("weight") ? r + 1.0 : r.alias();
            p.copy_(v);
        }
    }

    static Tensor Conv(Tensor x, Tensor w, Tensor? b)
    {
        var y = torch.einsum("oi,bihw->bohw", w.flatten(1), x);
        return b is null ? y : y + b.reshape(1, -1, 1, 1);
    }

    static Tensor Gelu(Tensor x) => 0.5 * x * (1 + torch.special.erf(x / Math.Sqrt(2)));

    static Tensor Norm(Tensor x, Tensor g, Tensor b)
    {
        var mu = x.mean([2, 3], keepdim: true);
        var var = (x - mu).pow(2).mean([2, 3], keepdim: true);
        return (x - mu) / torch.sqrt(var + 1e-6) * g.reshape(1, -1, 1, 1) + b.reshape(1, -1, 1, 1);
    }

    /// <summary>§7.3 written out with raw weights from the state dict and independently built transforms.</summary>
    static Tensor Reference(SfnoConfig c, Dictionary<string, Tensor> p, Tensor x)
    {
        var eq = GridType.Equiangular; var lg = GridType.LegendreGauss;
        var d = ScalarType.Float64;
        using var transDown = new RealSHT(c.ImgShapeX, c.ImgShapeY, c.ModesLat, c.ModesLon, eq, dtype: d);
        using var itransUp = new InverseRealSHT(c.ImgShapeX, c.ImgShapeY, c.ModesLat, c.ModesLon, eq, dtype: d);
        using var trans = new RealSHT(c.H, c.W, c.ModesLat, c.ModesLon, lg, dtype: d);
        using var itrans = new InverseRealSHT(c.H, c.W, c.ModesLat, c.ModesLon, lg, dtype: d);
        var y = Conv(Gelu(Conv(x, p["encoder.fwd.0.weight"], p["encoder.fwd.0.bias"])), p["encoder.fwd.2.weight"], null);
        if (p.TryGetValue("pos_embed", out var pe)) y = y + pe;
        if (p.TryGetValue("pos_embed.0", out var re))
        {
            var im = nn.functional.pad(p["pos_embed.1"], [1, 0]);
            y = y + itransUp.forward(torch.complex(re, im));
        }
        for (int i = 0; i < c.NumLayers; i++)
        {
            string k = $"blocks.{i}.";
            nn.Module<Tensor, Tensor> fwd = i == 0 ? transDown : trans;
            nn.Module<Tensor, Tensor> inv = i == c.NumLayers - 1 ? itransUp : itrans;
            var xs = fwd.forward(y);
            bool changes = i == 0 || i == c.NumLayers - 1;
            var skip = changes ? inv.forward(xs) : y;
            var z = inv.forward(torch.einsum("bixy,iox->boxy", xs, p[k + "filter.filter.weight"]));
            z = Gelu(Norm(z, p[k + "norm0.weight"], p[k + "norm0.bias"]));
            z = Conv(Gelu(Conv(z, p[k + "mlp.fwd.0.weight"], p[k + "mlp.fwd.0.bias"])), p[k + "mlp.fwd.3.weight"], p[k + "mlp.fwd.3.bias"]);
            z = Norm(z, p[k + "norm1.weight"], p[k + "norm1.bias"]);
            y = z + Conv(skip, p[k + "outer_skip.weight"], null);
        }
        y = Conv(Gelu(Conv(y, p["decoder.fwd.0.weight"], p["decoder.fwd.0.bias"])), p["decoder.fwd.2.weight"], null);
        return y + Conv(x, p["residual_transform.weight"], null);
    }

    /// <summary>
    /// Both inference paths of the pointwise layers: <c>fused</c> forces the cache-tiled path (PointwiseFusion) at any
    /// thread count; otherwise it runs only on one intra-op thread (this small model's fields are below its size rule).
    /// </summary>
    [Theory]
    [InlineData("none", false)]
    [InlineData("direct", false)]
    [InlineData("frequency", false)]
    [InlineData("none", true)]
    [InlineData("direct", true)]
    public void NonZeroBiasesNormAffineAndPositionEmbeddingsMatchTheHandWrittenForward(string posEmbed, bool fused)
    {
        int before = PointwiseFusion.MaxThreads;
        PointwiseFusion.MaxThreads = fused ? int.MaxValue : before;
        try { HandWritten(posEmbed); }
        finally { PointwiseFusion.MaxThreads = before; }
    }

    void HandWritten(string posEmbed)
    {
        var c = Small(posEmbed);
        using var net = new SphericalFourierNeuralOperatorNet(c, ScalarType.Float64);
        Randomise(net, 7);
        var p = net.state_dict();
        using var g = new torch.Generator(3);
        using var x = torch.randn([2, c.ModelInputChannels, c.ImgShapeX, c.ImgShapeY], dtype: ScalarType.Float64, generator: g);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var y = net.forward(x);
        var want = Reference(c, p, x);
        double rel = TestTensors.RelativeError(y, want);
        output.WriteLine($"pos_embed {posEmbed}: relative error {rel:E3}");
        Assert.True(rel <= 1e-12, $"relative error {rel:E3}");
        // The non-zero paths really matter: zeroing the norm biases changes the output.
        net.Blocks[1].Norm1!.bias!.zero_();
        Assert.True(TestTensors.RelativeError(net.forward(x), want) > 1e-6);
    }

    /// <summary>
    /// float32 inference with the native kernels (MKL gemms and SIMD elementwise passes in the pointwise tiles, the
    /// native SHT) against the hand-written float64 forward: non-zero biases, norm affine and position embeddings.
    /// </summary>
    [Theory]
    [InlineData("none")]
    [InlineData("direct")]
    [InlineData("frequency")]
    public void Float32NativeKernelsMatchTheHandWrittenForward(string posEmbed)
    {
        Assert.True(Ensemble.Core.Native.NativeKernels.Enabled || !OperatingSystem.IsLinux(), Ensemble.Core.Native.Mkl.Unavailable);
        int before = PointwiseFusion.MaxThreads;
        PointwiseFusion.MaxThreads = int.MaxValue;
        try
        {
            var c = Small(posEmbed);
            using var net = new SphericalFourierNeuralOperatorNet(c, ScalarType.Float32);
            Randomise(net, 7);
            var p = net.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.to(kv.Value.is_complex() ? ScalarType.ComplexFloat64 : ScalarType.Float64));
            using var g = new torch.Generator(3);
            using var x = torch.randn([2, c.ModelInputChannels, c.ImgShapeX, c.ImgShapeY], dtype: ScalarType.Float64, generator: g);
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var y = net.forward(x.to(ScalarType.Float32)).to(ScalarType.Float64);
            double rel = TestTensors.RelativeError(y, Reference(c, p, x));
            output.WriteLine($"pos_embed {posEmbed}, float32 native: relative error {rel:E3}");
            Assert.True(rel <= 1e-5, $"relative error {rel:E3}");
        }
        finally { PointwiseFusion.MaxThreads = before; }
    }

    [Fact]
    public void ExportedPackageReloadsBitExactly()
    {
        var c = Small("none") with { ChannelNames = ["a", "b", "c"], InChannels = [0, 1, 2], OutChannels = [0, 1], NOutChannels = 2 };
        using var net = new SphericalFourierNeuralOperatorNet(c);
        Randomise(net, 11);
        var stats = new ChannelNormalization(["a", "b", "c"], [1.5, -2.25, 280.0], [0.5, 3.0, 12.5]);
        using var tmp = new TempDir();
        ModelPackage.Export(tmp.Path, net, stats, epoch: 3, iters: 42);
        using var pkg = ModelPackage.Load(tmp.Path);
        var a = net.state_dict();
        var b = pkg.Model.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        foreach (var k in a.Keys) Assert.True(a[k].shape.SequenceEqual(b[k].shape) && a[k].dtype == b[k].dtype && a[k].eq(b[k]).all().item<bool>(), $"{k} differs after export/load");
        Assert.Equal(stats.Means, pkg.Statistics.Means);
        Assert.Equal(stats.Stds, pkg.Statistics.Stds);
        Assert.Equal(c.ToJson(), pkg.Config.ToJson());
        var keys = MakaniCheckpoint.ReadModelState(Path.Combine(tmp.Path, ModelPackage.CheckpointPath)).Keys;
        Assert.All(keys, k => Assert.StartsWith("module.model.", k));
    }

    [Fact]
    public void OwnCheckpointFormatRoundTripsWeightsAndSidecar()
    {
        var c = Small("frequency") with { ChannelNames = ["a", "b", "c"] };
        using var net = new SphericalFourierNeuralOperatorNet(c);
        Randomise(net, 5);
        var info = new SfnoCheckpointInfo
        {
            Config = c, ChannelNames = ["a", "b", "c"], Means = [1, 2, 3], Stds = [4, 5, 6], TrainingSeed = 99,
            DataStart = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), DataEnd = new DateTime(2020, 12, 31, 18, 0, 0, DateTimeKind.Utc),
            Metrics = new() { ["val_loss"] = 0.125 },
        };
        using var tmp = new TempDir();
        string path = tmp.File("model.dat");
        SfnoCheckpointFile.Save(path, net, info);
        var (loaded, back) = SfnoCheckpointFile.Load(path);
        using (loaded)
        {
            var a = net.state_dict(); var b = loaded.state_dict();
            foreach (var k in a.Keys) Assert.True(a[k].shape.SequenceEqual(b[k].shape) && a[k].dtype == b[k].dtype && a[k].eq(b[k]).all().item<bool>(), k);
        }
        Assert.Equal(99, back.TrainingSeed);
        Assert.Equal(info.DataEnd, back.DataEnd);
        Assert.Equal(0.125, back.Metrics["val_loss"]);
        Assert.Equal(c.ToJson(), back.Config.ToJson());
    }

    [SkippableFact]
    public void PackageConfigJsonRoundTripsEveryKey()
    {
        string path = Path.Combine(Shared.Require("fixtures/sfno_small_package"), "config.json");
        var original = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var again = System.Text.Json.Nodes.JsonNode.Parse(SfnoConfig.Load(path).ToJson())!.AsObject();
        foreach (var (key, value) in original)
            Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(value, again[key]), $"key '{key}' changed");
    }
}
