using System.Globalization;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Ensemble.World.Tests;

/// <summary>
/// Predictability and stationarity of the forced world: the acceptance run at 64×128 is the gated
/// <see cref="Year_long_run_is_stationary_and_twins_saturate_in_3_to_15_days"/> (set ENSEMBLE_WORLD_LONG=1; it writes
/// docs/world/*.png and docs/world/report.txt). The current world fails its twin criterion (the 1e−6 twin error does
/// not grow; docs/world.md, "Predictability and stationarity"), so there is no cheap small-world chaos test yet.
/// </summary>
public sealed class ChaosAndClimateTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Year_long_run_is_stationary_and_twins_saturate_in_3_to_15_days()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_LONG") == "1", "year-long world run: set ENSEMBLE_WORLD_LONG=1 (about half an hour on 2 shared cores)");
        // One intra-op thread: on a shared, loaded 2-core machine two threads cost 3-6x the CPU per step (spin-waiting)
        // and were slower in wall time (measured 16 vs 37-99 ms per step at 64×128).
        torch.set_num_threads(1);
        var cfg = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world.yaml"));
        cfg.SpinupDays = 50;   // the climate report spins up 50 days (5 relaxation/drag times); the stationarity test covers it
        string dir = Path.Combine(Shared.RepoRoot, "docs", "world");
        var lines = new List<string>();
        string progress = Path.Combine(Path.GetTempPath(), "ensemble-world-year.log");
        // ENSEMBLE_WORLD_DAYS shortens the run on a busy machine (docs/world.md records what was run)
        double days = double.TryParse(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_DAYS"), CultureInfo.InvariantCulture, out var dd) ? dd : 365;
        lines.Add(string.Format(CultureInfo.InvariantCulture, "configs/world.yaml, spin-up {0} d, twin 20 d, run {1} d after spin-up, 1 torch thread", cfg.SpinupDays, days));
        var r = ClimateReport.Run(cfg, days: days, twinDays: 20, plotDirectory: dir, log: s => { output.WriteLine(s); lines.Add(s); File.AppendAllText(progress, s + "\n"); });
        var inv = CultureInfo.InvariantCulture;
        lines.Add(string.Format(inv, "energy mean first half {0:E5}, second half {1:E5}, drift {2:P2}", r.FirstHalfMean, r.SecondHalfMean, r.Drift));
        lines.Add(string.Format(inv, "climatological distance z {0:F1} m, vo {1:E3} 1/s", r.ClimZ, r.ClimVo));
        lines.Add(string.Format(inv, "twin (1e-6): z error reaches 50 % of it at {0:F2} d, 90 % at {1:F2} d", r.DaysTo50, r.DaysTo90));
        for (int d = 0; d < r.Twin.LeadDays.Length; d += 4)
            lines.Add(string.Format(inv, "  lead {0,5:F1} d  z {1:E3} m  vo {2:E3} 1/s", r.Twin.LeadDays[d], r.Twin.ZRms[d], r.Twin.VoRms[d]));
        lines.Add(string.Format(inv, "speed {0:F2} simulated days/s (shared CPU)", r.SimulatedDaysPerSecond));
        File.WriteAllLines(Path.Combine(dir, "report.txt"), lines);
        Assert.True(r.Drift < 0.05, $"energy drift {r.Drift:P2}");
        Assert.InRange(r.DaysTo90, 3.0, 15.0);
    }
}
