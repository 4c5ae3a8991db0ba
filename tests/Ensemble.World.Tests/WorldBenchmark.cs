using System.Diagnostics;
using System.Globalization;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Ensemble.World.Tests;

/// <summary>
/// Simulated days per second (float64, 2 threads) at 64×128 T42 and 128×256 T85: a benchmark, not a test of speed;
/// gated by ENSEMBLE_WORLD_BENCH=1, it writes docs/world/benchmark-Nthread.txt (N = threads) (numbers copied into docs/benchmarks.md).
/// </summary>
public sealed class WorldBenchmark(ITestOutputHelper output)
{
    [SkippableFact]
    public void Simulated_days_per_second()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_BENCH") == "1", "benchmark: set ENSEMBLE_WORLD_BENCH=1");
        // ENSEMBLE_WORLD_THREADS (default 2): on a loaded shared machine 1 thread is faster (docs/benchmarks.md)
        int threads = int.TryParse(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_THREADS"), out var t) ? t : 2;
        torch.set_num_threads(threads);
        var lines = new List<string>();
        // the default world as shipped, and the same physics at twice the resolution (half the time step: CFL)
        double dt0 = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world.yaml")).Dt;
        foreach (var (nlat, nlon, lmax, dt) in new[] { (64, 128, 43, dt0), (128, 256, 86, dt0 / 2) })
        {
            var cfg = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world.yaml"));
            cfg.Nlat = nlat; cfg.Nlon = nlon; cfg.Lmax = lmax; cfg.Mmax = lmax; cfg.Dt = dt;
            cfg.Validate();
            using var model = new WorldModel(cfg);
            var s = model.EquilibriumState();
            model.Restart(0);
            var warm = model.Advance(s, 20); s.Dispose(); s = warm;
            double days = nlat == 64 ? 2.0 : 0.5;
            long steps = (long)Math.Round(days * 86400 / dt);
            var sw = Stopwatch.StartNew();
            var n = model.Advance(s, steps); s.Dispose(); s = n;
            double sec = sw.Elapsed.TotalSeconds;
            s.Dispose();
            string line = string.Format(CultureInfo.InvariantCulture, "{0}x{1} lmax {2} dt {3} s, {7} thread(s): {4:F3} simulated days/s ({5:F2} ms/step, {6} steps)",
                nlat, nlon, lmax, dt, days / sec, 1000 * sec / steps, steps, threads);
            output.WriteLine(line);
            lines.Add(line);
        }
        Directory.CreateDirectory(Path.Combine(Shared.RepoRoot, "docs", "world"));
        lines.Insert(0, string.Format(CultureInfo.InvariantCulture, "{0:yyyy-MM-dd HH:mm} UTC, load average {1}", DateTime.UtcNow,
            File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?"));
        File.WriteAllLines(Path.Combine(Shared.RepoRoot, "docs", "world", $"benchmark-{threads}thread.txt"), lines);
    }
}
