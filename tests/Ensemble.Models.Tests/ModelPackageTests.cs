using Ensemble.Core;
using Ensemble.Data.Npy;
using Ensemble.Models.Packages;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests;

public class ModelPackageTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("ic_input.npy")]
    [InlineData("ic_input_float32.npy")]
    public void OneStepReproducesMakaniPhysicalOutput(string input)
    {
        string dir = Shared.Require("fixtures/sfno_small_package");
        using var package = ModelPackage.Load(dir);
        var forecaster = new Forecaster(package);
        using var x = NpyFile.Read(Path.Combine(dir, input)).ToTensor();
        using var y = forecaster.Step(x);
        using var expected = NpyFile.Read(Path.Combine(dir, "expected_output_physical.npy")).ToTensor();
        Assert.Equal(expected.shape, y.shape);
        var outIdx = package.Config.OutChannels!;
        for (int c = 0; c < expected.shape[1]; c++)
        {
            double std = package.Statistics.Stds[outIdx[c]];
            using var d = (y.select(1, c) - expected.select(1, c)).abs().max();
            double rel = d.item<double>() / std;
            output.WriteLine($"{package.Config.OutChannelNames[c]}: max |Δ| = {rel:E3} × std");
            Assert.True(rel <= 5e-5, $"channel {c}: {rel:E3} × std > 5e-5");
        }
    }

    [SkippableFact]
    public void InvalidInputsAreUserErrors()
    {
        string dir = Shared.Require("fixtures/sfno_small_package");
        using var package = ModelPackage.Load(dir);
        var f = new Forecaster(package);
        using var wrongChannels = torch.zeros(1, 6, 73, 144, dtype: ScalarType.Float64);
        Assert.Contains("channels", Assert.Throws<EnsembleException>(() => f.Step(wrongChannels)).Message);
        using var wrongGrid = torch.zeros(1, 7, 72, 144, dtype: ScalarType.Float64);
        Assert.Contains("grid", Assert.Throws<EnsembleException>(() => f.Step(wrongGrid)).Message);
        using var x = NpyFile.Read(Path.Combine(dir, "ic_input.npy")).ToTensor();
        using var withNan = x.clone();
        withNan[0, 2, 10, 10] = torch.tensor(double.NaN);
        Assert.Contains("NaN", Assert.Throws<EnsembleException>(() => f.Step(withNan)).Message);
        // 7 inputs, 5 outputs: a rollout cannot feed the output back.
        Assert.Throws<EnsembleException>(() => f.Rollout(x, 2).ToList());
    }

    [SkippableFact]
    public void MissingOrMisshapenStatisticsAreUserErrors()
    {
        string dir = Shared.Require("fixtures/sfno_small_package");
        using var tmp = new TempDir();
        foreach (var f in new[] { "config.json", "metadata.json", "global_means.npy" })
            File.Copy(Path.Combine(dir, f), tmp.File(f));
        Directory.CreateDirectory(tmp.File("training_checkpoints"));
        File.Copy(Path.Combine(dir, ModelPackage.CheckpointPath), tmp.File(ModelPackage.CheckpointPath));
        Assert.Contains("global_stds.npy", Assert.Throws<EnsembleException>(() => ModelPackage.Load(tmp.Path)).Message);
        NpyFile.Write(tmp.File("global_stds.npy"), NpyArray.FromFloats(new float[6], 1, 6, 1, 1));
        Assert.Contains("expected (1, 7, 1, 1)", Assert.Throws<EnsembleException>(() => ModelPackage.Load(tmp.Path)).Message);
    }
}
