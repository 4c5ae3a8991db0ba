using System.Diagnostics;
using System.Globalization;
using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>Results of <see cref="ClimateReport.Run"/>: energy series, stationarity and twin-error growth.</summary>
public sealed record ClimateReportResult(
    double[] EnergyDays, double[] Energy, double FirstHalfMean, double SecondHalfMean, double Drift,
    TwinErrorCurve Twin, double ClimZ, double ClimVo, double DaysTo50, double DaysTo90, double SimulatedDaysPerSecond);

/// <summary>
/// The acceptance run of a world configuration (docs/world.md): spin-up, a long run with 6-hourly domain-mean
/// energy (drift = |mean of second half − mean of first half| / mean of first half), a 1e−6 twin experiment and a
/// climatological distance; plots written with ScottPlot. Long (a year at 64×128 is tens of minutes on 2 cores):
/// run it from a script or a gated test, not in CI.
/// </summary>
public static class ClimateReport
{
    /// <summary>
    /// Spin-up, then the twin experiment from the spun-up state (so its curve is available early), then
    /// <paramref name="days"/> days of the control with 6-hourly energy and daily z/vo samples, from which the
    /// climatological distance is the RMS difference between samples 20 days apart.
    /// </summary>
    public static ClimateReportResult Run(WorldConfig config, double days, double twinDays, string? plotDirectory, Action<string>? log = null)
    {
        var (model, state) = TwinExperiment.SpinUp(config);
        using var _ = model;
        log?.Invoke($"spun up {config.SpinupDays} days");
        long startStep = model.StepIndex;
        var twin = TwinExperiment.Run(model, state, 1e-6, seed: 12345, twinDays);
        for (int d = 0; d < twin.LeadDays.Length; d += (int)(24 / config.OutputHours))
            log?.Invoke(string.Format(CultureInfo.InvariantCulture, "twin lead {0:F1} d: z {1:E3} m, vo {2:E3} 1/s", twin.LeadDays[d], twin.ZRms[d], twin.VoRms[d]));
        model.Restart(startStep);

        var sw = Stopwatch.StartNew();
        int n = (int)Math.Round(days * 24 / config.OutputHours);
        int perDay = (int)Math.Round(24 / config.OutputHours);
        var eDays = new double[n];
        var e = new double[n];
        var daily = new List<(Tensor Z, Tensor Vo)>();
        for (int i = 0; i < n; i++)
        {
            var next = model.Advance(state, config.StepsPerOutput);
            state.Dispose();
            state = next;
            eDays[i] = (i + 1) * config.OutputHours / 24.0;
            using var en = WorldDiagnostics.Energy(model.Solver, state);
            e[i] = en.item<double>();
            if (!double.IsFinite(e[i])) throw new EnsembleException($"world run blew up at day {eDays[i]:F2}");
            if ((i + 1) % perDay == 0)
            {
                using var g = WorldChannels.ToGrid(model.Solver, state);
                daily.Add((g[0].clone(), g[3].clone()));
            }
            if ((i + 1) % (10 * perDay) == 0) log?.Invoke($"day {eDays[i]:F1} energy {e[i]:E4} ({sw.Elapsed.TotalSeconds:F0} s)");
        }
        state.Dispose();
        double speed = days / sw.Elapsed.TotalSeconds;
        double m1 = e.Take(n / 2).Average(), m2 = e.Skip(n / 2).Average();
        double drift = Math.Abs(m2 - m1) / m1;

        const int lag = 20;
        double zs = 0, vs = 0;
        int pairs = 0;
        for (int i = 0; i + lag < daily.Count; i++, pairs++)
        {
            zs += WorldDiagnostics.RmsDifference(model.Solver, daily[i].Z, daily[i + lag].Z).pow(2).item<double>();
            vs += WorldDiagnostics.RmsDifference(model.Solver, daily[i].Vo, daily[i + lag].Vo).pow(2).item<double>();
        }
        foreach (var (z, v) in daily) { z.Dispose(); v.Dispose(); }
        if (pairs == 0) throw new EnsembleException($"climate report: {days} days is too short for {lag}-day pairs");
        double cz = Math.Sqrt(zs / pairs), cv = Math.Sqrt(vs / pairs);
        double t50 = TwinExperiment.TimeToReach(twin, twin.ZRms, cz, 0.5);
        double t90 = TwinExperiment.TimeToReach(twin, twin.ZRms, cz, 0.9);
        var result = new ClimateReportResult(eDays, e, m1, m2, drift, twin, cz, cv, t50, t90, speed);
        if (plotDirectory != null) WritePlots(result, plotDirectory);
        return result;
    }

    /// <summary>energy.png (energy time series) and twin-error.png (normalised twin error, log scale) in <paramref name="directory"/>.</summary>
    public static void WritePlots(ClimateReportResult r, string directory)
    {
        Directory.CreateDirectory(directory);
        var p = new ScottPlot.Plot();
        p.Add.Scatter(r.EnergyDays, r.Energy.Select(x => x / 1e6).ToArray()).MarkerSize = 0;
        p.Title($"Domain-mean energy (drift between halves {100 * r.Drift:F2} %)");
        p.XLabel("days after spin-up");
        p.YLabel("⟨½h|u|² + ½g(h−H)²⟩ (10⁶ m³ s⁻²)");
        Save(p, Path.Combine(directory, "energy.png"));

        var q = new ScottPlot.Plot();
        var z = q.Add.Scatter(r.Twin.LeadDays, r.Twin.ZRms.Select(x => Math.Log10(Math.Max(x / r.ClimZ, 1e-12))).ToArray());
        z.LegendText = "z"; z.MarkerSize = 0;
        var v = q.Add.Scatter(r.Twin.LeadDays, r.Twin.VoRms.Select(x => Math.Log10(Math.Max(x / r.ClimVo, 1e-12))).ToArray());
        v.LegendText = "vo"; v.MarkerSize = 0;
        q.Add.HorizontalLine(Math.Log10(0.9));
        q.ShowLegend();
        q.Title($"Twin error / climatological distance (1e-6 start; 90 % of z at {r.DaysTo90.ToString("F1", CultureInfo.InvariantCulture)} d)");
        q.XLabel("lead (days)");
        q.YLabel("log10(RMS difference / climatological distance)");
        Save(q, Path.Combine(directory, "twin-error.png"));
    }

    static void Save(ScottPlot.Plot p, string path)
    {
        string tmp = path + ".tmp.png";
        p.SavePng(tmp, 900, 500);
        File.Move(tmp, path, overwrite: true);
    }
}
