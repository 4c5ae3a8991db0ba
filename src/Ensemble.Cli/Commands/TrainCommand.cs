using System.CommandLine;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.Data.Datasets;
using Ensemble.Models.Training;
using Ensemble.Spherical;

namespace Ensemble.Cli.Commands;

/// <summary>`ensemble train`: one SFNO checkpoint from a YAML recipe, a dataset and a seed; resumable.</summary>
public static class TrainCommand
{
    public static Command Create(Func<ParseResult, Func<CommandContext, int>, int> wrap)
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "Training YAML (model hyperparameters and training stages)", Required = true };
        var data = new Option<string>("--data", "-d") { Description = $"Training data: a Makani-layout folder (train/, valid/ with YYYY.h5) or '{DataSources.SolidBodyRotation}'", Required = true };
        var seed = new Option<long>("--seed", "-s") { Description = "Initialisation/sample-order seed; different seeds give independent checkpoints", DefaultValueFactory = _ => 0 };
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Run folder (rerunning the same command resumes)", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" };
        var overrides = new Argument<string[]>("overrides") { Description = "Config overrides key.sub=value", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("train", "Train an SFNO checkpoint (latitude-weighted MSE, AdamW, cosine schedule, rollout fine-tuning)")
        {
            config, data, seed, output, device, overrides,
        };
        cmd.SetAction(parse => wrap(parse, ctx => Run(ctx, ctx.Get(config).FullName, ctx.Get(data), ctx.Get(seed), ctx.Get(output).FullName,
            ctx.Get(device), ctx.Parse.GetValue(overrides) ?? [])));
        return cmd;
    }

    public static int Run(CommandContext ctx, string configPath, string dataSpec, long seed, string outputDir, string deviceName, string[] overrides)
    {
        var cfg = YamlConfig.Load<TrainRunConfig>(configPath, overrides);
        cfg.Training.Validate();
        var dev = Devices.Parse(deviceName);
        var (train, validation, grid) = DataSources.OpenTraining(dataSpec);
        Directory.CreateDirectory(outputDir);
        ctx.Log.Information("Training SFNO (embed {Embed}, {Layers} layers, scale {Scale}) on {Channels} channels {NLat}x{NLon}, {Samples} training times, seed {Seed}, {Device}",
            cfg.Model.EmbedDim, cfg.Model.NumLayers, cfg.Model.ScaleFactor, train.Channels.Count, train.NLat, train.NLon, train.Count, seed, dev.ToString());
        int total = cfg.Training.Stages.Sum(s => s.Epochs);
        var result = ProgressReporter.Run(ctx.Err, "training", update =>
        {
            var progress = new SyncProgress<TrainingProgress>(p =>
            {
                update($"epoch {p.Epoch + 1}/{p.TotalEpochs} loss {p.Loss:G3}", p.Epoch * (double)p.StepsPerEpoch + p.Step, (double)p.TotalEpochs * p.StepsPerEpoch);
                if (p.Finished is { } e)
                    ctx.Log.Information("Epoch {Epoch}/{Total} (stage {Stage}, {Rollout}-step): train loss {Train:G4}, validation loss {Val:G4}{Best}",
                        e.Epoch, total, e.Stage, e.RolloutSteps, e.TrainLoss, e.ValidationLoss, e.Best ? " (best)" : "");
            });
            return TrainingRun.Execute(cfg, train, validation, grid, seed, outputDir, dev, progress);
        });
        if (result.Resumed) ctx.Log.Information("Resumed from the last finished epoch in {Dir}", outputDir);
        ctx.Log.Information("Best validation loss {Loss:G4} at epoch {Epoch}; checkpoint {Ckpt}, package {Package}",
            result.BestValidationLoss, result.BestEpoch, Path.Combine(outputDir, TrainingRun.CheckpointFile), Path.Combine(outputDir, TrainingRun.PackageFolder));
        return EnsembleCli.Ok;
    }
}

/// <summary>Resolves `--data` specifications to datasets.</summary>
public static class DataSources
{
    public const string SolidBodyRotation = "solid-body-rotation";

    public static (IFieldDataset Train, IFieldDataset Validation, GridType Grid) OpenTraining(string spec)
    {
        if (spec == SolidBodyRotation)
            return (new SolidBodyRotationDataset(33, 64, channels: 3, trajectories: 16, trajectoryLength: 12, seed: 1),
                    new SolidBodyRotationDataset(33, 64, channels: 3, trajectories: 4, trajectoryLength: 12, seed: 2),
                    GridType.Equiangular);
        if (!Directory.Exists(spec))
            throw new EnsembleException($"--data {spec}: no such folder (expected a Makani-layout folder or '{SolidBodyRotation}')");
        return MakaniSource.OpenTraining(spec);
    }
}
