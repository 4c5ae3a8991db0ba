using System.Collections;
using Ensemble.Core;
using Ensemble.Inference.Config;
using Ensemble.Inference.Planning;
using Xunit;

namespace Ensemble.Inference.Tests;

public class PlanAndRankTests
{
    static RankInfo R(params (string, string)[] env) => RankInfo.Resolve(env.ToDictionary(e => e.Item1, e => (object?)e.Item2) as IDictionary ?? new Hashtable());

    [Fact]
    public void RankResolutionFollowsTheLauncherOrder()
    {
        Assert.Equal((2, 4, "RANK/WORLD_SIZE"), Tuple(R(("RANK", "2"), ("WORLD_SIZE", "4"), ("SLURM_PROCID", "1"), ("SLURM_NTASKS", "8"))));
        // srun sets no RANK: a lone RANK without WORLD_SIZE does not stop the search.
        Assert.Equal((1, 8, "SLURM_PROCID/SLURM_NTASKS"), Tuple(R(("RANK", "5"), ("SLURM_PROCID", "1"), ("SLURM_NTASKS", "8"))));
        Assert.Equal((3, 6, "OMPI_COMM_WORLD_RANK/SIZE"), Tuple(R(("OMPI_COMM_WORLD_RANK", "3"), ("OMPI_COMM_WORLD_SIZE", "6"))));
        Assert.Equal((2, 5, "SLURM_ARRAY_TASK_ID/COUNT"), Tuple(R(("SLURM_ARRAY_TASK_ID", "12"), ("SLURM_ARRAY_TASK_MIN", "10"), ("SLURM_ARRAY_TASK_COUNT", "5"))));
        Assert.Equal((0, 1, "single"), Tuple(R()));
        Assert.Equal(1, R(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "2"), ("SLURM_LOCALID", "1")).LocalRank);
        Assert.Throws<EnsembleException>(() => R(("RANK", "4"), ("WORLD_SIZE", "4")));
        Assert.Throws<EnsembleException>(() => R(("RANK", "x"), ("WORLD_SIZE", "4")));
    }

    static (int, int, string) Tuple(RankInfo r) => (r.Rank, r.WorldSize, r.Source);

    [Theory]
    [InlineData(10, 3)]
    [InlineData(2, 3)]
    [InlineData(7, 7)]
    public void RankBlocksAreContiguousAndCoverEveryItemOnce(int items, int world)
    {
        var seen = new List<int>();
        for (int r = 0; r < world; r++)
        {
            var (start, count) = new RankInfo(r, world, 0, "test").Block(items);
            Assert.True(count >= 0);
            seen.AddRange(Enumerable.Range(start, count));
        }
        Assert.Equal(Enumerable.Range(0, items), seen);
    }

    [Fact]
    public void MemberIndicesAreCheckpointMajorControlFirstThenPlusMinus()
    {
        var times = new[] { new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2020, 1, 2, 0, 0, 0, DateTimeKind.Utc) };
        var plan = new MemberPlan(times, checkpoints: 2, pairs: 3, control: true, pairsPerItem: 2);
        Assert.Equal(14, plan.TotalMembers);
        // Items: checkpoint-major, then initial time, then pair blocks (2 + 1 pairs).
        Assert.Equal(8, plan.Items.Count);
        Assert.Equal((0, 0, 0, 2, true), (plan.Items[0].Checkpoint, plan.Items[0].InitTimeIndex, plan.Items[0].FirstPair, plan.Items[0].PairCount, plan.Items[0].HasControl));
        Assert.Equal((0, 0, 2, 1, false), (plan.Items[1].Checkpoint, plan.Items[1].InitTimeIndex, plan.Items[1].FirstPair, plan.Items[1].PairCount, plan.Items[1].HasControl));
        Assert.Equal(1, plan.Items[4].Checkpoint);
        var all = plan.Items.Where(i => i.InitTimeIndex == 0).SelectMany(plan.MembersOf).Select(m => m.Index).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 14), all);
        for (int k = 0; k < plan.TotalMembers; k++)
        {
            var m = plan.Member(k);
            Assert.Equal(k, plan.MemberIndex(m.Checkpoint, m.Pair, m.Sign));
        }
        Assert.Equal(new PlannedMember(10, 1, 1, 1), plan.Member(10));   // 7 + control + 2·1 (+)
    }

    [Theory]
    [InlineData("members={count: 7}", "members.count: 7 is odd")]
    [InlineData("output.variables=[z500,w850]", "output.variables: unknown channel(s) w850")]
    [InlineData("models=['/nonexistent/pkg']", "models[0]: /nonexistent/pkg: model package directory not found")]
    [InlineData("output.format=grib", "output.format: 'grib'")]
    [InlineData("batch_size=0", "batch_size: must be ≥ 1")]
    public void ConfigErrorsAreOneLineAndNameTheKey(string overrideText, string expected)
    {
        using var tmp = new Ensemble.TestSupport.TempDir();
        var (data, models) = TinyCampaign.Create(tmp.Path, checkpoints: 1, times: 8);
        var config = EnsembleRunConfig.Parse(TinyCampaign.Yaml(data, models, tmp.File("run")), "campaign.yaml", [overrideText]);
        var e = Assert.Throws<EnsembleException>(() => Running.EnsembleRun.Execute(config, RankInfo.Single));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void UnknownYamlKeyIsRejected()
    {
        var e = Assert.Throws<EnsembleException>(() => EnsembleRunConfig.Parse("name: x\nmember: {pairs: 2}\n", "c.yaml"));
        Assert.Contains("unknown key 'member'", e.Message);
    }
}
