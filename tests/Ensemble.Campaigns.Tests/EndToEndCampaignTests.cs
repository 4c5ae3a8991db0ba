using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;
using Ensemble.Data.Hdf5;
using Ensemble.Models.Packages;
using Ensemble.Perturbations;
using Ensemble.Scoring.Tables;
using Ensemble.Spherical;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Campaigns.Tests;

/// <summary>
/// A whole campaign on a tiny synthetic Makani data root (travelling waves on a 16×32 Gauss grid, 2000 trains,
/// 2001 verifies): training two checkpoints, skill, M-climate, bred-vector ensemble, scores, report; then reuse
/// and targeted invalidation.
/// </summary>
public class EndToEndCampaignTests
{
    static readonly string[] Channels = ["z", "u"];
    const int NLat = 16, NLon = 32;

    internal static string WriteData(string root)
    {
        var grid = new SphericalGrid(GridType.LegendreGauss, NLat, NLon);
        var lat = grid.LatitudesDeg();
        var lon = Enumerable.Range(0, NLon).Select(j => 360.0 * j / NLon).ToArray();
        var rng = new Random(11);
        foreach (var (year, folder, days) in new[] { (2000, "train", 40), (2001, "valid", 40) })
        {
            int times = days * 4;
            var values = new float[times * Channels.Length * NLat * NLon];
            for (int t = 0; t < times; t++)
            {
                double phase = (year - 2000) * 1.3 + 0.21 * t + 0.4 * Math.Sin(0.05 * t);
                for (int c = 0; c < Channels.Length; c++)
                    for (int i = 0; i < NLat; i++)
                        for (int j = 0; j < NLon; j++)
                        {
                            double cl = Math.Cos(lat[i] * Math.PI / 180), x = lon[j] * Math.PI / 180;
                            double wave = cl * cl * Math.Sin(3 * x - phase) + 0.5 * cl * Math.Cos(2 * x + 0.7 * phase);
                            values[((t * Channels.Length + c) * NLat + i) * NLon + j] = (float)(c == 0
                                ? 5500 + 120 * wave + 3 * (rng.NextDouble() - 0.5)
                                : 10 * cl + 6 * wave + 0.2 * (rng.NextDouble() - 0.5));
                        }
            }
            Directory.CreateDirectory(Path.Combine(root, folder));
            MakaniYearFile.Write(Path.Combine(root, folder, $"{year}.h5"), year, 6, values, Channels, lat, lon);
        }
        new MakaniMetadata("synthetic", 6, Channels, lat, lon, "legendre-gauss").Write(Path.Combine(root, "data.json"));
        return root;
    }

    internal static string Yaml(string data) => $$"""
        name: e2e
        seed: 5
        device: cpu
        threads: 1
        data: {path: '{{data}}'}
        checkpoints:
          train:
            config: {{Path.Combine(Shared.RepoRoot, "configs", "train-small.yaml")}}
            count: 2
            overrides: [model.embed_dim=8, model.num_layers=1, "training.stages=[{epochs: 1, rollout_steps: 1, learning_rate: 3.0e-3}]", training.steps_per_epoch=4, training.validation_samples=2, training.batch_size=2]
        skill:
          lead_hours: 12
          init_times: {list: [2001-01-03T00:00:00Z, 2001-01-04T00:00:00Z]}
        ensemble:
          init_times: {list: [2001-01-10T00:00:00Z, 2001-01-12T06:00:00Z]}
          steps: 4
          pairs: 1
          members: 4
          perturbation: {method: bred_vector, skill_lead_hours: 12, seed_channels: [z]}
          batch_size: "2"
        climate:
          init_times: {start: 2001-01-02T00:00:00Z, end: 2001-01-30T00:00:00Z, interval_hours: 48}
          window_days: 20
        baseline: {physics: false}
        scores:
          metrics: [crps, rmse, spread, ssr, rank, spectra, reliability, roc, efi]
        """;

