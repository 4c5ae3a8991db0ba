using System.Diagnostics;
using Ensemble.Data.Datasets;
using Ensemble.Data.Hdf5;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using Xunit.Abstractions;
using Xunit;
using static TorchSharp.torch;

namespace Ensemble.Cli.Tests;

/// <summary>`ensemble run` / `ensemble merge` as real processes: world-size independence, kill -9 and resume.</summary>
public class RunCommandTests(ITestOutputHelper output)
{
    static Process Start(string config, string[] extra, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ensemble.dll"));
        foreach (var a in new[] { "run", "--config", config }.Concat(extra)) psi.ArgumentList.Add(a);
        foreach (var k in new[] { "RANK", "WORLD_SIZE", "SLURM_PROCID", "SLURM_NTASKS", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT" })
            psi.Environment.Remove(k);
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    static (int Code, string Err) Finish(Process p)
    {
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result + e.Result);
    }

    static SortedDictionary<string, byte[]> Outputs(string run)
    {
        var files = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var sub in new[] { "statistics", "fields.zarr" })
            foreach (var f in Directory.GetFiles(Path.Combine(run, sub), "*", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(run, f);
                if (rel.Contains("items") || Path.GetFileName(f).StartsWith('.') || f.EndsWith(".tmp", StringComparison.Ordinal)) continue;
                files[rel] = File.ReadAllBytes(f);
            }
        return files;
    }

    static void AssertSame(SortedDictionary<string, byte[]> want, SortedDictionary<string, byte[]> got, string what)
    {
        Assert.Equal(want.Keys, got.Keys);
        foreach (var (k, v) in want) Assert.True(v.AsSpan().SequenceEqual(got[k]), $"{what}: {k} differs");
    }

    [Fact]
    public void OneTwoAndThreeRankProcessesGiveBitIdenticalMergedStatisticsAndFields()
    {
        using var tmp = new TempDir();
        var (data, models) = TinyRunCampaign.Create(tmp.Path);
        string Write(string run)
        {
            string cfg = tmp.File(run + ".yaml");
            File.WriteAllText(cfg, TinyRunCampaign.Yaml(data, models, tmp.File(run)));
            return cfg;
        }
        var one = Finish(Start(Write("w1"), []));
        Assert.True(one.Code == 0, one.Err);
        var want = Outputs(tmp.File("w1"));
        Assert.Contains(want.Keys, k => k.EndsWith("crps_fair.npy", StringComparison.Ordinal));
        foreach (int world in new[] { 2, 3 })
        {
            string cfg = Write($"w{world}");
            var procs = Enumerable.Range(0, world).Select(r => Start(cfg, [], new Dictionary<string, string> { ["RANK"] = $"{r}", ["WORLD_SIZE"] = $"{world}" })).ToList();
            foreach (var p in procs) { var r = Finish(p); Assert.True(r.Code == 0, r.Err); }
            var merge = CliRunner.Process("merge", "--input", tmp.File($"w{world}"));
            Assert.True(merge.ExitCode == 0, merge.Err);
            AssertSame(want, Outputs(tmp.File($"w{world}")), $"world size {world}");
        }
    }

    [Fact]
    public void AKilledRunResumesToTheUninterruptedResult()
    {
        using var tmp = new TempDir();
        var (data, models) = TinyRunCampaign.Create(tmp.Path);
        string Write(string run)
        {
            string cfg = tmp.File(run + ".yaml");
            File.WriteAllText(cfg, TinyRunCampaign.Yaml(data, models, tmp.File(run), pairs: 4, pairsPerItem: 1, steps: 4));
            return cfg;
        }
        var full = Finish(Start(Write("full"), []));
        Assert.True(full.Code == 0, full.Err);
        string cfg = Write("killed");
        string state = Path.Combine(tmp.File("killed"), "state");
        var p = Start(cfg, []);
        var clock = Stopwatch.StartNew();
        while (!(Directory.Exists(state) && Directory.GetFiles(state, "*.done").Length >= 3) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3))
            Thread.Sleep(20);
        Assert.False(p.HasExited, "the run finished before it could be killed");
        p.Kill(entireProcessTree: true);                 // SIGKILL
        p.WaitForExit();
        int doneBefore = Directory.GetFiles(state, "*.done").Length;
        output.WriteLine($"killed after {doneBefore} of 16 work items");
        Assert.InRange(doneBefore, 3, 15);
        Assert.False(File.Exists(Path.Combine(tmp.File("killed"), "summary.json")));
        var resumed = Finish(Start(cfg, []));
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("already done", resumed.Err);
        AssertSame(Outputs(tmp.File("full")), Outputs(tmp.File("killed")), "resumed run");
    }

    [Fact]
    public void MemberKAloneEqualsTheFullRunAndBadConfigsExit2()
    {
        using var tmp = new TempDir();
        var (data, models) = TinyRunCampaign.Create(tmp.Path, checkpoints: 1, times: 8);
        string cfg = tmp.File("c.yaml");
        File.WriteAllText(cfg, TinyRunCampaign.Yaml(data, models, tmp.File("full"), steps: 2));
        var r = CliRunner.InProcess("run", "--config", cfg);
        Assert.True(r.ExitCode == 0, r.Err);
        r = CliRunner.InProcess("run", "--config", cfg, "--member", "4", $"output.path={tmp.File("m4")}");
        Assert.True(r.ExitCode == 0, r.Err);
        using var a = Ensemble.Data.EnsembleOutput.EnsembleStore.Open(Path.Combine(tmp.File("full"), "fields.zarr"));
        using var b = Ensemble.Data.EnsembleOutput.EnsembleStore.Open(Path.Combine(tmp.File("m4"), "fields.zarr"));
        using var za = a.Read("z500");
        using var zb = b.Read("z500");
        Assert.True(za[4].contiguous().bytes.SequenceEqual(zb[4].contiguous().bytes));
        var bad = CliRunner.InProcess("run", "--config", cfg, "members={count: 6, control: true}");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("members.count: 6 with a control leaves an odd number", bad.Err);
        var noRun = CliRunner.InProcess("merge", "--input", tmp.File("nowhere"));
        Assert.Equal(2, noRun.ExitCode);
    }
}

/// <summary>A tiny real campaign on disk: a Makani dataset (3 channels, 8 × 16, 6-hourly in 2020) and SFNO packages.</summary>
/// <remarks>Same as Ensemble.Inference.Tests.TinyCampaign (test projects do not reference each other).</remarks>
public static class TinyRunCampaign
{
    public static readonly string[] Channels = ["z500", "t850", "q700"];
    public const int NLat = 8, NLon = 16;

