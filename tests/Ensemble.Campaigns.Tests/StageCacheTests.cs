using System.Text.Json.Nodes;
using Ensemble.Campaigns.Configuration;
using Ensemble.Campaigns.Stages;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Campaigns.Tests;

public class StageCacheTests
{
    /// <summary>A stage whose inputs are one config value; counts its runs and can crash half-way.</summary>
    sealed class Probe(string name, Func<CampaignConfig, JsonNode> inputs, string[] dependsOn, Dictionary<string, int> runs, Func<bool>? crash = null) : CampaignStage
    {
        public override string Name => name;
        public override IReadOnlyList<string> DependsOn => dependsOn;
        public override JsonNode Inputs(CampaignContext context) => inputs(context.Config);
        public override JsonObject Run(CampaignContext context, string directory, bool resume, CancellationToken cancel)
        {
            runs[name] = runs.GetValueOrDefault(name) + 1;
            File.AppendAllText(Path.Combine(directory, "attempts.txt"), resume ? "resume\n" : "fresh\n");
            if (crash?.Invoke() == true) throw new IOException("simulated crash");
            File.WriteAllText(Path.Combine(directory, "out.txt"), name);
            return new JsonObject { ["ok"] = true };
        }
    }

    static CampaignConfig Config(string output, params string[] o) =>
        CampaignConfig.Parse(CampaignConfigTests.Valid, "c.yaml", Path.Combine(Shared.RepoRoot, "configs"), [$"output={output}", .. o]);

    static List<CampaignStage> Stages(Dictionary<string, int> runs, Func<bool>? crashB = null) =>
    [
        new Probe("a", c => JsonValue.Create(c.Seed)!, [], runs),
        new Probe("b", c => JsonValue.Create(c.Ensemble.Steps)!, ["a"], runs, crashB),
        new Probe("c", c => JsonValue.Create(c.Ensemble.Pairs)!, ["a"], runs),
        new Probe("d", c => new JsonObject(), ["b", "c"], runs),
    ];

    [Fact]
    public void Reruns_reuse_everything_and_an_edit_reruns_exactly_the_dependent_stages()
    {
        using var tmp = new TempDir();
        var runs = new Dictionary<string, int>();
        var first = CampaignRunner.Run(Config(tmp.Path), stages: Stages(runs));
        Assert.All(first, r => Assert.Equal(StageOutcome.Ran, r.Outcome));
        var second = CampaignRunner.Run(Config(tmp.Path), stages: Stages(runs));
        Assert.All(second, r => Assert.Equal(StageOutcome.Reused, r.Outcome));

        // Changing ensemble.pairs touches c and what reads c (d), not a or b.
        var third = CampaignRunner.Run(Config(tmp.Path, "ensemble.pairs=3"), stages: Stages(runs));
        Assert.Equal(["Reused", "Reused", "Ran", "Ran"], third.Select(r => r.Outcome.ToString()));
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 1, ["c"] = 2, ["d"] = 2 }, runs);

        // Changing the seed (read by a) reruns everything downstream of a.
        var fourth = CampaignRunner.Run(Config(tmp.Path, "ensemble.pairs=3", "seed=4"), stages: Stages(runs));
        Assert.All(fourth, r => Assert.Equal(StageOutcome.Ran, r.Outcome));
    }

    [Fact]
    public void A_crashed_stage_resumes_in_place_and_stale_outputs_are_discarded()
    {
        using var tmp = new TempDir();
        var runs = new Dictionary<string, int>();
        bool crash = true;
        Assert.Throws<IOException>(() => CampaignRunner.Run(Config(tmp.Path), stages: Stages(runs, () => crash)));
        Assert.False(File.Exists(Path.Combine(tmp.Path, "b", StageCache.RecordFile)));
        crash = false;
        var again = CampaignRunner.Run(Config(tmp.Path), stages: Stages(runs, () => crash));
        Assert.Equal(["Reused", "Resumed", "Ran", "Ran"], again.Select(r => r.Outcome.ToString()));
        Assert.Equal("fresh\nresume\n", File.ReadAllText(Path.Combine(tmp.Path, "b", "attempts.txt")));

        // A changed input starts b from an empty folder (the previous attempt's files are gone).
        CampaignRunner.Run(Config(tmp.Path, "ensemble.steps=5"), stages: Stages(runs));
        Assert.Equal("fresh\n", File.ReadAllText(Path.Combine(tmp.Path, "b", "attempts.txt")));
        Assert.Empty(Directory.GetDirectories(tmp.Path, ".stale-*"));
    }

    [Fact]
    public void Plan_hashes_of_the_real_stages_change_only_downstream_of_an_edit()
    {
        using var tmp = new TempDir();
        var baseHashes = CampaignRunner.Hashes(Config(tmp.Path));
        Assert.Equal(["world", "checkpoint-0", "checkpoint-1", "skill"], baseHashes.Keys.Take(4));
        var skill = CampaignRunner.Hashes(Config(tmp.Path, "skill.lead_hours=24"));
        Assert.Equal(baseHashes["world"], skill["world"]);
        Assert.Equal(baseHashes["checkpoint-1"], skill["checkpoint-1"]);
        Assert.NotEqual(baseHashes["skill"], skill["skill"]);
        var train = CampaignRunner.Hashes(Config(tmp.Path, "checkpoints.train.overrides=[training.steps_per_epoch=3]"));
        Assert.Equal(baseHashes["world"], train["world"]);
        Assert.NotEqual(baseHashes["checkpoint-0"], train["checkpoint-0"]);
        Assert.NotEqual(baseHashes["skill"], train["skill"]);
        var world = CampaignRunner.Hashes(Config(tmp.Path, "world.overrides=[days=400]"));
        Assert.All(baseHashes.Keys, k => Assert.NotEqual(baseHashes[k], world[k]));
        Assert.Equal(baseHashes, CampaignRunner.Hashes(Config(tmp.Path)));
    }
}
