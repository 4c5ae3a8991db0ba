using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Models.Training;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Models.Tests.Training;

// Bitwise-equal training runs need the torch thread count to stay put: an SFNO inference forward in a test running
// alongside sets the process-wide count to 1 for its duration (SfnoWorkers), which changes libtorch's reductions here.
[Collection("torch thread count")]
public class TrainerTests
{
    const int NLat = 12, NLon = 24;

    /// <summary>A per-channel circular convolution along longitude: can represent a rotation exactly.</summary>
    sealed class ZonalShiftNet : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Conv2d conv;
        public ZonalShiftNet(int channels) : base(nameof(ZonalShiftNet))
        {
            conv = nn.Conv2d(channels, channels, (1L, 7L), (1L, 1L), (0L, 3L), (1L, 1L), PaddingModes.Circular, channels);
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => conv.forward(x);
    }

    static (IFieldDataset Train, IFieldDataset Val, ChannelNormalization Norm) Data()
    {
        var train = new SolidBodyRotationDataset(NLat, NLon, channels: 2, trajectories: 6, trajectoryLength: 8, seed: 1);
        var val = new SolidBodyRotationDataset(NLat, NLon, channels: 2, trajectories: 2, trajectoryLength: 8, seed: 2);
        return (train, val, train.ComputeNormalization(Enumerable.Range(0, train.Count)));
    }

    static TrainingConfig Config(int epochs = 6) => new()
    {
        Stages = [new TrainingStage(epochs, 1, 2e-2), new TrainingStage(1, 2, 5e-3)],
        BatchSize = 4,
        WarmupSteps = 2,
    };

    static Trainer Make(TrainingConfig c, long seed, string dir)
    {
        var (train, val, norm) = Data();
        return new Trainer(c, () => new ZonalShiftNet(2), train, val, norm, LatitudeWeightedMse.EquiangularLatitudes(NLat), seed, dir);
    }

    static float[] Weights(string path)
    {
        using var m = new ZonalShiftNet(2);
        Trainer.LoadModule(m, path);
        return m.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void Training_on_solid_body_rotation_reduces_validation_loss_tenfold()
    {
        using var tmp = new TempDir();
        var trainer = Make(Config(), 7, tmp.Path);
        torch.manual_seed(Seeds.Derive(7, Seeds.Of("init")));
        double initial;
        using (var fresh = new ZonalShiftNet(2)) initial = trainer.Validate(fresh);
        var result = trainer.Run();
        Assert.True(result.BestValidationLoss * 10 <= initial, $"validation loss {initial:G4} -> {result.BestValidationLoss:G4}");
        Assert.Equal(7, result.History.Count);
        Assert.Equal(2, result.History[^1].RolloutSteps);
        Assert.True(File.Exists(result.BestModelPath));
        Assert.Contains(result.History, h => h.Best && h.Epoch == result.BestEpoch);
    }

    [Fact]
    public void Different_seeds_give_different_checkpoints_and_equal_seeds_equal_ones()
    {
        using var a = new TempDir();
        using var b = new TempDir();
        using var c = new TempDir();
        Make(Config(1), 1, a.Path).Run();
        Make(Config(1), 2, b.Path).Run();
        Make(Config(1), 1, c.Path).Run();
        Assert.NotEqual(Weights(Path.Combine(a.Path, Trainer.BestModelFile)), Weights(Path.Combine(b.Path, Trainer.BestModelFile)));
        Assert.Equal(Weights(Path.Combine(a.Path, Trainer.BestModelFile)), Weights(Path.Combine(c.Path, Trainer.BestModelFile)));
    }

    [Fact]
    public void An_interrupted_run_resumes_to_the_same_weights_as_an_uninterrupted_one()
    {
        using var whole = new TempDir();
        using var split = new TempDir();
        var full = Make(Config(3), 11, whole.Path).Run();

        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p => { if (p.Finished?.Epoch == 2) cts.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => Make(Config(3), 11, split.Path).Run(progress, cts.Token));
        var resumed = Make(Config(3), 11, split.Path).Run();

        Assert.True(resumed.Resumed);
        Assert.Equal(full.History.Select(h => h.ValidationLoss), resumed.History.Select(h => h.ValidationLoss));
        string[] lastFull = Directory.GetFiles(whole.Path, "epoch*-model.dat"), lastSplit = Directory.GetFiles(split.Path, "epoch*-model.dat");
        Assert.Single(lastFull);
        Assert.Single(lastSplit);
        Assert.Equal(Weights(lastFull[0]), Weights(lastSplit[0]));
    }

    [Fact]
    public void A_folder_holding_another_run_is_refused()
    {
        using var tmp = new TempDir();
        Make(Config(1), 1, tmp.Path).Run();
        var e = Assert.Throws<EnsembleException>(() => Make(Config(1), 99, tmp.Path).Run());
        Assert.Contains("different training run", e.Message);
    }

    [Fact]
    public void Invalid_configs_are_user_errors()
    {
        Assert.Throws<EnsembleException>(() => new TrainingConfig { Stages = [] }.Validate());
        Assert.Throws<EnsembleException>(() => new TrainingConfig { Stages = [new(1, 0, 1e-3)] }.Validate());
        Assert.Throws<EnsembleException>(() => new TrainingConfig { BatchSize = 0 }.Validate());
    }

    [Fact]
    public void Schedule_warms_up_then_decays_by_cosine()
    {
        Assert.Equal(0.25, LearningRateSchedule.At(0, 100, 1.0, 4, 0.0), 12);
        Assert.Equal(1.0, LearningRateSchedule.At(4, 100, 1.0, 4, 0.0), 12);
        Assert.Equal(0.5, LearningRateSchedule.At(52, 100, 1.0, 4, 0.0), 12);
        Assert.Equal(0.1, LearningRateSchedule.At(100, 100, 1.0, 4, 0.1), 12);
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; the cancellation must happen synchronously.</summary>
    sealed class SyncProgress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
