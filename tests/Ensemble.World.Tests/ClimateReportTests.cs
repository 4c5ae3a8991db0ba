using System.Globalization;
using Xunit;
using Xunit.Abstractions;

namespace Ensemble.World.Tests;

/// <summary>
/// The climate report's bookkeeping on the smoke campaign's 16×32 world (the year-long acceptance run is the gated
/// <see cref="ChaosAndClimateTests"/>): energy every output, twin start dates inside the run, one curve per start.
/// </summary>
public sealed class ClimateReportTests(ITestOutputHelper output)
{
    [Fact]
    public void Short_run_on_the_tiny_world_has_its_outputs_starts_and_twins()
    {
        var c = ErrorGrowthTests.Tiny();
        var r = ClimateReport.Run(c, days: 42, twinDays: 4, plotDirectory: null, log: output.WriteLine, twinStarts: 3);
        int outputs = (int)Math.Round(42 * 24 / c.OutputHours);
        Assert.Equal(outputs, r.Energy.Length);
        Assert.Equal(42.0, r.EnergyDays[^1], 9);
        Assert.All(r.Energy, e => Assert.True(double.IsFinite(e) && e > 0));
        // Starts evenly spaced over the first 42 − 4 days, at output times.
        Assert.Equal(new[] { 0.0, 12.75, 25.25 }, r.TwinStartDays.Select(d => Math.Round(d, 2)).ToArray());
        Assert.Equal(3, r.Twins.Count);
        Assert.All(r.Twins, t => Assert.Equal(r.Twins[0].LeadDays.Length, t.LeadDays.Length));
        Assert.True(r.ClimZ > 0 && r.ClimVo > 0);
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "drift {0:E6} climZ {1:R} z error at 4 d {2:R} {3:R} {4:R}",
            r.Drift, r.ClimZ, r.Twins[0].ZRms[^1], r.Twins[1].ZRms[^1], r.Twins[2].ZRms[^1]));
        // (The tiny world is damped, not chaotic: its twin errors need not grow; the default world's do, ChaosAndClimateTests.)
        Assert.All(r.Twins, t => Assert.True(t.ZRms[0] == 0 && t.ZRms.Skip(1).All(z => z > 0 && double.IsFinite(z))));
    }
}
