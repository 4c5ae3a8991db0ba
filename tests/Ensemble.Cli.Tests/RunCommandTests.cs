using System.Diagnostics;
using Ensemble.Data.Datasets;
using Ensemble.Data.Hdf5;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using Xunit.Abstractions;
using Xunit;
using static TorchSharp.torch;

using Ensemble.Inference.Tests;

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
        var (data, models) = TinyCampaign.Create(tmp.Path);
        string Write(string run)
        {
            string cfg = tmp.File(run + ".yaml");
            File.WriteAllText(cfg, TinyCampaign.Yaml(data, models, tmp.File(run)));
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
        var (data, models) = TinyCampaign.Create(tmp.Path);
        string Write(string run)
        {
            string cfg = tmp.File(run + ".yaml");
            File.WriteAllText(cfg, TinyCampaign.Yaml(data, models, tmp.File(run), pairs: 4, pairsPerItem: 1, steps: 4));
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
        var (data, models) = TinyCampaign.Create(tmp.Path, checkpoints: 1, times: 8);
        string cfg = tmp.File("c.yaml");
        File.WriteAllText(cfg, TinyCampaign.Yaml(data, models, tmp.File("full"), steps: 2));
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
        var (data, models) = TinyCampaign.Create(tmp.Path, checkpoints: 2, times: 12, nlat: 32, nlon: 64, embed: 16, layers: 2);
        void Run(string name, int pairs, int batch, string format)
        {
            string cfg = tmp.File(name + ".yaml");
            File.WriteAllText(cfg, TinyCampaign.Yaml(data, models, tmp.File(name), pairs: pairs, control: false, steps: 4, pairsPerItem: 25, format: format, batch: batch)
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
