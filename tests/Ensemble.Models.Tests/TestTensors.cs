using Ensemble.Data.Npy;
using Ensemble.Models.Sfno;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

static class TestTensors
{
    /// <summary>‖a − b‖₂ / ‖b‖₂ in float64.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        using var a = actual.detach().cpu().to(ScalarType.Float64);
        using var b = expected.detach().cpu().to(ScalarType.Float64);
        Assert.Equal(b.shape, a.shape);
        using var d = a - b;
        return d.norm().item<double>() / b.norm().item<double>();
    }

    public static double MaxAbs(Tensor t)
    {
        using var a = t.detach().cpu().to(ScalarType.Float64).abs().max();
        return a.item<double>();
    }

    /// <summary>The sfno_small model as built by the fixture's constructor kwargs (sfno_small/config.json).</summary>
    public static SfnoConfig SmallConfig(string fixtureDir)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(fixtureDir, "config.json")));
        var r = doc.RootElement;
        return new SfnoConfig
        {
            ImgShapeX = r.GetProperty("inp_shape")[0].GetInt32(),
            ImgShapeY = r.GetProperty("inp_shape")[1].GetInt32(),
            ScaleFactor = r.GetProperty("scale_factor").GetInt32(),
            NInChannels = r.GetProperty("inp_chans").GetInt32(),
            NOutChannels = r.GetProperty("out_chans").GetInt32(),
            EmbedDim = r.GetProperty("embed_dim").GetInt32(),
            NumLayers = r.GetProperty("num_layers").GetInt32(),
            ModelGridType = r.GetProperty("model_grid_type").GetString()!,
            ShtGridType = r.GetProperty("sht_grid_type").GetString()!,
            FilterType = r.GetProperty("filter_type").GetString()!,
            OperatorType = r.GetProperty("operator_type").GetString()!,
            UseMlp = r.GetProperty("use_mlp").GetBoolean(),
            MlpRatio = r.GetProperty("mlp_ratio").GetDouble(),
            ActivationFunction = r.GetProperty("activation_function").GetString()!,
            PosEmbed = r.GetProperty("pos_embed").GetString()!,
            NormalizationLayer = r.GetProperty("normalization_layer").GetString()!,
            HardThresholdingFraction = r.GetProperty("hard_thresholding_fraction").GetDouble(),
            BigSkip = r.GetProperty("big_skip").GetBoolean(),
        };
    }

    public static Dictionary<string, Tensor> ReadNpzTensors(string path) =>
        NpyFile.ReadNpz(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToTensor());
}
