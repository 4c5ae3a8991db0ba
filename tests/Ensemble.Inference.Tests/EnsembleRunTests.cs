using Ensemble.Data.EnsembleOutput;
using Ensemble.Inference.Config;
using Ensemble.Inference.Planning;
using Ensemble.Inference.Running;
using Ensemble.Perturbations;
using Ensemble.TestSupport;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Ensemble.Inference.Tests;

public class EnsembleRunTests(ITestOutputHelper output)
{
    /// <summary>Every file under the statistics folders and the field store, relative path → bytes.</summary>
    internal static SortedDictionary<string, byte[]> Outputs(string run)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var sub in new[] { "statistics", "fields.zarr" })
        {
            string d = Path.Combine(run, sub);
            if (!Directory.Exists(d)) continue;
            foreach (var f in Directory.GetFiles(d, "*", SearchOption.AllDirectories))
                if (!f.Contains($"{Path.DirectorySeparatorChar}items{Path.DirectorySeparatorChar}"))
                    files[Path.GetRelativePath(run, f)] = File.ReadAllBytes(f);
        }
        return files;
    }

    internal static void AssertSameOutputs(SortedDictionary<string, byte[]> want, SortedDictionary<string, byte[]> got, string what)
    {
        Assert.Equal(want.Keys, got.Keys);
        foreach (var (k, v) in want) Assert.True(v.AsSpan().SequenceEqual(got[k]), $"{what}: {k} differs");
    }

    [Fact]
    public void MergedStatisticsAndFieldsDoNotDependOnTheWorldSizeAndMemberKMatches()
    {
        using var tmp = new TempDir();
        var (data, models) = TinyCampaign.Create(tmp.Path);
        EnsembleRunConfig Config(string run, params string[] o) => EnsembleRunConfig.Parse(TinyCampaign.Yaml(data, models, tmp.File(run)), "campaign.yaml", o);

        var single = EnsembleRun.Execute(Config("w1"), RankInfo.Single);
        Assert.True(single.Merged);
        Assert.Empty(single.Flagged);
        Assert.Equal(2 * 2 * 7 * 3, single.MemberSteps);          // ICs × checkpoints × members × steps
        output.WriteLine($"w1: {single.MemberStepsPerSecond:F1} member-steps/s, statistics share {single.StatisticsShare:P1}");
        var want = Outputs(tmp.File("w1"));
        Assert.Contains(want.Keys, k => k.EndsWith("crps_fair.npy", StringComparison.Ordinal));
        Assert.Contains(want.Keys, k => k.EndsWith("exceedance_probability.npy", StringComparison.Ordinal));

        for (int r = 0; r < 3; r++)
        {
            var s = EnsembleRun.Execute(Config("w3"), new RankInfo(r, 3, 0, "test"));
            Assert.False(s.Merged);
        }
        var merge = EnsembleMerge.Execute(tmp.File("w3"));
        Assert.Equal(14, merge.Members);
        AssertSameOutputs(want, Outputs(tmp.File("w3")), "world size 3");

        // The merged statistics are those of all members together: compare with Scoring's all-members CRPS.
        using var store = EnsembleStore.Open(Path.Combine(tmp.File("w1"), "fields.zarr"));
        using var z = store.Read("z500");                          // [M, T, L, lat, lon]
        Assert.Equal(14, z.shape[0]);
        Assert.False(isnan(z).any().item<bool>());

        // Member K alone (batch of one) equals its slice of the full run, bit for bit.
        foreach (int k in new[] { 0, 9 })
        {
            EnsembleRun.Execute(Config($"m{k}"), RankInfo.Single, new RunOptions { Member = k });
            using var alone = EnsembleStore.Open(Path.Combine(tmp.File($"m{k}"), "fields.zarr"));
            foreach (var v in new[] { "z500", "q700" })
            {
                using var a = alone.Read(v);
                using var b = store.Read(v);
                Assert.True(a[k].contiguous().bytes.SequenceEqual(b[k].contiguous().bytes), $"member {k} {v} differs from the full run");
            }
        }
    }

    [Fact]
    public void ExactCrpsMatchesTheAllMembersEstimator()
    {
        using var tmp = new TempDir();
        var (data, models) = TinyCampaign.Create(tmp.Path, checkpoints: 1, times: 8);
        var config = EnsembleRunConfig.Parse(TinyCampaign.Yaml(data, models, tmp.File("run"), steps: 2), "campaign.yaml",
            ["statistics.variables=[z500,q700]", "statistics.thresholds={}", "statistics.crps_block_mb=1"]);
        EnsembleRun.Execute(config, RankInfo.Single);
        using var store = EnsembleStore.Open(Path.Combine(tmp.File("run"), "fields.zarr"));
        var t0 = new DateTime(2020, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        using var ds = new Ensemble.Data.Datasets.MakaniDataset(data, ["z500", "q700"]);
        string dir = Path.Combine(tmp.File("run"), "statistics", "2020-01-01T12");
        var fair = Ensemble.Data.Npy.NpyFile.Read(Path.Combine(dir, "crps_fair.npy")).ToTensor();   // [L, V, lat, lon]
        using var q = store.Read("q700");                                                            // float32 copies of the members
        for (int l = 0; l <= 2; l++)
        {
            using var truth = ds.Get(2 + l)[1].to(ScalarType.Float64);
            using var members = q[TensorIndex.Colon, 1, l].to(ScalarType.Float64);                 // [M, lat, lon]
            using var want = Ensemble.Scoring.Probabilistic.Crps.Ensemble(members, truth);
            // The stored fields are float32; the statistics use the float64 states: agree to float32 rounding.
            double diff = (fair[l, 1] - want).abs().max().item<double>();
            Assert.True(diff <= 1e-6 * Math.Max(1e-12, want.abs().max().item<double>()) + 1e-9, $"lead {l}: CRPS differs by {diff:E3}");
        }
    }

    sealed class PoisonPair(IInitialPerturbation inner, int pair) : IInitialPerturbation
    {
        public string Name => inner.Name;
        public IReadOnlyList<int> NonNegativeChannels => inner.NonNegativeChannels;
        public Tensor Perturbations(PerturbationRequest request)
        {
            var d = inner.Perturbations(request);
            int k = request.PairSeeds.ToList().IndexOf(PerturbationSeeds.Pair(42, 0, request.InitTime, pair));
            if (k >= 0) d[k].fill_(double.NaN);
            return d;
        }
    }

    [Fact]
    public void ANaNMemberIsFlaggedExcludedAndWarnedAbout()
    {
        using var tmp = new TempDir();
        var (data, models) = TinyCampaign.Create(tmp.Path, checkpoints: 1, times: 8);
        var config = EnsembleRunConfig.Parse(TinyCampaign.Yaml(data, models, tmp.File("run"), steps: 2), "campaign.yaml");
        var warnings = new List<string>();
        var options = new RunOptions
        {
            Warning = warnings.Add,
            Perturbation = (ch, nlat, nlon) => new PoisonPair(PerturbationFactory.Create(config.Perturbation, ch, nlat, nlon), pair: 1),
        };
        var summary = EnsembleRun.Execute(config, RankInfo.Single, options);
        // Pair 1 of checkpoint 0 is members 3 (+) and 4 (−), at both initial times.
        Assert.Equal([3, 3, 4, 4], summary.Flagged.Select(f => f.Member).Order().ToArray());
        Assert.All(summary.Flagged, f => Assert.Equal(0, f.Step));
        Assert.Contains(warnings, w => w.Contains("member 3") && w.Contains("excluded from the statistics"));
        var merged = Ensemble.Scoring.Streaming.StreamingScores.Load(Path.Combine(tmp.File("run"), "statistics", "2020-01-01T00", "merged.stats"));
        Assert.All(merged.Count, c => Assert.Equal(5, c));
        foreach (var f in Directory.GetFiles(Path.Combine(tmp.File("run"), "statistics", "2020-01-01T00"), "*.npy"))
        {
            using var t = Ensemble.Data.Npy.NpyFile.Read(f).ToTensor();
            if (t.is_floating_point()) Assert.False(isnan(t).any().item<bool>(), $"{Path.GetFileName(f)} has NaN");
        }
        var summaryJson = File.ReadAllText(Path.Combine(tmp.File("run"), "summary.json"));
        Assert.Contains("\"flagged\"", summaryJson);
        Assert.Contains("NaN or infinite values", summaryJson);
    }
}

