using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Data.Hdf5;
using Ensemble.Data.Npy;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.World.Tests;

/// <summary>The Makani HDF5 sink: world → year files → <see cref="MakaniDataset"/> round trip, year split and stats.</summary>
public sealed class MakaniWorldSinkTests
{
    [Fact]
    public void World_through_the_Makani_sink_reads_back_bit_exact_with_the_in_memory_sink()
    {
        using var dir = new TempDir();
        var cfg = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"));
        cfg.SpinupDays = 0.25;
        cfg.Days = 1;
        cfg.Validate();
        var mem = new InMemoryWorldSink();
        WorldSimulator.Run(cfg, mem);
        WorldSimulator.Run(cfg, new MakaniWorldSink(dir.Path));

        Assert.True(File.Exists(dir.File("train/2000.h5")));
        Assert.False(Directory.Exists(dir.File("valid")));
        var meta = MakaniMetadata.Read(dir.File("data.json"));
        Assert.Equal("legendre-gauss", meta.GridType);
        Assert.Equal(6, meta.DHours);
        Assert.Equal(mem.Metadata!.LatitudesDeg, meta.Lat);
        using var ds = new MakaniDataset(dir.File("train"));
        Assert.Equal(["z", "u", "v", "vo", "div", "pv"], ds.Channels);
        Assert.Equal(mem.Snapshots.Count, ds.Count);
        for (int i = 0; i < ds.Count; i++)
        {
            Assert.Equal(mem.Times[i], ds.TimeOf(i));
            using var t = ds.Get(i);
            Assert.Equal([6L, 32, 64], t.shape);
            Assert.Equal(mem.Snapshots[i], t.data<float>().ToArray());
        }

        // global stats: unweighted per-channel mean/std over all training snapshots
        var (means, stds) = MakaniStats.ReadGlobal(dir.File("stats"));
        int pts = 32 * 64;
        for (int c = 0; c < 6; c++)
        {
            var x = mem.Snapshots.SelectMany(s => s.Skip(c * pts).Take(pts)).Select(v => (double)v).ToArray();
            double m = x.Average(), sd = Math.Sqrt(x.Select(v => (v - m) * (v - m)).Average());
            Assert.True(Math.Abs(means[c] - m) <= 1e-9 * Math.Max(Math.Abs(m), sd), $"channel {c} mean {means[c]} vs {m}");
            Assert.True(Math.Abs(stds[c] - sd) <= 1e-8 * sd, $"channel {c} std {stds[c]} vs {sd}");
        }
        Assert.Equal([1L, 6, 32, 64], NpyFile.Read(dir.File("stats/time_means.npy")).Shape);
    }

    [Fact]
    public void Years_from_the_validation_year_go_to_valid_and_stats_use_training_years_only()
    {
        using var dir = new TempDir();
        var cfg = new WorldConfig().Validate();
        var start = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        int n2000 = 366 * 4, n = n2000 + 8;
        var meta = new WorldMetadata([new WorldChannel("a", "1", "a")], [45.0, -45.0], [0.0, 90, 180, 270], start, TimeSpan.FromHours(6), n, cfg);
        var sink = new MakaniWorldSink(dir.Path, validationFromYear: 2001);
        sink.Begin(meta);
        for (int i = 0; i < n; i++)
        {
            // training values are i (year 2000), validation values 1e6: they must not enter the stats
            float v = i < n2000 ? i : 1e6f;
            using var t = torch.full([1, 2, 4], v, dtype: ScalarType.Float32);
            sink.Write(start.AddHours(6 * i), t);
        }
        sink.Complete();

        using var train = new MakaniDataset(dir.File("train"));
        using var valid = new MakaniDataset(dir.File("valid"));
        Assert.Equal(n2000, train.Count);
        Assert.Equal(8, valid.Count);
        Assert.Equal(new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc), valid.TimeOf(0));
        Assert.Equal(new DateTime(2000, 12, 31, 18, 0, 0, DateTimeKind.Utc), train.TimeOf(n2000 - 1));
        using (var last = train.Get(n2000 - 1)) Assert.Equal(n2000 - 1, last[0, 0, 0].item<float>());
        var (means, stds) = MakaniStats.ReadGlobal(dir.File("stats"));
        double mean = (n2000 - 1) / 2.0, sd = Math.Sqrt(((double)n2000 * n2000 - 1) / 12.0);
        Assert.Equal(mean, means[0], 9);
        Assert.True(Math.Abs(stds[0] - sd) < 1e-9 * sd, $"std {stds[0]} vs {sd}");
    }

    [Fact]
    public void A_start_that_is_not_1_January_is_a_user_error()
    {
        using var dir = new TempDir();
        var cfg = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"));
        cfg.Start = "2000-03-01T00:00:00Z";
        cfg.SpinupDays = 0;
        cfg.Days = 0.25;
        var e = Assert.Throws<EnsembleException>(() => WorldSimulator.Run(cfg.Validate(), new MakaniWorldSink(dir.Path)));
        Assert.Contains("1 January", e.Message);
    }
}