    public static (string Data, List<string> Models) Create(string root, int checkpoints = 2, int times = 12, int nlat = NLat, int nlon = NLon, int embed = 8, int layers = 1)
    {
        string data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var lat = Enumerable.Range(0, nlat).Select(i => 90 - 180.0 * (i + 0.5) / nlat).ToArray();
        var lon = Enumerable.Range(0, nlon).Select(j => 360.0 * j / nlon).ToArray();
        var values = new float[times * Channels.Length * nlat * nlon];
        var rng = new Random(3);
        double[] mean = [55000, 275, 0.004], amp = [800, 8, 0.002];
        for (int t = 0; t < times; t++)
            for (int c = 0; c < Channels.Length; c++)
                for (int i = 0; i < nlat; i++)
                    for (int j = 0; j < nlon; j++)
                        values[((t * Channels.Length + c) * nlat + i) * nlon + j] = (float)(mean[c] + amp[c] *
                            (Math.Cos(lat[i] * Math.PI / 180) * Math.Sin((lon[j] + 15 * t) * Math.PI / 180 * (c + 1)) + 0.1 * (rng.NextDouble() - 0.5)));
        MakaniYearFile.Write(Path.Combine(data, "2020.h5"), 2020, 6, values, Channels, lat, lon);
        new MakaniMetadata("tiny", 6, Channels, lat, lon).Write(Path.Combine(data, "data.json"));
        using var ds = new MakaniDataset(data);
        var stats = ds.ComputeNormalization(Enumerable.Range(0, ds.Count));
        var models = new List<string>();
        for (int k = 0; k < checkpoints; k++)
        {
            var config = new SfnoConfig
            {
                ImgShapeX = nlat, ImgShapeY = nlon, ScaleFactor = 1, NInChannels = 3, NOutChannels = 3, EmbedDim = embed, NumLayers = layers,
                ChannelNames = Channels, InChannels = [0, 1, 2], OutChannels = [0, 1, 2],
            };
            using var net = new SphericalFourierNeuralOperatorNet(config, ScalarType.Float32, seed: 100 + k);
            string dir = Path.Combine(root, $"ckpt{k}");
            ModelPackage.Export(dir, net, stats);
            models.Add(dir);
        }
        return (data, models);
    }

