using System.Globalization;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;

namespace Ensemble.World.Tests;

/// <summary>
/// Loss of predictability from the stochastic forcing (docs/world.md, "Predictability"): twins with their own future
/// stirring diverge, twins with the same state and stirring stay identical. The cheap test runs on the smoke campaign's
/// 16×32 world; the documented curve (docs/world/error-growth.png) is the gated <see cref="Error_growth_curve_of_the_demo_world"/>.
/// </summary>
public sealed class ErrorGrowthTests(ITestOutputHelper output)
{
    /// <summary>The smoke campaign's 16×32 world (configs/world-small.yaml with configs/smoke.yaml's overrides).</summary>
    internal static WorldConfig Tiny()
    {
        var c = WorldConfig.Load(Path.Combine(Shared.RepoRoot, "configs", "world-small.yaml"));
        // the overrides of configs/smoke.yaml
        c.Nlat = 16; c.Nlon = 32; c.Lmax = 11; c.Mmax = 11; c.Dt = 1800;
        c.Forcing.StirringLmin = 4; c.Forcing.StirringLmax = 9;
        c.SpinupDays = 5;
        return c.Validate();
    }

    [Fact]
    public void Twins_with_their_own_future_stirring_diverge_and_identical_twins_stay_identical()
    {
        var r = ErrorGrowthExperiment.Run(Tiny(), climateDays: 4, starts: 2, startSpacingDays: 1, leadDays: 3);
        foreach (var (d, z, vo) in r.LeadDays.Zip(r.IndependentZ, r.IndependentVo))
            output.WriteLine(string.Format(CultureInfo.InvariantCulture, "lead {0:F2} d: z {1:E3}, vo {2:E3}", d, z, vo));
        Assert.Equal(0.0, r.IndependentZ[0]);          // same initial state
        Assert.True(r.IndependentZ[^1] > 2 * r.At(r.IndependentZ, 0.5), $"z error at 3 d {r.IndependentZ[^1]:E3} vs 0.5 d {r.At(r.IndependentZ, 0.5):E3}");
        Assert.True(r.IndependentVo[^1] > 2 * r.At(r.IndependentVo, 0.5), $"vo error at 3 d {r.IndependentVo[^1]:E3}");
        Assert.True(r.At(r.IndependentZ, 1) > r.At(r.IndependentZ, 0.25));
        Assert.True(r.IndependentZ[^1] > 1e-3, "own-stirring twins diverge");
        Assert.True(r.IdenticalMaxDifference <= 1e-10, $"identical twins differ by {r.IdenticalMaxDifference:E3}");
        Assert.True(r.SameVo[0] > 0 && r.SameVo[0] < 1e-2, $"same-stirring twin starts at {r.SameVo[0]:E3}");
    }

    [SkippableFact]
    public void Error_growth_curve_of_the_demo_world()
    {
        Skip.IfNot(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_GROWTH") == "1", "error-growth curve (minutes): set ENSEMBLE_WORLD_GROWTH=1 [ENSEMBLE_WORLD_GROWTH_CONFIG=configs/...]");
        torch.set_num_threads(1);
        string name = Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_GROWTH_CONFIG") ?? "configs/world-demo.yaml";
        var cfg = WorldConfig.Load(Path.Combine(Shared.RepoRoot, name));
        double climate = double.TryParse(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_GROWTH_DAYS"), CultureInfo.InvariantCulture, out var cd) ? cd : 120;
        int starts = int.TryParse(Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_GROWTH_STARTS"), out var st) ? st : 4;
        string tag = Environment.GetEnvironmentVariable("ENSEMBLE_WORLD_GROWTH_TAG") ?? "";
        var lines = new List<string>();
        void Log(string s) { output.WriteLine(s); lines.Add(s); File.AppendAllText(Path.Combine(Path.GetTempPath(), "ensemble-world-growth.log"), s + "\n"); }
        Log($"{name}: spin-up {cfg.SpinupDays} d, climate {climate} d, {starts} starts 15 d apart, 30-d twins, 1 torch thread");
        var r = ErrorGrowthExperiment.Run(cfg, climate, starts, 15, 30, log: Log);
        var inv = CultureInfo.InvariantCulture;
        foreach (var d in new[] { 1.0, 2, 3, 5, 7, 10, 14, 21, 30 })
            Log(string.Format(inv, "day {0,4:F0}: own stirring z {1:F3} vo {2:F3} | same stirring z {3:F3} vo {4:F3}", d,
                r.At(r.IndependentZ, d), r.At(r.IndependentVo, d), r.At(r.SameZ, d), r.At(r.SameVo, d)));
        Log(string.Format(inv, "z reaches 0.5 at {0:F2} d, 0.9 at {1:F2} d; vo 0.5 at {2:F2} d, 0.9 at {3:F2} d", r.FirstReach(r.IndependentZ, 0.5),
            r.FirstReach(r.IndependentZ, 0.9), r.FirstReach(r.IndependentVo, 0.5), r.FirstReach(r.IndependentVo, 0.9)));
        Log(string.Format(inv, "energy drift between consecutive 60-d windows {0:P2}; max wind {1:F1} m/s; identical twins {2:E2}", r.MaxWindowDrift, r.MaxWind, r.IdenticalMaxDifference));
        Log(string.Format(inv, "climate run {0:F2} simulated days/s; twins {1:F2} ms per 4-member step", r.SimulatedDaysPerSecond, r.MillisecondsPerStep));
        string dir = Path.Combine(Shared.RepoRoot, "docs", "world");
        ErrorGrowthExperiment.WritePlot(r, Path.Combine(dir, $"error-growth{tag}.png"), $"Twin error growth, {Path.GetFileName(name)} ({cfg.Nlat}×{cfg.Nlon}), {r.Starts} starts");
        File.WriteAllLines(Path.Combine(dir, $"error-growth{tag}.txt"), lines);
        Assert.True(r.At(r.IndependentZ, 2) < 0.9);
        Assert.True(r.FirstReach(r.IndependentZ, 0.9) <= 21);
    }
}
