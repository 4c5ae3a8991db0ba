using Ensemble.Campaigns.Configuration;
using Ensemble.Core;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Campaigns.Tests;

public class CampaignConfigTests
{
    static string Configs => Path.Combine(Shared.RepoRoot, "configs");

    internal const string Valid = """
        name: t
        seed: 3
        world: {config: world-small.yaml, validation_from_year: 2001}
        checkpoints: {train: {config: train-small.yaml, count: 2}}
        skill: {init_times: {list: [2001-01-01T00:00:00Z]}}
        ensemble: {init_times: {list: [2001-01-02T00:00:00Z]}, steps: 4, pairs: 2}
        climate: {init_times: {list: [2001-01-01T00:00:00Z]}}
        """;

    static CampaignConfig Parse(string yaml, params string[] overrides) => CampaignConfig.Parse(yaml, "c.yaml", Configs, overrides);

    [Fact]
    public void A_valid_config_binds_with_defaults_and_resolves_paths_against_its_folder()
    {
        var c = Parse(Valid);
        Assert.Equal(2, c.Checkpoints.Train!.Count);
        Assert.Equal(Path.Combine(Configs, "world-small.yaml"), c.Resolve(c.World!.Config));
        Assert.Equal("zarr", c.Ensemble.Output.Format);
        Assert.Contains("efi", c.Scores.Metrics);
        Assert.Equal(Path.GetFullPath(Path.Combine("runs", "t")), c.OutputDirectory);
    }

    [Fact]
    public void Times_expand_from_lists_and_ranges_sorted_and_unique()
    {
        var t = new TimesSection
        {
            List = [new DateTime(2001, 1, 3, 0, 0, 0, DateTimeKind.Utc)],
            Start = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            End = new DateTime(2001, 1, 3, 0, 0, 0, DateTimeKind.Utc),
            IntervalHours = 24,
        };
        Assert.Equal([new DateTime(2001, 1, 1), new DateTime(2001, 1, 2), new DateTime(2001, 1, 3)], t.Expand("x").Select(d => new DateTime(d.Ticks)).ToList());
        var mondays = new TimesSection { Start = new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc), End = new DateTime(2001, 1, 14, 0, 0, 0, DateTimeKind.Utc), Weekdays = ["monday", "thursday"] };
        Assert.Equal([1, 4, 8, 11], mondays.Expand("x").Select(d => d.Day).ToList());
    }

    /// <summary>The ten (and more) malformed configs of issue 7: each one line naming the key (and the file).</summary>
    public static TheoryData<string, string> Malformed => new()
    {
        { "ensemble.pair=2", "unknown key 'ensemble.pair'" },
        { "ensemble.steps=many", "key 'ensemble.steps'" },
        { "ensemble.members=5", "key 'ensemble.members': 5 is odd" },
        { "ensemble.members=6", "key 'ensemble.members': 6 ≠ 2 checkpoints" },
        { "data.path=.", "exactly one of 'world'" },
        { "world.config=no-such-world.yaml", "key 'world.config': file" },
        { "checkpoints.packages=[/no/such/package]", "key 'checkpoints.packages[0]'" },
        { "scores.metrics=[crps, skill]", "unknown metric 'skill'" },
        { "ensemble.steps=0", "key 'ensemble.steps': must be ≥ 1" },
        { "ensemble.init_times={list: []}", "key 'ensemble.init_times'" },
        { "climate.enabled=false", "'efi' needs the M-climate" },
        { "ensemble.output.format=grib", "key 'ensemble.output.format'" },
        { "skill.lead_hours=50", "key 'skill.lead_hours'" },
        { "ensemble.batch_size=-2", "key 'ensemble.batch_size'" },
        { "checkpoints.train.count=0", "key 'checkpoints.train.count'" },
        { "ensemble.init_times.weekdays=[someday]", "key 'ensemble.init_times.weekdays'" },
        { "ensemble.output.variables=[z500]", "key 'ensemble.output.variables': 'z500' is not a channel" },
        { "ensemble.perturbation={method: bred_vector, seed_channels: [t2m]}", "key 'ensemble.perturbation.seed_channels'" },
        { "ensemble.perturbation={method: bred_vector, seed_channels: [z], skill_lead_hours: 72}", "key 'ensemble.perturbation.skill_lead_hours'" },
        { "ensemble.perturbation={method: magic}", "ensemble.perturbation" },
        { "threads=0", "key 'threads'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_configs_fail_up_front_with_one_line_naming_the_key(string o, string message)
    {
        var e = Assert.Throws<EnsembleException>(() => Parse(Valid, o));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("c.yaml", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Invalid_yaml_names_the_line()
    {
        var e = Assert.Throws<EnsembleException>(() => Parse("name: t\nworld: {config: [\n"));
        Assert.Contains("invalid YAML", e.Message);
    }

    [Fact]
    public void The_shipped_campaign_configs_are_valid()
    {
        foreach (var name in new[] { "smoke.yaml", "demo.yaml" })
            CampaignConfig.Load(Path.Combine(Configs, name));
        // The HENS config names a cluster's paths; with those present it validates (29 packages, 7,424 members).
        using var tmp = new TempDir();
        var packages = Enumerable.Range(0, 29).Select(i => Directory.CreateDirectory(tmp.File($"p{i}")).FullName).ToList();
        var hens = CampaignConfig.Load(Path.Combine(Configs, "hens-era5.yaml"),
            [$"data.path={tmp.Path}", $"checkpoints.packages=[{string.Join(", ", packages)}]"]);
        Assert.Equal(7424, hens.Ensemble.Members);
        Assert.Equal(92, hens.Ensemble.InitTimes.Expand("x").Count);
        var missing = Assert.Throws<EnsembleException>(() => CampaignConfig.Load(Path.Combine(Configs, "hens-era5.yaml")));
        Assert.Contains("data.path", missing.Message);
    }
}