    public static string Yaml(string data, IEnumerable<string> models, string output, int pairs = 3, bool control = true, int steps = 3, int pairsPerItem = 2,
        string format = "zarr", int batch = 3) => $$"""
        name: tiny
        seed: 42
        models: [{{string.Join(", ", models.Select(m => $"'{m}'"))}}]
        initial_conditions:
          path: '{{data}}'
          times: ['2020-01-01T00:00:00', '2020-01-01T12:00:00']
        steps: {{steps}}
        members: {pairs: {{pairs}}, control: {{(control ? "true" : "false")}}}
        pairs_per_item: {{pairsPerItem}}
        batch_size: {{batch}}
        device: cpu
        perturbation:
          method: gaussian
          amplitudes: {z500: 40.0, t850: 0.5, q700: 0.0002}
        output: {path: '{{output}}', format: {{format}}, variables: [z500, q700]}
        statistics:
          thresholds: {z500: [55000.0], q700: [0.004, 0.005]}
        """;
}

/// <summary>
/// Runner benchmark (docs/benchmarks.md, "Ensemble runner"): only with ENSEMBLE_RUNNER_BENCH=1. Real `ensemble run`
/// processes on a small SFNO (32 × 64, embed 16, 2 layers): peak RSS for 100 vs 1,000 members, member-steps/s vs batch
/// size and the statistics share, printed (never asserted).
/// </summary>
public class RunnerBenchmark(ITestOutputHelper output)
{
    [SkippableFact]
    public void MembersAndBatchSizes()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("ENSEMBLE_RUNNER_BENCH") == "1", "benchmark: set ENSEMBLE_RUNNER_BENCH=1");
        using var tmp = new TempDir();
        var (data, models) = TinyRunCampaign.Create(tmp.Path, checkpoints: 2, times: 12, nlat: 32, nlon: 64, embed: 16, layers: 2);
        void Run(string name, int pairs, int batch, string format)
        {
            string cfg = tmp.File(name + ".yaml");
            File.WriteAllText(cfg, TinyRunCampaign.Yaml(data, models, tmp.File(name), pairs: pairs, control: false, steps: 4, pairsPerItem: 25, format: format, batch: batch)
                .Replace("times: ['2020-01-01T00:00:00', '2020-01-01T12:00:00']", "times: ['2020-01-01T00:00:00']"));
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "ensemble.dll"));
            foreach (var a in new[] { "run", "--config", cfg }) psi.ArgumentList.Add(a);
            var clock = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var o = p.StandardOutput.ReadToEndAsync();
            var e = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, e.Result);
            foreach (var line in (o.Result + e.Result).Split('\n').Where(l => l.Contains("member-steps in") || l.Contains("peak RSS")))
                output.WriteLine($"{name} (pairs {pairs}, batch {batch}, {format}, wall {clock.Elapsed.TotalSeconds:F0} s): {line.Trim()}");
        }
        Run("m100", 25, 8, "none");
        Run("m1000", 250, 8, "none");
        foreach (int b in new[] { 1, 4, 16, 50 }) Run($"b{b}", 25, b, "none");
        Run("zarr100", 25, 8, "zarr");
    }
}
