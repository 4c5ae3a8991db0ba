using Ensemble.Data.EnsembleOutput;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class WorldEnsembleCommandTests
{
    [Fact]
    public void Members_get_their_own_future_stirring_unless_same_stirring_is_given()
    {
        using var tmp = new TempDir();
        string cfg = tmp.File("w.yaml");
        string yaml = File.ReadAllText(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"))
            .Replace("spinup_days: 20", "spinup_days: 0.5").Replace("days: 10", "days: 1");
        File.WriteAllText(cfg, yaml);
        Assert.Equal(0, CliRunner.InProcess("world", "simulate", "--config", cfg, "--output", tmp.File("truth")).ExitCode);
        float MaxDifference(params string[] extra)
        {
            string store = tmp.File($"ens{extra.Length}.zarr");
            var r = CliRunner.InProcess(["world", "ensemble", "--truth", tmp.File("truth"), "--init-times", "2000-01-01T06:00:00Z",
                "--members", "2", "--steps", "1", "--output", store, "--amplitude", "0", "--control", .. extra]);
            Assert.True(r.ExitCode == 0, r.Err);
            using var s = EnsembleStore.Open(store);
            var a = s.ReadField("vo", 0, 0, 1);
            var b = s.ReadField("vo", 1, 0, 1);
            return a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
        }
        Assert.True(MaxDifference() > 1e-8f, "an unperturbed member with its own stirring equals the control after 6 h");
        Assert.True(MaxDifference("--same-stirring") < 1e-12f, "identical members with the same stirring differ");
    }

    [Fact]
    public void World_ensemble_runs_perturbed_members_from_the_truth_into_an_ensemble_store()
    {
        using var tmp = new TempDir();
        string cfg = tmp.File("w.yaml");
        string yaml = File.ReadAllText(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"))
            .Replace("spinup_days: 20", "spinup_days: 0.5").Replace("days: 10", "days: 1");
        File.WriteAllText(cfg, yaml);
        var sim = CliRunner.InProcess("world", "simulate", "--config", cfg, "--output", tmp.File("truth"));
        Assert.True(sim.ExitCode == 0, sim.Err);
        var r = CliRunner.InProcess("world", "ensemble", "--truth", tmp.File("truth"), "--init-times", "2000-01-01T06:00:00Z,2000-01-01T12:00:00Z",
            "--members", "2", "--steps", "1", "--output", tmp.File("ens.zarr"), "--control", "--seed", "3");
        Assert.True(r.ExitCode == 0, r.Err);
        using var store = EnsembleStore.Open(tmp.File("ens.zarr"));
        Assert.Equal(2, store.Layout.Members);
        Assert.Equal(2, store.Layout.Times.Count);
        Assert.Equal([0.0, 6.0], store.Layout.LeadTimeHours);
        Assert.Contains("z", store.Layout.Variables);
        Assert.All(store.ReadField("vo", 1, 1, 1), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void World_ensemble_at_a_time_that_is_not_in_the_truth_exits_2_naming_it()
    {
        using var tmp = new TempDir();
        string cfg = tmp.File("w.yaml");
        string yaml = File.ReadAllText(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"))
            .Replace("spinup_days: 20", "spinup_days: 0.25").Replace("days: 10", "days: 0.5");
        File.WriteAllText(cfg, yaml);
        Assert.Equal(0, CliRunner.InProcess("world", "simulate", "-c", cfg, "-o", tmp.File("truth")).ExitCode);
        var r = CliRunner.InProcess("world", "ensemble", "-c", cfg, "--truth", tmp.File("truth"), "--init-times", "2000-01-01T03:00:00Z",
            "--members", "2", "--steps", "1", "--output", tmp.File("ens.zarr"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not an output time", r.Err);
    }
}
