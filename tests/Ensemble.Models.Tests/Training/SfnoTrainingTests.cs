using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Models.Sfno;
using Ensemble.Models.Training;
using Ensemble.Spherical;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests.Training;

/// <summary>The real model learns: an SFNO trained on solid-body rotation beats its initial state tenfold.</summary>
public class SfnoTrainingTests(ITestOutputHelper output)
{
    [Fact]
    public void Sfno_training_on_solid_body_rotation_reduces_validation_loss_tenfold()
    {
        // Budget: 3 channels on 33x64, embed 16, 2 layers; 12 epochs of 8 steps (well under a CPU-minute on 2 cores).
        var train = new SolidBodyRotationDataset(33, 64, channels: 3, trajectories: 12, trajectoryLength: 10, seed: 1);
        var val = new SolidBodyRotationDataset(33, 64, channels: 3, trajectories: 3, trajectoryLength: 10, seed: 2);
        var hyper = new SfnoHyperparameters { EmbedDim = 16, NumLayers = 2, ScaleFactor = 2 };
        var config = hyper.ToConfig(train.Channels, 33, 64, "equiangular", 6);
        var norm = train.ComputeNormalization(Enumerable.Range(0, train.Count));
        var recipe = new TrainingConfig { Stages = [new TrainingStage(12, 1, 1e-2)], BatchSize = 4, StepsPerEpoch = 8, WarmupSteps = 6, MinLearningRateFraction = 0.05 };
        using var tmp = new TempDir();
        var latitudes = new SphericalGrid(GridType.Equiangular, 33, 64).LatitudesDeg();
        var trainer = new Trainer(recipe, () => new SphericalFourierNeuralOperatorNet(config, seed: 4), train, val, norm, latitudes, 4, tmp.Path);
        double initial;
        using (var fresh = new SphericalFourierNeuralOperatorNet(config, seed: 4)) initial = trainer.Validate(fresh);
        var result = trainer.Run();
        foreach (var e in result.History) output.WriteLine($"epoch {e.Epoch}: train {e.TrainLoss:G4} val {e.ValidationLoss:G4}");
        output.WriteLine($"initial validation loss {initial:G4}, best {result.BestValidationLoss:G4}");
        Assert.True(result.BestValidationLoss * 10 <= initial, $"validation loss {initial:G4} -> {result.BestValidationLoss:G4} (< 10x)");
    }
}