public class WeightVariantTests
{
    [Fact]
    public void WeightVariantsOfOnePackageAreSeededCheckpointsThatDiverge()
    {
        using var tmp = new Ensemble.TestSupport.TempDir();
        var (data, models) = TinyCampaign.Create(tmp.Path, checkpoints: 1);
        EnsembleRunConfig Config(string run, params string[] o) => EnsembleRunConfig.Parse(TinyCampaign.Yaml(data, models, tmp.File(run), pairs: 1, control: true, steps: 2),
            "campaign.yaml", ["perturbation.weights={relative_std: 0.05, groups: ['blocks.*.filter'], variants: 2}", .. o]);
        EnsembleRun.Execute(Config("a"), RankInfo.Single);
        using var store = EnsembleStore.Open(Path.Combine(tmp.File("a"), "fields.zarr"));
        // 1 package × 2 variants × (control + 1 pair × 2) = 6 members; members 0 and 3 are the variants' controls.
        Assert.Equal(6, store.Layout.Members);
        Assert.Equal(["ckpt0~w0", "ckpt0~w1"], store.Layout.MemberInfo!.Select(m => m.Model).Distinct());
        Assert.Equal(store.ReadField("z500", 0, 0, 0), store.ReadField("z500", 3, 0, 0));       // same analysis at lead 0
        Assert.NotEqual(store.ReadField("z500", 0, 0, 1), store.ReadField("z500", 3, 0, 1));    // different weights after a step

        // Seeded: a rerun of the same config gives the same variant members, bit for bit.
        EnsembleRun.Execute(Config("b"), RankInfo.Single);
        using var again = EnsembleStore.Open(Path.Combine(tmp.File("b"), "fields.zarr"));
        for (int k = 0; k < 6; k++)
            Assert.Equal(store.ReadField("z500", k, 1, 2), again.ReadField("z500", k, 1, 2));
    }
}
