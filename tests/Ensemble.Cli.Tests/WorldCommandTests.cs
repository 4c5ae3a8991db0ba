using Ensemble.Data.Datasets;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Cli.Tests;

public class WorldCommandTests
{
    [Fact]
    public void Simulate_writes_a_makani_dataset_that_trains_and_reads_back()
    {
        using var tmp = new TempDir();
        string cfg = tmp.File("w.yaml");
        // The small test world, shortened: 1 day of spin-up, 2 days of output.
        string yaml = File.ReadAllText(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"))
            .Replace("spinup_days: 20", "spinup_days: 1").Replace("days: 10", "days: 2");
        File.WriteAllText(cfg, yaml);
        var r = CliRunner.InProcess("world", "simulate", "--config", cfg, "--output", tmp.File("truth"), "--validation-from-year", "2000");
        Assert.True(r.ExitCode == 0, r.Err);
        using var valid = new MakaniDataset(Path.Combine(tmp.File("truth"), "valid"));
        Assert.Equal(8, valid.Count);
        Assert.Equal(["z", "u", "v", "vo", "div", "pv"], valid.Channels);
        Assert.Equal(new DateTime(2000, 1, 1, 6, 0, 0, DateTimeKind.Utc), valid.TimeOf(1));
        using var z = valid.Get(0);
        Assert.InRange(z[0].mean().item<float>(), 1000f, 5000f); // geopotential height of a ~2.5 km deep layer
    }

    [Fact]
    public void A_bad_world_config_exits_2()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("w.yaml"), "nlat: 32\nnlot: 64\n");
        var r = CliRunner.InProcess("world", "simulate", "-c", tmp.File("w.yaml"), "-o", tmp.File("out"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("nlot", r.Err);
    }
}
