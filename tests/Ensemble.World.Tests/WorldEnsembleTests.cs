using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.World.Tests;

/// <summary>Exact restarts from a truth folder and the physics ensemble written to the ensemble output store.</summary>
public sealed class WorldEnsembleTests
{
    static WorldConfig Small()
    {
        var c = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"));
        c.SpinupDays = 0.5;
        c.Days = 1.5;
        return c.Validate();
    }

    /// <summary>The truth folder and its snapshots read back (bit-exact, MakaniWorldSinkTests).</summary>
    static (Truths Mem, TempDir Dir) Truth(WorldConfig cfg)
    {
        var dir = new TempDir();
        WorldSimulator.Run(cfg, new MakaniWorldSink(dir.Path));
        using var ds = new Ensemble.Data.Datasets.MakaniDataset(dir.File("train"));
        var t = new Truths();
        for (int i = 0; i < ds.Count; i++)
        {
            t.Times.Add(ds.TimeOf(i));
            using var x = ds.Get(i);
            t.Snapshots.Add(x.contiguous().data<float>().ToArray());
        }
        return (t, dir);
    }

    sealed class Truths
    {
        public List<DateTime> Times { get; } = [];
        public List<float[]> Snapshots { get; } = [];
        public Tensor Snapshot(int i) => torch.tensor(Snapshots[i], [WorldChannels.Count, 32, 64]);
    }

    [Fact]
    public void A_zero_perturbation_member_from_the_truth_restart_reproduces_the_truth_and_a_perturbed_one_does_not()
    {
        var cfg = Small();
        var (mem, dir) = Truth(cfg);
        using var _ = dir;
        Assert.True(File.Exists(WorldRestartFile.YearPath(dir.Path, 2000)));
        const int start = 2;
        var t0 = mem.Times[start];
        using var restart = WorldRestartFile.Read(dir.Path, t0, cfg.OutputHours, cfg.Lmax, cfg.Mmax);
        Assert.Equal([4L, cfg.Lmax, cfg.Mmax], restart.shape);
        var outputs = new List<float[]>();
        var times = new List<DateTime>();
        PhysicsEnsemble.RunFromRestart(cfg, restart, t0, [new MemberPerturbation(0, 0), new MemberPerturbation(0.05, 7)], 3, (lead, t, f) =>
        {
            times.Add(t);
            outputs.Add(f.contiguous().data<float>().ToArray());
        });
        int per = WorldChannels.Count * 32 * 64;
        for (int lead = 0; lead <= 3; lead++)
        {
            Assert.Equal(mem.Times[start + lead], times[lead]);
            var truth = mem.Snapshots[start + lead];
            var member0 = outputs[lead].AsSpan(0, per).ToArray();
            var member1 = outputs[lead].AsSpan(per, per).ToArray();
            double maxRel = 0, diff1 = 0;
            for (int c = 0; c < WorldChannels.Count; c++)
            {
                double scale = 0;
                for (int i = c * 2048; i < (c + 1) * 2048; i++) scale = Math.Max(scale, Math.Abs(truth[i]));
                for (int i = c * 2048; i < (c + 1) * 2048; i++)
                {
                    maxRel = Math.Max(maxRel, Math.Abs(member0[i] - truth[i]) / scale);
                    diff1 = Math.Max(diff1, Math.Abs(member1[i] - truth[i]) / scale);
                }
            }
            // float32 output: the control equals the truth to a few float32 ulps of each channel's scale
            Assert.True(maxRel < 1e-6, $"lead {lead}: control differs from the truth by {maxRel:E2} of the channel scale");
            if (lead > 0) Assert.True(diff1 > 1e-4, $"lead {lead}: perturbed member only {diff1:E2} from the truth");
        }
    }

    [Fact]
    public void Restart_file_errors_name_the_file_and_the_problem()
    {
        var cfg = Small();
        var (_, dir) = Truth(cfg);
        using var d = dir;
        var e = Assert.Throws<EnsembleException>(() => WorldRestartFile.Read(dir.Path, new DateTime(2000, 1, 1, 3, 0, 0, DateTimeKind.Utc), 6, cfg.Lmax, cfg.Mmax));
        Assert.Contains("not an output time", e.Message);
        e = Assert.Throws<EnsembleException>(() => WorldRestartFile.Read(dir.Path, new DateTime(2000, 1, 5, 0, 0, 0, DateTimeKind.Utc), 6, cfg.Lmax, cfg.Mmax));
        Assert.Contains("outside", e.Message);
        e = Assert.Throws<EnsembleException>(() => WorldRestartFile.Read(dir.Path, new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc), 6, cfg.Lmax, cfg.Mmax));
        Assert.Contains("2001.npy", e.Message);
        var other = cfg.Clone();
        other.Seed = 99;
        e = Assert.Throws<EnsembleException>(() => WorldEnsembleRun.CheckSameWorld(other, dir.Path));
        Assert.Contains("different world", e.Message);
        var longer = cfg.Clone();
        longer.Days = 30;
        WorldEnsembleRun.CheckSameWorld(longer, dir.Path);
    }

    [Fact]
    public void Physics_ensemble_writes_the_ensemble_store_with_a_control_that_is_the_truth_and_seeded_members()
    {
        var cfg = Small();
        var (mem, dir) = Truth(cfg);
        using var d = dir;
        string store = dir.File("ens.zarr");
        var inits = new[] { mem.Times[1], mem.Times[3] };
        var layout = WorldEnsembleRun.Execute(new WorldEnsembleOptions(cfg, dir.Path, inits, 3, 2, store, Amplitude: 0.1, Seed: 5, Control: true));
        Assert.Equal([0.0, 6.0, 12.0], layout.LeadTimeHours);
        using var reader = EnsembleStore.Open(store);
        Assert.Equal(WorldChannels.Names, reader.Layout.Variables);
        Assert.Equal(inits, reader.Layout.Times);
        Assert.Equal(3, reader.Layout.Members);
        Assert.Equal(0, reader.Layout.MemberInfo![0].Sign);
        Assert.Equal(WorldEnsembleRun.PerturbationName, reader.Layout.MemberInfo![1].Perturbation);
        using var z = reader.Read("z");   // [ensemble, time, lead, lat, lon]
        Assert.Equal([3L, 2, 3, 32, 64], z.shape);
        using var vo = reader.Read("vo");
        for (int ti = 0; ti < 2; ti++)
            for (int lead = 0; lead < 3; lead++)
            {
                using var truth = mem.Snapshot(1 + 2 * ti + lead)[0];
                Assert.True((z[0, ti, lead] - truth).abs().max().item<float>() < 0.01f, $"control at time {ti} lead {lead}");
                // the perturbation is in vorticity (amplitude 0.1 × climate std ~ 1e-6 s⁻¹)
                Assert.True((vo[1, ti, lead] - vo[2, ti, lead]).abs().max().item<float>() > 1e-7f, "members 1 and 2 are identical");
                Assert.True((vo[1, ti, lead] - vo[0, ti, lead]).abs().max().item<float>() > 1e-7f, "member 1 is the control");
            }
        // the seeds are a function of (seed, time, member): a second run gives the same members
        string again = dir.File("again.zarr");
        WorldEnsembleRun.Execute(new WorldEnsembleOptions(cfg, dir.Path, [inits[1]], 3, 1, again, Amplitude: 0.1, Seed: 5, Control: true));
        using var r2 = EnsembleStore.Open(again);
        using var z2 = r2.Read("z");
        Assert.Equal(z[.., 1, ..2].contiguous().data<float>().ToArray(), z2[.., 0].contiguous().data<float>().ToArray());
    }
}
