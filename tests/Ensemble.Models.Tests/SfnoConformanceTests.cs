using System.Text.Json;
using Ensemble.Data.Npy;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

public class SfnoConformanceTests(ITestOutputHelper output)
{
    static readonly string[] ActivationNames =
        ["encoder", "block0_filter", "block0", "block1_filter", "block1", "block2_filter", "block2", "block3_filter", "block3", "decoder"];

    [SkippableTheory]
    [InlineData("npz")]
    [InlineData("dat")]
    public void SmallModelMatchesMakaniOutputAndEveryActivation(string weights)
    {
        string dir = Shared.Require("fixtures/sfno_small");
        using var net = new SphericalFourierNeuralOperatorNet(TestTensors.SmallConfig(dir));
        if (weights == "npz")
        {
            var sd = TestTensors.ReadNpzTensors(Path.Combine(dir, "state_dict.npz"));
            net.LoadStateDict(sd, "state_dict.npz");
            foreach (var t in sd.Values) t.Dispose();
        }
        else
            net.load(Path.Combine(dir, "state_dict.torchsharp.dat"));
        net.eval();

        using var x = NpyFile.Read(Path.Combine(dir, "input.npy")).ToTensor();
        var acts = new Dictionary<string, Tensor>();
        using var inference = torch.inference_mode();
        using var y = net.Forward(x, (name, t) => acts[name] = t.detach().clone().DetachFromDisposeScope());
        using var expected = NpyFile.Read(Path.Combine(dir, "output.npy")).ToTensor();
        double rel = TestTensors.RelativeError(y, expected);
        output.WriteLine($"output: relative error {rel:E3}");
        Assert.True(rel <= 1e-5, $"output relative error {rel:E3} > 1e-5");
        foreach (var name in ActivationNames)
        {
            using var want = NpyFile.Read(Path.Combine(dir, $"act_{name}.npy")).ToTensor();
            double r = TestTensors.RelativeError(acts[name], want);
            output.WriteLine($"{name}: relative error {r:E3}");
            Assert.True(r <= 1e-5, $"{name} relative error {r:E3} > 1e-5");
        }
        foreach (var t in acts.Values) t.Dispose();
    }

    [SkippableFact]
    public void StateDictKeysAndShapesEqualMakani()
    {
        string dir = Shared.Require("fixtures/sfno_small");
        using var net = new SphericalFourierNeuralOperatorNet(TestTensors.SmallConfig(dir));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state_dict_keys.json")));
        var expected = doc.RootElement.EnumerateObject().ToList();
        var sd = net.state_dict();
        Assert.Equal(expected.Select(p => p.Name).ToList(), sd.Keys.ToList());
        foreach (var p in expected)
        {
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.Equal(shape, sd[p.Name].shape);
            string dtype = p.Value.GetProperty("dtype").GetString()!;
            Assert.Equal(dtype == "torch.complex64" ? ScalarType.ComplexFloat32 : ScalarType.Float32, sd[p.Name].dtype);
        }
    }

    [SkippableFact]
    public void ParameterCountOfTheFixtureModel()
    {
        string dir = Shared.Require("fixtures/sfno_small");
        using var info = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "info.json")));
        var count = SfnoParameterCount.Of(TestTensors.SmallConfig(dir));
        Assert.Equal(info.RootElement.GetProperty("n_params_numel").GetInt64(), count.Numel);
        Assert.Equal(info.RootElement.GetProperty("n_params_real").GetInt64(), count.RealNumbers);
    }

    public static TheoryData<string, string, int, bool, string> SmallConfigs => new()
    {
        { "none", "dhconv", 1, true, "instance_norm" },
        { "direct", "dhconv", 2, true, "instance_norm" },
        { "frequency", "dhconv", 3, false, "instance_norm" },
        { "none", "diagonal", 2, true, "none" },
    };

    [Theory]
    [MemberData(nameof(SmallConfigs))]
    public void ParameterCountFormulaEqualsTheAllocatedModel(string posEmbed, string op, int layers, bool bigSkip, string norm)
    {
        var c = new SfnoConfig
        {
            ImgShapeX = 17, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 3, NOutChannels = 2, EmbedDim = 6,
            NumLayers = layers, PosEmbed = posEmbed, OperatorType = op, BigSkip = bigSkip, NormalizationLayer = norm, AddZenith = true,
        };
        using var net = new SphericalFourierNeuralOperatorNet(c);
        long numel = 0, real = 0;
        foreach (var p in net.parameters())
        {
            numel += p.numel();
            real += p.is_complex() ? 2 * p.numel() : p.numel();
        }
        var count = SfnoParameterCount.Of(c);
        Assert.Equal(numel, count.Numel);
        Assert.Equal(real, count.RealNumbers);
    }

    [Fact]
    public void HensParameterCountMatchesTheReferenceTable()
    {
        var c = SfnoConfig.Hens();
        var count = SfnoParameterCount.Of(c);
        output.WriteLine($"HENS (74 ch, 721x1440, E 620, 8 layers, scale 2, {c.ModelInputChannels} inputs): " +
                         $"{count.Numel:N0} parameters, {count.FilterNumel:N0} complex filter weights, {count.RealNumbers:N0} real numbers");
        Assert.Equal(110, c.ModelInputChannels);
        Assert.Equal(1_123_374_980L, count.Numel);          // reference §7.4: 1,123,298,640 + 694·110
        Assert.Equal(1_107_072_000L, count.FilterNumel);
    }
}
