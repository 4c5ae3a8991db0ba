using Ensemble.Core;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.World.Tests;

public sealed class WorldConfigTests
{
    static string ConfigPath(string name) => Path.Combine(Shared.RepoRoot, "configs", name);

    [Theory]
    [InlineData("world.yaml", 64, 128, 43)]
    [InlineData("world-small.yaml", 32, 64, 22)]
    [InlineData("world-demo.yaml", 32, 64, 22)]
    public void Shipped_configs_load_and_validate(string name, int nlat, int nlon, int lmax)
    {
        var c = WorldConfig.Load(ConfigPath(name));
        Assert.Equal((nlat, nlon, lmax), (c.Nlat, c.Nlon, c.Lmax));
        Assert.Equal(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), c.StartTime);
        Assert.Equal(6.0, c.OutputHours);
        Assert.Equal(0, 21600 % (int)c.Dt);
    }

    [Fact]
    public void Unknown_top_level_key_is_named()
    {
        var e = Assert.Throws<EnsembleException>(() => WorldConfig.Parse("nlat: 32\nnlon: 64\nlmax: 22\nmmax: 22\ndt: 900\nresolutoin: 5\n", "w.yaml"));
        Assert.Contains("resolutoin", e.Message);
        Assert.Contains("w.yaml", e.Message);
    }

    [Fact]
    public void Unknown_forcing_key_is_named()
    {
        var e = Assert.Throws<EnsembleException>(() => WorldConfig.Parse("forcing:\n  drag_dayz: 3\n", "w.yaml"));
        Assert.Contains("drag_dayz", e.Message);
    }

    [Fact]
    public void Inconsistent_values_are_rejected_with_the_key()
    {
        Assert.Contains("dt", Assert.Throws<EnsembleException>(() => WorldConfig.Parse("dt: 7000\n")).Message);
        Assert.Contains("stirring_lmax", Assert.Throws<EnsembleException>(() => WorldConfig.Parse("lmax: 10\nmmax: 10\n")).Message);
        Assert.Contains("start", Assert.Throws<EnsembleException>(() => WorldConfig.Parse("start: yesterday\n")).Message);
        Assert.Contains("relaxation_days", Assert.Throws<EnsembleException>(() => WorldConfig.Parse("forcing:\n  relaxation_days: -1\n")).Message);
    }

    [Fact]
    public void Yaml_round_trips()
    {
        var c = WorldConfig.Load(ConfigPath("world.yaml"));
        c.Forcing.StirringAmplitude = 3.5e-11;
        c.Seed = 42;
        var back = WorldConfig.Parse(c.ToYaml());
        Assert.Equal(c.ToYaml(), back.ToYaml());
        Assert.Equal(42, back.Seed);
        Assert.Equal(3.5e-11, back.Forcing.StirringAmplitude);
    }
}