    [Fact]
    public void Runs_every_stage_then_reuses_them_and_reruns_only_what_an_edit_touches()
    {
        using var tmp = new TempDir();
        string data = WriteData(tmp.File("data"));
        string out1 = tmp.File("campaign");
        var config = CampaignConfig.Parse(Yaml(data), "e2e.yaml", tmp.Path, [$"output={out1}"]);

        var first = CampaignRunner.Run(config);
        Assert.Equal(["checkpoint-0", "checkpoint-1", "skill", "climate", "ml-ensemble", "scores", "report"], first.Select(r => r.Stage));
        Assert.All(first, r => Assert.Equal(StageOutcome.Ran, r.Outcome));

        // The skill table drives the bred-vector amplitudes: one model per checkpoint plus the pooled one.
        var skill = ScoreTable.ReadParquet(Path.Combine(out1, "skill", SkillStage.TableFile));
        Assert.Contains(skill.Rows, r => r.Model == SkillStage.AllCheckpoints && r.LeadTimeHours == 12 && r.Variable == "z" && r.Value > 0);

        // Scores: 4 members, every requested metric family, per init time and aggregated.
        var scores = ScoreTable.ReadParquet(Path.Combine(out1, "scores", ScoresStage.TableFile));
        var ml = scores.Rows.Where(r => r.Model == ScoresStage.MlModel).ToList();
        foreach (var m in new[] { "crps", "rmse", "spread", "ssr", "efi" })
            Assert.Contains(ml, r => r.Metric == m && r.IsAggregate && double.IsFinite(r.Value));
        foreach (var prefix in new[] { "rank:", "spectrum_members:", "reliability@", "roc_auc@" })
            Assert.Contains(ml, r => r.Metric.StartsWith(prefix, StringComparison.Ordinal));
        Assert.All(ml, r => Assert.Equal(4, r.Members));
        Assert.Equal(2, ml.Where(r => r.Metric == "crps" && !r.IsAggregate && r.Variable == "z" && r.LeadTimeHours == 24).Count());

        // Two independent implementations agree: the runner's streaming fair CRPS (float64 sums over spilled members)
        // and the pipeline's all-members CRPS from the saved fields. The fields are stored as float32, the runner scores the
        // float64 model output: the two differ by the float32 rounding of the members (~6e-8 relative), not more.
        var streaming = ScoreTable.ReadParquet(Path.Combine(out1, "ml-ensemble", MlEnsembleStage.RunFolder, "scores.parquet"));
        foreach (var row in ml.Where(r => r.Metric == "crps" && !r.IsAggregate && r.LeadTimeHours > 0))
        {
            var s = streaming.Rows.Single(x => x.Metric == "crps" && x.Variable == row.Variable && x.InitTime == row.InitTime && x.LeadTimeHours == row.LeadTimeHours);
            Assert.True(Math.Abs(s.Value - row.Value) <= 1e-6 * Math.Abs(row.Value), $"{row.Variable} {row.InitTime} +{row.LeadTimeHours} h: streaming {s.Value} vs pipeline {row.Value}");
        }

        Assert.True(File.Exists(Path.Combine(out1, "report", "index.html")));

        // A rerun reuses everything; an edit of the event percentile reruns only scores and report.
        var second = CampaignRunner.Run(config);
        Assert.All(second, r => Assert.Equal(StageOutcome.Reused, r.Outcome));
        var edited = CampaignConfig.Parse(Yaml(data), "e2e.yaml", tmp.Path, [$"output={out1}", "scores.extreme_percentile=90"]);
        var third = CampaignRunner.Run(edited);
        Assert.Equal(["Reused", "Reused", "Reused", "Reused", "Reused", "Ran", "Ran"], third.Select(r => r.Outcome.ToString()));

        // The skill-regression gate: the same campaign with deliberately degraded checkpoints (relative noise on every
        // weight group) is caught by `regress` against the first campaign's scores, with a readable table.
        var degraded = new List<string>();
        for (int k = 0; k < 2; k++)
        {
            string dir = tmp.File($"degraded-{k}");
            using var package = WeightPerturbation.LoadPerturbed(Path.Combine(out1, $"checkpoint-{k}", "package"),
                new WeightPerturbationConfig { RelativeStd = 0.5, Groups = ["encoder", "blocks.*", "decoder"] }, seed: 99 + k);
            ModelPackage.Export(dir, package.Model, package.Statistics);
            degraded.Add(dir);
        }
        string out2 = tmp.File("degraded-campaign");
        var bad = CampaignConfig.Parse(Yaml(data), "e2e.yaml", tmp.Path,
            [$"output={out2}", "checkpoints.train=null", $"checkpoints.packages=[{string.Join(", ", degraded)}]"]);
        Assert.Equal(["skill", "climate", "ml-ensemble", "scores", "report"], CampaignRunner.Run(bad).Select(r => r.Stage));
        var worse = ScoreRegression.Compare(ScoreTable.ReadParquet(Path.Combine(out2, "scores", ScoresStage.TableFile)), scores, tolerance: 0.05,
            metrics: ["crps", "rmse"]);
        Assert.False(worse.Passed);
        string table = ScoreRegression.Format(worse.Worse);
        Assert.Contains("crps", table);
        Assert.Contains("rmse", table);
        // …while the original scores pass against themselves.
        Assert.True(ScoreRegression.Compare(scores, scores, tolerance: 0).Passed);
    }
}
