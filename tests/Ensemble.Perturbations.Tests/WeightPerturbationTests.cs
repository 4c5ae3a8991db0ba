using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Perturbations.Tests;

/// <summary>Seeded relative Gaussian noise on selected parameter groups of one checkpoint.</summary>
public class WeightPerturbationTests(ITestOutputHelper output)
{
    static readonly SfnoConfig Small = new()
    {
        ImgShapeX = 16, ImgShapeY = 32, ScaleFactor = 2, NInChannels = 3, NOutChannels = 3, EmbedDim = 16, NumLayers = 3,
        ChannelNames = TinyModel.Channels, InChannels = [0, 1, 2], OutChannels = [0, 1, 2],
    };

    static SphericalFourierNeuralOperatorNet Net()
    {
        var net = new SphericalFourierNeuralOperatorNet(Small);
        TinyModel.Randomise(net, 21);
        return net;
    }

    static Dictionary<string, double[]> Snapshot(SphericalFourierNeuralOperatorNet net) =>
        net.named_parameters().ToDictionary(p => p.name, p => Reference.Values(p.parameter.is_complex() ? torch.view_as_real(p.parameter) : p.parameter));

    [Fact]
    public void OnlyTheSelectedGroupsChangeWithTheRequestedRelativeStd()
    {
        using var net = Net();
        var before = Snapshot(net);
        var cfg = new WeightPerturbationConfig { RelativeStd = 0.05, Groups = ["blocks.*.filter", "decoder"] };
        var result = WeightPerturbation.Apply(net, cfg, PerturbationSeeds.Weights(42, 3, 0));
        var after = Snapshot(net);
        Assert.Equal(before.Keys.Where(k => k.Contains(".filter.") || k.StartsWith("decoder.")), result.Parameters);
        var ratios = new List<double>();
        foreach (var (name, w0) in before)
        {
            var w1 = after[name];
            if (!result.Parameters.Contains(name))
            {
                Assert.True(w0.Zip(w1).All(p => BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second)), $"{name} changed but is not selected");
                continue;
            }
            for (int i = 0; i < w0.Length; i++)
                if (w0[i] != 0) ratios.Add(w1[i] / w0[i] - 1);
        }
        // The parameters are float32, so each ratio carries ~1e-7 rounding; the std estimate over n samples has a
        // relative standard error of 1/√(2n).
        double mean = ratios.Average(), std = Math.Sqrt(ratios.Average(r => (r - mean) * (r - mean)));
        double se = 0.05 / Math.Sqrt(2.0 * ratios.Count);
        output.WriteLine($"{ratios.Count} perturbed elements in {result.Parameters.Count} tensors: relative noise mean {mean:E2}, std {std:F5} (target 0.05, ±{4 * se:E1})");
        Assert.Equal(ratios.Count, result.Elements);
        Assert.True(Math.Abs(std - 0.05) < 4 * se, $"std {std}");
        Assert.True(Math.Abs(mean) < 4 * 0.05 / Math.Sqrt(ratios.Count), $"mean {mean}");
    }

    [Fact]
    public void TheSeedReproducesThePerturbationAndOtherSeedsOrVariantsDiffer()
    {
        var cfg = new WeightPerturbationConfig { RelativeStd = 0.01, Groups = ["mlp"] };
        using var a = Net();
        using var b = Net();
        using var c = Net();
        long seed = PerturbationSeeds.Weights(42, 3, 0);
        WeightPerturbation.Apply(a, cfg, seed);
        WeightPerturbation.Apply(b, cfg, seed);
        WeightPerturbation.Apply(c, cfg, PerturbationSeeds.Weights(42, 3, 1));
        var sa = Snapshot(a); var sb = Snapshot(b); var sc = Snapshot(c);
        Assert.All(sa.Keys, k => Assert.True(Reference.BitEqual(torch.tensor(sa[k]), torch.tensor(sb[k])), k));
        Assert.Contains(sa.Keys, k => k.Contains(".mlp.") && !Reference.BitEqual(torch.tensor(sa[k]), torch.tensor(sc[k])));
        Assert.NotEqual(PerturbationSeeds.Weights(42, 3, 0), PerturbationSeeds.Weights(42, 4, 0));
        Assert.NotEqual(PerturbationSeeds.Weights(42, 3, 0), PerturbationSeeds.Weights(43, 3, 0));
        // A parameter's noise does not depend on which other groups are selected.
        using var d = Net();
        WeightPerturbation.Apply(d, cfg with { Groups = ["mlp", "encoder"] }, seed);
        var sd = Snapshot(d);
        Assert.All(sa.Keys.Where(k => k.Contains(".mlp.")), k => Assert.True(Reference.BitEqual(torch.tensor(sa[k]), torch.tensor(sd[k])), k));
    }

    [Fact]
    public void APerturbedPackageCopyMatchesAndLeavesTheFilesAlone()
    {
        using var tmp = new TempDir();
        using (var net = Net())
            ModelPackage.Export(tmp.Path, net, new ChannelNormalization(TinyModel.Channels, [5.5e4, 270, 0.003], [3000, 15, 0.002]));
        var cfg = new WeightPerturbationConfig { RelativeStd = 0.02, Groups = ["encoder"] };
        long seed = PerturbationSeeds.Weights(1, 0, 2);
        using var perturbed = WeightPerturbation.LoadPerturbed(tmp.Path, cfg, seed);
        using var plain = ModelPackage.Load(tmp.Path);
        using var byHand = Net();
        WeightPerturbation.Apply(byHand, cfg, seed);
        var sp = Snapshot(perturbed.Model); var sh = Snapshot(byHand); var s0 = Snapshot(plain.Model);
        Assert.All(sp.Keys, k => Assert.True(Reference.BitEqual(torch.tensor(sp[k]), torch.tensor(sh[k])), k));
        Assert.Contains(sp.Keys, k => k.StartsWith("encoder.") && !Reference.BitEqual(torch.tensor(sp[k]), torch.tensor(s0[k])));
        // The perturbed copy still runs and changes the forecast a little.
        using var x = TinyModel.Analysis(new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)).unsqueeze(0);
        using var y0 = new Forecaster(plain).Step(x);
        using var y1 = new Forecaster(perturbed).Step(x);
        double rel = ((y1 - y0).norm() / (y0 - x).norm()).item<double>();
        output.WriteLine($"relative change of the 6-h tendency: {rel:E2}");
        Assert.True(rel > 1e-4 && rel < 0.5);
    }

    [Theory]
    [InlineData("blocks.*.filter", ".filter.")]
    [InlineData("blocks.1", "blocks.1.")]
    [InlineData("encoder", "encoder.")]
    [InlineData("norm*", ".norm")]
    public void PatternsSelectWholeSegments(string pattern, string contains)
    {
        using var net = Net();
        var names = net.named_parameters().Select(p => p.name).ToList();
        var chosen = WeightPerturbation.Select(names, [pattern]);
        Assert.NotEmpty(chosen);
        Assert.All(chosen, n => Assert.Contains(contains, "." + n));
        Assert.Equal(names.Count(n => ("." + n).Contains(contains)), chosen.Count);
    }

    [Fact]
    public void APatternThatMatchesNothingIsAnErrorNamingTheKey()
    {
        using var net = Net();
        var e = Assert.Throws<EnsembleException>(() => WeightPerturbation.Apply(net, new WeightPerturbationConfig { Groups = ["blocks.*.filtre"] }, 1));
        Assert.Contains("weights.groups", e.Message);
        Assert.Contains("blocks.*.filtre", e.Message);
        Assert.Contains("blocks.*.filter", e.Message);   // the available groups are listed
    }
}
