using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Core.Config;
using Ensemble.Data.Datasets;
using Ensemble.Models.Training;
using Ensemble.Spherical;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// Trains checkpoint k on the world's training years with seed Derive(campaign seed, "train", k): different
/// seeds give the independently trained checkpoints of a multi-checkpoint ensemble (HENS §9). Interrupted
/// training resumes from its last finished epoch (the trainer's own exact resume).
/// </summary>
public sealed class TrainStage(int index, IReadOnlyList<string> dependsOn) : CampaignStage
{
    public static string NameOf(int index) => $"checkpoint-{index}";
    public override string Name => NameOf(index);
    public override IReadOnlyList<string> DependsOn => dependsOn;

    public long Seed(CampaignContext ctx) => Seeds.Derive(ctx.Config.Seed, Seeds.Of("train"), index);

    public static TrainRunConfig ResolveConfig(CampaignContext ctx)
    {
        var t = ctx.Config.Checkpoints.Train ?? throw new InvalidOperationException("train stage without checkpoints.train");
        var cfg = YamlConfig.Load<TrainRunConfig>(ctx.Config.Resolve(t.Config), t.Overrides);
        cfg.Training.Validate();
        return cfg;
    }

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject
    {
        ["data"] = ctx.Config.Data is { } d ? CampaignData.Fingerprint(ctx) : null,
        ["training"] = JsonNode.Parse(YamlConfig.Show(ResolveConfig(ctx))),
        ["seed"] = Seed(ctx),
    };

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var cfg = ResolveConfig(ctx);
        var (train, valid) = CampaignData.TrainingSets(ctx);
        var grid = GridTypes.Parse(train.Metadata.GridType);
        int total = cfg.Training.Stages.Sum(s => s.Epochs);
        var progress = new SyncProgress<TrainingProgress>(p =>
        {
            ctx.Report(Name, $"epoch {p.Epoch + 1}/{p.TotalEpochs} loss {p.Loss:G3}", p.Epoch * (double)p.StepsPerEpoch + p.Step, (double)p.TotalEpochs * p.StepsPerEpoch);
            if (p.Finished is { } e)
                ctx.Events.Info($"{Name}: epoch {e.Epoch}/{total} train loss {e.TrainLoss:G4}, validation loss {e.ValidationLoss:G4}{(e.Best ? " (best)" : "")}");
        });
        var result = TrainingRun.Execute(cfg, train, valid, grid, Seed(ctx), directory, ctx.Device, progress, cancel);
        return new JsonObject
        {
            ["package"] = TrainingRun.PackageFolder,
            ["best_validation_loss"] = result.BestValidationLoss,
            ["best_epoch"] = result.BestEpoch,
        };
    }
}
