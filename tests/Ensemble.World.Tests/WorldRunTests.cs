using Ensemble.Data.Npy;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.World.Tests;

/// <summary>Simulator, sinks, channel mapping, determinism and the physics ensemble on short, small runs.</summary>
public sealed class WorldRunTests
{
    static WorldConfig Small(double spinupDays = 0.5, double days = 1.0, long seed = 1)
    {
        var c = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"));
        c.SpinupDays = spinupDays;
        c.Days = days;
        c.Seed = seed;
        return c.Validate();
    }

    [Fact]
    public void Simulator_writes_six_hourly_named_snapshots_from_2000_01_01()
    {
        var sink = new InMemoryWorldSink();
        WorldSimulator.Run(Small(), sink);
        Assert.True(sink.Completed);
        var meta = sink.Metadata!;
        Assert.Equal(["z", "u", "v", "vo", "div", "pv"], meta.Channels.Select(c => c.Name));
        Assert.Equal(4, sink.Snapshots.Count);
        Assert.Equal(new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), sink.Times[0]);
        Assert.Equal(TimeSpan.FromHours(6), sink.Times[1] - sink.Times[0]);
        Assert.Equal(6 * 32 * 64, sink.Snapshots[0].Length);
        Assert.True(meta.LatitudesDeg[0] > 0 && meta.LatitudesDeg[^1] < 0);
        using var s = sink.Snapshot(3);
        // physically sensible magnitudes: mean depth ~2500 m, winds tens of m/s, vorticity ~1e-5
        double zMean = s[0].mean().item<float>();
        Assert.InRange(zMean, 2000, 3000);
        Assert.InRange(s[1].abs().max().item<float>(), 5, 150);
        Assert.InRange(s[3].abs().max().item<float>(), 1e-6, 1e-3);
        Assert.All(sink.Snapshots, a => Assert.All(a, v => Assert.True(float.IsFinite(v))));
    }

    [Fact]
    public void Same_config_and_seed_give_bit_identical_output_and_other_seeds_differ()
    {
        var a = new InMemoryWorldSink();
        var b = new InMemoryWorldSink();
        var c = new InMemoryWorldSink();
        WorldSimulator.Run(Small(), a);
        WorldSimulator.Run(Small(), b);
        WorldSimulator.Run(Small(seed: 2), c);
        for (int i = 0; i < a.Snapshots.Count; i++) Assert.Equal(a.Snapshots[i], b.Snapshots[i]);
        Assert.NotEqual(a.Snapshots[^1], c.Snapshots[^1]);
    }

    [Fact]
    public void Npy_sink_matches_the_in_memory_snapshots()
    {
        using var dir = new TempDir();
        var mem = new InMemoryWorldSink();
        var cfg = Small(spinupDays: 0.25, days: 0.5);
        WorldSimulator.Run(cfg, mem);
        WorldSimulator.Run(cfg, new NpyWorldSink(dir.Path));
        var fields = NpyFile.Read(dir.File("fields.npy"));
        Assert.Equal([2L, 6, 32, 64], fields.Shape);
        Assert.Equal(mem.Snapshots.SelectMany(x => x).ToArray(), fields.ToFloats());
        var times = NpyFile.Read(dir.File("times.npy")).ToTensor();
        Assert.Equal(946684800L, times[0].item<long>());
        Assert.Equal(946684800L + 21600, times[1].item<long>());
        Assert.Equal(32, NpyFile.Read(dir.File("lat.npy")).ElementCount);
        Assert.Contains("\"vo\"", File.ReadAllText(dir.File("world.json")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Grid_state_round_trips_to_the_spectral_state()
    {
        using var model = new WorldModel(Small());
        using var gen = new Generator(5);
        // A random spectral state carries parts no grid wind can hold (the l = 0 mean of ζ and δ, imaginary m = 0
        // parts); one grid round trip projects them out, after which grid ↔ spectral is exact.
        using var raw = model.Solver.RandomInitialCondition(gen, mach: 0.2, limit: 22);
        using var rawGrid = WorldChannels.ToGrid(model.Solver, raw);
        using var spec = WorldChannels.FromGrid(model.Solver, rawGrid);
        using var grid = WorldChannels.ToGrid(model.Solver, spec);
        using var back = WorldChannels.FromGrid(model.Solver, grid);
        double rel = Math.Sqrt((back - spec).abs().pow(2).sum().item<double>() / spec.abs().pow(2).sum().item<double>());
        Assert.True(rel < 1e-12, $"round trip relative error {rel:E3}");
        // z, u, v (what the state is built from) are unchanged by the projection
        for (int c = 0; c < 3; c++)
        {
            double gridRel = ((grid[c] - rawGrid[c]).abs().max() / rawGrid[c].abs().max()).item<double>();
            // the vector SHT round trip is not exact (u, v carry 1/sin θ factors; measured 2.4e-8 for u at 32×64 T21)
            Assert.True(gridRel < 1e-6, $"channel {c} changed by the projection: {gridRel:E3}");
        }
        // pv is (ζ + f)/h by definition
        using var pv = (grid[3] + model.Solver.Coriolis) / grid[0];
        Assert.True((pv - grid[5]).abs().max().item<double>() <= 1e-12 * grid[5].abs().max().item<double>());
        Assert.Throws<Ensemble.Core.EnsembleException>(() => WorldChannels.FromGrid(model.Solver, torch.zeros(5, 32, 64)));
    }

    [Fact]
    public void Stirring_replay_equals_the_sequential_recursion()
    {
        using var model = new WorldModel(Small());
        var st = model.Forcing.Stirring;
        st.Advance(0);
        for (long k = 1; k <= 30; k++) st.Advance(k);
        using var replay = st.StateAt(30);
        double rel = ((replay - st.Current).abs().max() / st.Current.abs().max()).item<double>();
        Assert.True(rel < 1e-12, $"replay differs by {rel:E3}");
        using var other = st.StateAt(29);
        Assert.True(((other - st.Current).abs().max() / st.Current.abs().max()).item<double>() > 1e-3);
    }

    [Fact]
    public void Physics_ensemble_members_follow_their_perturbations()
    {
        var cfg = Small(spinupDays: 1, days: 1);
        var truth = new InMemoryWorldSink();
        WorldSimulator.Run(cfg, truth);
        using var init = truth.Snapshot(0);
        var members = new[] { new MemberPerturbation(0, 0), new MemberPerturbation(0.05, 7), new MemberPerturbation(0.05, 7), new MemberPerturbation(0.05, 8) };
        var outputs = new List<Tensor>();
        PhysicsEnsemble.Run(cfg, init, truth.Times[0], members, 3, (lead, time, grid) =>
        {
            Assert.Equal(truth.Times[lead], time);
            Assert.Equal([4L, 6, 32, 64], grid.shape);
            outputs.Add(grid.clone());
        });
        Assert.Equal(4, outputs.Count);
        // lead 0 of the control is the initial grid (up to float32 rounding of the derived channels)
        Assert.True((outputs[0][0].narrow(0, 0, 5) - init.narrow(0, 0, 5)).abs().max().item<float>() <= 2e-3f * init.narrow(0, 0, 1).abs().max().item<float>());
        // the control stays on the truth (same stirring, float32 start) much closer than perturbed members
        using var truthLast = truth.Snapshot(3);
        double Err(Tensor x) => (x[3] - truthLast[3]).pow(2).mean().sqrt().item<float>();
        double control = Err(outputs[3][0]), pert = Err(outputs[3][1]);
        Assert.True(control < 0.3 * pert, $"control error {control:E3} vs perturbed {pert:E3}");
        Assert.Equal(outputs[3][1].data<float>().ToArray(), outputs[3][2].data<float>().ToArray());
        Assert.NotEqual(outputs[3][1].data<float>().ToArray(), outputs[3][3].data<float>().ToArray());
        foreach (var o in outputs) o.Dispose();
    }
}
