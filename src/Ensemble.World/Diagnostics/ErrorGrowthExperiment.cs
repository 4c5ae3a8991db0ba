using System.Diagnostics;
using System.Globalization;
using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Twin error growth averaged over start dates, normalised by the saturation level √2·σ (σ² = area mean of the
/// per-grid-point climate variance, so two independent states of the climate are 1 apart on average):
/// <see cref="IndependentZ"/>/<see cref="IndependentVo"/>: twin from the same state with its own future stirring;
/// <see cref="SameZ"/>/<see cref="SameVo"/>: twin with the truth's stirring and a vorticity perturbation of
/// <c>SamePerturbation</c> × rms(ζ); <see cref="IdenticalMaxDifference"/>: max normalised difference of a twin with the same
/// state and the same stirring (batch determinism, ~0).
/// </summary>
public sealed record ErrorGrowthResult(
    double[] LeadDays, double[] IndependentZ, double[] IndependentVo, double[] SameZ, double[] SameVo, double IdenticalMaxDifference,
    double ClimateStdZ, double ClimateStdVo, double[] WindowEnergy, double MaxWindowDrift, double MaxWind, int Starts,
    double SamePerturbation, double MillisecondsPerStep, double SimulatedDaysPerSecond)
{
    /// <summary>Value of a curve at the lead closest to <paramref name="days"/>.</summary>
    public double At(double[] curve, double days)
    {
        int best = 0;
        for (int i = 1; i < LeadDays.Length; i++) if (Math.Abs(LeadDays[i] - days) < Math.Abs(LeadDays[best] - days)) best = i;
        return curve[best];
    }

    /// <summary>First lead (days) at which a curve reaches <paramref name="level"/>; NaN if never.</summary>
    public double FirstReach(double[] curve, double level)
    {
        for (int i = 0; i < curve.Length; i++) if (curve[i] >= level) return LeadDays[i];
        return double.NaN;
    }
}

/// <summary>
/// The predictability experiment of docs/world.md: spin-up, a climate run (per-grid-point variance of z and vo,
/// domain-mean energy in consecutive windows, restarts saved at start dates), then from each start date a batch of
/// four members: the truth (truth's stirring), a twin with its own future stirring, a twin identical to the truth
/// (same state, same stirring) and a twin with the truth's stirring and a small initial perturbation.
/// </summary>
public static class ErrorGrowthExperiment
{
    /// <param name="climateDays">Length of the climate run after spin-up (variance, energy windows, start dates).</param>
    /// <param name="starts">Number of start dates, <paramref name="startSpacingDays"/> apart from the climate run's start.</param>
    /// <param name="leadDays">Twin run length.</param>
    /// <param name="windowDays">Energy window length; drift = max |E_{w+1} − E_w| / E_w over consecutive windows.</param>
    /// <param name="samePerturbation">Relative ζ perturbation of the same-stirring twin.</param>
    public static ErrorGrowthResult Run(WorldConfig config, double climateDays, int starts, double startSpacingDays, double leadDays,
        double windowDays = 60, double samePerturbation = 1e-3, long twinSeed = 4242, Action<string>? log = null, CancellationToken cancel = default)
    {
        if (starts < 1) throw new EnsembleException($"error growth: starts must be ≥ 1, got {starts}");
        var cfg = config.Validate();
        var (model, state) = TwinExperiment.SpinUp(cfg);
        using var _ = model;
        var solver = model.Solver;
        log?.Invoke($"spun up {cfg.SpinupDays} d");

        // climate run
        var sw = Stopwatch.StartNew();
        int n = (int)Math.Round(climateDays * 24 / cfg.OutputHours);
        int perWindow = Math.Max(1, (int)Math.Round(windowDays * 24 / cfg.OutputHours));
        int spacing = Math.Max(1, (int)Math.Round(startSpacingDays * 24 / cfg.OutputHours));
        Tensor? sum = null, sumSq = null;
        var windows = new List<double>();
        double windowSum = 0, maxWind = 0;
        int inWindow = 0;
        var restarts = TwinExperiment.ClimateRun(model, state, n, i => i % spacing == 0 && i / spacing < starts, (i, st) =>
        {
            using var scope = torch.NewDisposeScope();
            var g = WorldChannels.ToGrid(solver, st);
            var zv = torch.stack([g[0], g[3]]);
            if (sum is null) { sum = zv.clone().MoveToOuterDisposeScope(); sumSq = zv.pow(2).MoveToOuterDisposeScope(); }
            else { sum.add_(zv); sumSq!.add_(zv.pow(2)); }
            double e = WorldDiagnostics.Energy(solver, st).item<double>();
            if (!double.IsFinite(e)) throw new EnsembleException($"world blew up at climate day {(i + 1) * cfg.OutputHours / 24.0:F2}");
            maxWind = Math.Max(maxWind, torch.sqrt(g[1].pow(2) + g[2].pow(2)).max().item<double>());
            windowSum += e;
            if (++inWindow == perWindow) { windows.Add(windowSum / perWindow); windowSum = 0; inWindow = 0; }
        }, cancel);
        double climateSeconds = sw.Elapsed.TotalSeconds;
        if (restarts.Count < starts) throw new EnsembleException($"error growth: {climateDays} d of climate hold only {restarts.Count} start dates {startSpacingDays} d apart");
        double sz, sv;
        using (var scope = torch.NewDisposeScope())
        {
            var mean = sum! / n;
            var variance = (sumSq! / n - mean.pow(2)).clamp_min(0);
            var v = solver.GlobalMean(variance);
            sz = Math.Sqrt(v[0].item<double>());
            sv = Math.Sqrt(v[1].item<double>());
        }
        sum!.Dispose(); sumSq!.Dispose();
        double drift = 0;
        for (int w = 1; w < windows.Count; w++) drift = Math.Max(drift, Math.Abs(windows[w] - windows[w - 1]) / windows[w - 1]);
        log?.Invoke(string.Format(CultureInfo.InvariantCulture, "climate {0} d: σ_z {1:F2} m, σ_vo {2:E3} 1/s, max wind {3:F1} m/s, energy windows [{4}], drift {5:P2}",
            climateDays, sz, sv, maxWind, string.Join(", ", windows.Select(x => x.ToString("E4", CultureInfo.InvariantCulture))), drift));

        // twins
        int leads = (int)Math.Round(leadDays * 24 / cfg.OutputHours);
        var se = new double[4, leads + 1];
        double identical = 0;
        var twinWatch = Stopwatch.StartNew();
        long twinSteps = 0;
        for (int s = 0; s < restarts.Count; s++)
        {
            var (step, _, st, stir) = restarts[s];
            model.Restart(step, stir);
            var members = new MemberPerturbation[]
            {
                new(0, 0),                                                    // truth
                new(0, 0, Seeds.Derive(twinSeed, s, 1)),                      // own future stirring
                new(0, 0),                                                    // identical twin
                new(samePerturbation, Seeds.Derive(twinSeed, s, 3)),          // truth's stirring, perturbed
            };
            var batch = PhysicsEnsemble.Perturb(solver, st, members);
            PhysicsEnsemble.Branch(model, members);
            for (int i = 0; i <= leads; i++)
            {
                cancel.ThrowIfCancellationRequested();
                if (i > 0)
                {
                    model.Restart(model.StepIndex);
                    var next = model.Advance(batch, cfg.StepsPerOutput);
                    batch.Dispose();
                    batch = next;
                    twinSteps += cfg.StepsPerOutput;
                }
                using var scope = torch.NewDisposeScope();
                var g = WorldChannels.ToGrid(solver, batch);
                se[0, i] += WorldDiagnostics.RmsDifference(solver, g[1, 0], g[0, 0]).pow(2).item<double>();
                se[1, i] += WorldDiagnostics.RmsDifference(solver, g[1, 3], g[0, 3]).pow(2).item<double>();
                se[2, i] += WorldDiagnostics.RmsDifference(solver, g[3, 0], g[0, 0]).pow(2).item<double>();
                se[3, i] += WorldDiagnostics.RmsDifference(solver, g[3, 3], g[0, 3]).pow(2).item<double>();
                identical = Math.Max(identical, WorldDiagnostics.RmsDifference(solver, g[2, 0], g[0, 0]).item<double>() / (Math.Sqrt(2) * sz));
                identical = Math.Max(identical, WorldDiagnostics.RmsDifference(solver, g[2, 3], g[0, 3]).item<double>() / (Math.Sqrt(2) * sv));
            }
            batch.Dispose();
            st.Dispose();
            stir?.Dispose();
            log?.Invoke(string.Format(CultureInfo.InvariantCulture, "start {0}: independent-stirring z error at day {1:F0}: {2:F3}",
                s, leadDays, Math.Sqrt(se[0, leads] / (s + 1)) / (Math.Sqrt(2) * sz)));
        }
        double msPerMemberStep = twinWatch.Elapsed.TotalMilliseconds / Math.Max(1, twinSteps);
        double Norm(int k, int i, double sigma) => Math.Sqrt(se[k, i] / restarts.Count) / (Math.Sqrt(2) * sigma);
        var lead = Enumerable.Range(0, leads + 1).Select(i => i * cfg.OutputHours / 24.0).ToArray();
        return new ErrorGrowthResult(lead,
            Enumerable.Range(0, leads + 1).Select(i => Norm(0, i, sz)).ToArray(),
            Enumerable.Range(0, leads + 1).Select(i => Norm(1, i, sv)).ToArray(),
            Enumerable.Range(0, leads + 1).Select(i => Norm(2, i, sz)).ToArray(),
            Enumerable.Range(0, leads + 1).Select(i => Norm(3, i, sv)).ToArray(),
            identical, sz, sv, [.. windows], drift, maxWind, restarts.Count, samePerturbation,
            msPerMemberStep, climateDays / climateSeconds);
    }

    /// <summary>The error-growth plot (normalised RMSE of z and vo vs lead, both twin kinds).</summary>
    public static void WritePlot(ErrorGrowthResult r, string path, string title)
    {
        var p = new ScottPlot.Plot();
        void Line(double[] y, string label, ScottPlot.LinePattern pattern)
        {
            var s = p.Add.Scatter(r.LeadDays, y);
            s.LegendText = label; s.MarkerSize = 0; s.LinePattern = pattern; s.LineWidth = 2;
        }
        Line(r.IndependentZ, "z, own future stirring", ScottPlot.LinePattern.Solid);
        Line(r.IndependentVo, "vo, own future stirring", ScottPlot.LinePattern.Solid);
        Line(r.SameZ, $"z, same stirring, {r.SamePerturbation:G2} initial perturbation", ScottPlot.LinePattern.Dashed);
        Line(r.SameVo, $"vo, same stirring, {r.SamePerturbation:G2} initial perturbation", ScottPlot.LinePattern.Dashed);
        p.Add.HorizontalLine(1.0).LinePattern = ScottPlot.LinePattern.Dotted;
        p.Add.HorizontalLine(0.9).LinePattern = ScottPlot.LinePattern.Dotted;
        p.ShowLegend(ScottPlot.Alignment.LowerRight);
        p.Title(title);
        p.XLabel("lead (days)");
        p.YLabel("RMSE / (√2 · climate std)");
        p.Axes.SetLimitsY(0, 1.2);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string tmp = path + ".tmp.png";
        p.SavePng(tmp, 900, 500);
        File.Move(tmp, path, overwrite: true);
    }
}
