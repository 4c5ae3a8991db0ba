using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Models.Packages;
using Ensemble.Scoring.Pipeline;
using Ensemble.Scoring.Tables;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Campaigns.Stages;

/// <summary>
/// Deterministic skill of every checkpoint: cos-lat weighted RMSE per channel and lead (6 h … skill.lead_hours)
/// from the skill initial times, verified against the truth. Bred-vector amplitudes are 0.35 × the 48-hour
/// RMSE (HENS §2), read from this table: one model per checkpoint plus <see cref="AllCheckpoints"/>, the
/// checkpoints' pooled RMSE √(mean MSE).
/// </summary>
public sealed class SkillStage : CampaignStage
{
    public const string StageName = "skill";
    public const string TableFile = "skill.parquet";
    public const string AllCheckpoints = "checkpoints";
    public override string Name => StageName;

    public override IReadOnlyList<string> DependsOn { get; }

    public SkillStage(IReadOnlyList<string> dependsOn) { DependsOn = dependsOn; }

    public override JsonNode Inputs(CampaignContext ctx) => new JsonObject
    {
        ["data"] = ctx.Config.Data is null ? null : CampaignData.Fingerprint(ctx),
        ["lead_hours"] = ctx.Config.Skill.LeadHours,
        ["init_times"] = new JsonArray(ctx.Config.Skill.InitTimes.Expand("skill.init_times").Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
        ["checkpoints"] = CampaignCheckpoints.Fingerprints(ctx),
    };

    public override JsonObject Run(CampaignContext ctx, string directory, bool resume, CancellationToken cancel)
    {
        var inits = ctx.Config.Skill.InitTimes.Expand("skill.init_times");
        var checkpoints = CampaignCheckpoints.All(ctx);
        using var truth = CampaignData.Truth(ctx);
        var grid = new ScoreGrid(truth.Metadata.Lat, truth.Metadata.Lon);
        var rows = new List<ScoreRow>();
        var pooled = new Dictionary<(string Var, double Lead), List<double>>();
        double done = 0, total = (double)checkpoints.Count * inits.Count;
        foreach (var ckpt in checkpoints)
        {
            using var package = ModelPackage.Load(ckpt.PackageDirectory, ctx.Device);
            var forecaster = new Forecaster(package);
            int steps = (int)Math.Round(ctx.Config.Skill.LeadHours / forecaster.TimeStep.TotalHours);
            var channels = package.Config.OutChannelNames;
            var mse = new Dictionary<(string Var, double Lead), List<double>>();
            foreach (var init in inits)
            {
                cancel.ThrowIfCancellationRequested();
                ctx.Report(Name, $"{ckpt.Name} {init:yyyy-MM-dd HH}Z", done++, total);
                using var scope = NewDisposeScope();
                int i0 = CampaignData.IndexOf(truth, init, $"{ctx.Config.Source}: skill.init_times");
                var leads = Enumerable.Range(1, steps).Select(s => s * forecaster.TimeStep.TotalHours).ToArray();
                var valid = leads.Select(h => init.AddHours(h)).ToArray();
                var truthIdx = valid.Select(t => CampaignData.IndexOf(truth, t, $"{ctx.Config.Source}: skill (verifying time of {init:yyyy-MM-ddTHH}Z)")).ToArray();
                var states = forecaster.Rollout(truth.Get(i0).unsqueeze(0), steps, init).Skip(1).ToList();   // [1, C, H, W] per lead
                var stacked = torch.stack(states.Select(s => s.to(ScalarType.Float64).cpu()).ToArray(), 1);    // [1, L, C, H, W]
                var truthStack = torch.stack(truthIdx.Select(j => truth.Get(j).to(ScalarType.Float64)).ToArray(), 0); // [L, C, H, W]
                var fvars = new List<ForecastVariable>();
                var tvars = new List<TruthVariable>();
                for (int c = 0; c < channels.Count; c++)
                {
                    int tc = truth.Channels.ToList().IndexOf(channels[c]);
                    if (tc < 0) throw new EnsembleException($"{ckpt.Name}: channel '{channels[c]}' is not in the truth data ({string.Join(", ", truth.Channels)})");
                    fvars.Add(new ForecastVariable(channels[c], [init], leads, stacked[.., .., c].unsqueeze(1)));
                    tvars.Add(new TruthVariable(channels[c], valid, truthStack[.., tc]));
                }
                using var f = new ForecastSet(ckpt.Name, ckpt.PackageDirectory, deterministic: true, grid, fvars);
                using var t = new TruthSet("truth", grid, tvars);
                foreach (var row in ScorePipeline.Score(f, t, ["rmse"], ScoreWeighting.CosLat).Where(r => !r.IsAggregate))
                {
                    rows.Add(row);
                    var key = (row.Variable, row.LeadTimeHours);
                    (mse.TryGetValue(key, out var l) ? l : mse[key] = []).Add(row.Value * row.Value);
                    (pooled.TryGetValue(key, out var p) ? p : pooled[key] = []).Add(row.Value * row.Value);
                }
            }
            foreach (var ((v, lead), values) in mse.OrderBy(k => k.Key.Var, StringComparer.Ordinal).ThenBy(k => k.Key.Lead))
                rows.Add(new ScoreRow(ckpt.Name, v, "", lead, "rmse", Math.Sqrt(values.Average()), 1, "cos-lat"));
        }
        foreach (var ((v, lead), values) in pooled.OrderBy(k => k.Key.Var, StringComparer.Ordinal).ThenBy(k => k.Key.Lead))
            rows.Add(new ScoreRow(AllCheckpoints, v, "", lead, "rmse", Math.Sqrt(values.Average()), checkpoints.Count, "cos-lat"));
        var table = new ScoreTable(rows);
        table.Metadata["description"] = "deterministic RMSE of each checkpoint (WeatherBench2: sqrt of the mean over initial times of the cos-lat weighted MSE)";
        table.WriteParquetAndCsv(Path.Combine(directory, TableFile));
        var result = new JsonObject { ["table"] = TableFile };
        foreach (var ((v, lead), values) in pooled.Where(k => Math.Abs(k.Key.Lead - ctx.Config.Skill.LeadHours) < 1e-9).OrderBy(k => k.Key.Var, StringComparer.Ordinal))
            result[$"rmse_{v}_{lead:0}h"] = Math.Sqrt(values.Average());
        return result;
    }
}
