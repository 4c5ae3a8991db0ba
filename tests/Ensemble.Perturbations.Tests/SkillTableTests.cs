using Ensemble.Core;
using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Perturbations.Tests;

/// <summary>Amplitudes 0.35 × the 48-hour RMSE per channel from a score table written with <see cref="ScoreTable"/>.</summary>
public class SkillTableTests
{
    static readonly string[] Channels = ["z500", "t850", "q700"];

    static ScoreTable Table(params string[] models)
    {
        var rows = new List<ScoreRow>();
        foreach (var (m, k) in models.Select((m, k) => (m, k)))
        {
            double scale = 1 + k;
            foreach (var (v, rmse48) in new[] { ("z500", 112.2), ("t850", 1.3), ("q700", 0.0011) })
            {
                rows.Add(new ScoreRow(m, v, "", 48, "rmse", rmse48 * scale, 1, "coslat"));
                rows.Add(new ScoreRow(m, v, "", 24, "rmse", rmse48 / 2, 1, "coslat"));            // other lead
                rows.Add(new ScoreRow(m, v, "", 48, "mse", rmse48 * rmse48, 1, "coslat"));       // other metric
                rows.Add(new ScoreRow(m, v, "", 48, "crps", rmse48 / 3, 8, "coslat"));
                rows.Add(new ScoreRow(m, v, "2020-01-01T00:00:00", 48, "rmse", rmse48 * 9, 1, "coslat"));   // one init time
            }
        }
        return new ScoreTable(rows);
    }

    [Theory]
    [InlineData(".parquet")]
    [InlineData(".csv")]
    public void AmplitudesAreTheFactorTimesTheAggregated48HourRmse(string ext)
    {
        using var tmp = new TempDir();
        string path = tmp.File("skill" + ext);
        if (ext == ".csv") Table("sfno").WriteCsv(path); else Table("sfno").WriteParquet(path);
        var c = new PerturbationConfig { Method = "gaussian", SkillTable = "skill" + ext };
        var m = (GaussianPerturbation)PerturbationFactory.Create(c, Channels, 16, 32, baseDirectory: tmp.Path);
        Assert.Equal([0.35 * 112.2, 0.35 * 1.3, 0.35 * 0.0011], m.Amplitudes);
        // Explicit amplitudes win for the channels they list.
        var both = (GaussianPerturbation)PerturbationFactory.Create(c with { Amplitudes = new() { ["t850"] = 0.7 } }, Channels, 16, 32, tmp.Path);
        Assert.Equal([0.35 * 112.2, 0.7, 0.35 * 0.0011], both.Amplitudes);
        // Factor and lead are configurable.
        var other = (GaussianPerturbation)PerturbationFactory.Create(c with { AmplitudeFactor = 1.0, SkillLeadHours = 24 }, Channels, 16, 32, tmp.Path);
        Assert.Equal([112.2 / 2, 1.3 / 2, 0.0011 / 2], other.Amplitudes);
    }

    [Fact]
    public void SeveralModelsNeedSkillModelAndMissingChannelsAreErrors()
    {
        using var tmp = new TempDir();
        string path = tmp.File("skill.parquet");
        Table("sfno_a", "sfno_b").WriteParquet(path);
        var c = new PerturbationConfig { SkillTable = path };
        var e = Assert.Throws<EnsembleException>(() => PerturbationFactory.Create(c, Channels, 16, 32));
        Assert.Contains("skill_model", e.Message);
        var bv = (BredVectorPerturbation)PerturbationFactory.Create(c with { SkillModel = "sfno_b" }, Channels, 16, 32);
        Assert.Equal([0.35 * 2 * 112.2, 0.35 * 2 * 1.3, 0.35 * 2 * 0.0011], bv.Amplitudes);
        e = Assert.Throws<EnsembleException>(() => PerturbationFactory.Create(c with { SkillModel = "sfno_a" }, ["z500", "msl"], 16, 32));
        Assert.Contains("'msl'", e.Message);
        Assert.Contains(path, e.Message);
        // …unless the channel's amplitude is given explicitly.
        var ok = (BredVectorPerturbation)PerturbationFactory.Create(c with { SkillModel = "sfno_a", Amplitudes = new() { ["msl"] = 0 } }, ["z500", "msl"], 16, 32);
        Assert.Equal([0.35 * 112.2, 0.0], ok.Amplitudes);
        e = Assert.Throws<EnsembleException>(() => PerturbationFactory.Create(c with { SkillModel = "sfno_c" }, Channels, 16, 32));
        Assert.Contains("sfno_c", e.Message);
    }
}
