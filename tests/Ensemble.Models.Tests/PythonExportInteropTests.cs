using System.Globalization;
using Ensemble.Data.Datasets;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;

namespace Ensemble.Models.Tests;

/// <summary>What we train must be readable by Python tools: PyTorch's own torch.load reads our exported checkpoint.</summary>
public class PythonExportInteropTests
{
    [SkippableFact]
    public void Torch_load_reads_an_exported_package_with_makani_keys_and_exact_values()
    {
        PythonInterop.RequireOrSkip("torch, numpy");
        var config = new SfnoConfig
        {
            ImgShapeX = 17, ImgShapeY = 32, ScaleFactor = 2, EmbedDim = 8, NumLayers = 2, NInChannels = 2, NOutChannels = 2,
            ChannelNames = ["z500", "t850"], InChannels = [0, 1], OutChannels = [0, 1],
        };
        using var model = new SphericalFourierNeuralOperatorNet(config, seed: 3);
        var stats = new ChannelNormalization(["z500", "t850"], [5500.0, 270.0], [300.0, 12.0]);
        using var tmp = new TempDir();
        ModelPackage.Export(tmp.Path, model, stats, epoch: 7, iters: 70);

        string script = """
            import sys, torch, numpy as np
            ck = torch.load(sys.argv[1] + '/training_checkpoints/best_ckpt_mp0.tar', map_location='cpu', weights_only=True)
            sd = ck['model_state']
            print(ck['epoch'], ck['iters'])
            for k, v in sd.items():
                t = torch.view_as_real(v) if v.is_complex() else v
                print(k, str(v.dtype).replace('torch.', ''), 'x'.join(str(s) for s in v.shape) or '-', repr(float(t.double().sum())))
            m = np.load(sys.argv[1] + '/global_means.npy'); s = np.load(sys.argv[1] + '/global_stds.npy')
            print('stats', m.shape, float(m[0, 1, 0, 0]), float(s[0, 0, 0, 0]))
            """;
        var lines = PythonInterop.RunWith("torch, numpy", script, tmp.Path).Trim().Split('\n');
        Assert.Equal("7 70", lines[0].Trim());
        var expected = model.state_dict();
        var seen = lines[1..^1].Select(l => l.Split(' ')).ToDictionary(p => p[0], p => p);
        Assert.Equal(expected.Keys.Select(k => "module.model." + k).Order(), seen.Keys.Order());
        foreach (var (key, tensor) in expected)
        {
            var p = seen["module.model." + key];
            Assert.Equal(tensor.is_complex() ? "complex64" : "float32", p[1]);
            Assert.Equal(tensor.shape.Length == 0 ? "-" : string.Join("x", tensor.shape), p[2]);
            using var real = tensor.is_complex() ? torch.view_as_real(tensor) : tensor;
            double sum = real.to(torch.float64).sum().item<double>();
            Assert.Equal(sum, double.Parse(p[3], CultureInfo.InvariantCulture), 9);
        }
        Assert.Equal("stats (1, 2, 1, 1) 270.0 300.0", lines[^1].Trim());
    }
}
