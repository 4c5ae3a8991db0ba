using System.Text.Json;
using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Models.Checkpoints;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Training;

/// <summary>The SFNO hyperparameters a training config chooses; sizes and channels come from the data.</summary>
public sealed record SfnoHyperparameters
{
    public int EmbedDim { get; init; } = 32;
    public int NumLayers { get; init; } = 4;
    public int ScaleFactor { get; init; } = 2;
    public double MlpRatio { get; init; } = 2.0;
    public double HardThresholdingFraction { get; init; } = 1.0;
    public string ShtGridType { get; init; } = "legendre-gauss";
    public string PosEmbed { get; init; } = "none";
    public string NormalizationLayer { get; init; } = "instance_norm";
    public bool BigSkip { get; init; } = true;
    public string ActivationFunction { get; init; } = "gelu";

    /// <summary>The makani config for data with these channels on an nlat × nlon grid.</summary>
    public SfnoConfig ToConfig(IReadOnlyList<string> channels, int nlat, int nlon, string dataGrid, int dhours)
    {
        var c = new SfnoConfig
        {
            EmbedDim = EmbedDim, NumLayers = NumLayers, ScaleFactor = ScaleFactor, MlpRatio = MlpRatio,
            HardThresholdingFraction = HardThresholdingFraction, ShtGridType = ShtGridType, PosEmbed = PosEmbed,
            NormalizationLayer = NormalizationLayer, BigSkip = BigSkip, ActivationFunction = ActivationFunction,
            ImgShapeX = nlat, ImgShapeY = nlon, ModelGridType = dataGrid, DataGridType = dataGrid,
            NInChannels = channels.Count, NOutChannels = channels.Count, ChannelNames = channels.ToList(),
            InChannels = Enumerable.Range(0, channels.Count).ToList(), OutChannels = Enumerable.Range(0, channels.Count).ToList(),
            DHours = dhours,
        };
        c.Validate("model");
        return c;
    }
}

/// <summary>A whole training config file: model hyperparameters and the training recipe.</summary>
public sealed record TrainRunConfig
{
    public SfnoHyperparameters Model { get; init; } = new();
    public TrainingConfig Training { get; init; } = new();
}

/// <summary>
/// Trains one SFNO checkpoint: normalisation from the training data, the training loop, then the best weights as
/// our checkpoint (<c>best.dat</c> + JSON sidecar) and as a makani package (<c>package/</c>) that `ensemble forecast`
/// and Python tools load. Different seeds give the independent checkpoints of a multi-checkpoint ensemble.
/// </summary>
public static class TrainingRun
{
    public const string CheckpointFile = "best.dat";
    public const string PackageFolder = "package";

    public static TrainingResult Execute(TrainRunConfig config, IFieldDataset train, IFieldDataset validation, GridType dataGrid,
        long seed, string outputDir, Device? device = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancel = default)
    {
        device ??= CPU;
        var dataGridName = dataGrid switch { GridType.LegendreGauss => "legendre-gauss", GridType.Lobatto => "lobatto", _ => "equiangular" };
        var sfno = config.Model.ToConfig(train.Channels, train.NLat, train.NLon, dataGridName, (int)train.Step.TotalHours);
        var norm = train.ComputeNormalization(Enumerable.Range(0, train.Count));
        var latitudes = new SphericalGrid(dataGrid, train.NLat, train.NLon).LatitudesDeg();
        var trainer = new Trainer(config.Training, () => new SphericalFourierNeuralOperatorNet(sfno, ScalarType.Float32, device, seed),
            train, validation, norm, latitudes, seed, outputDir, device, sfno.ToJson());
        var result = trainer.Run(progress, cancel);

        using var best = new SphericalFourierNeuralOperatorNet(sfno, ScalarType.Float32, device, seed);
        Trainer.LoadModule(best, result.BestModelPath);
        var info = new SfnoCheckpointInfo
        {
            Config = sfno, ChannelNames = train.Channels.ToList(), Means = norm.Means, Stds = norm.Stds, TrainingSeed = seed,
            DataStart = train.TimeOf(0), DataEnd = train.TimeOf(train.Count - 1),
            Metrics = new() { ["validation_loss"] = result.BestValidationLoss, ["best_epoch"] = result.BestEpoch },
        };
        SfnoCheckpointFile.Save(Path.Combine(outputDir, CheckpointFile), best, info);
        ModelPackage.Export(Path.Combine(outputDir, PackageFolder), best, norm, result.BestEpoch);
        return result;
    }
}
