using System.Diagnostics;
using Ensemble.Scoring.Probabilistic;
using Ensemble.Scoring.Streaming;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Scoring;

/// <summary>
/// Timed driver (`-- crps [members] [repeats]`): fair CRPS of 1,000 float32 members on 181×360 for one lead
/// (all members at once), and the streaming accumulator: update cost per member-step (batches of 10, bounded
/// mode and exact mode with kept members) and the exact-CRPS finalisation from the kept members.
/// Wall-clock and process CPU time are both printed, because the machine may be shared.
/// </summary>
public static class ScoringDriver
{
    public static int Run(string[] args)
    {
        int members = args.Length > 0 ? int.Parse(args[0]) : 1000;
        int repeats = args.Length > 1 ? int.Parse(args[1]) : 2;
        Console.WriteLine($"torch threads {get_num_threads()}, members {members}, grid 181x360, repeats {repeats}");
        var gen = new Generator(1);
        using var truth = (randn(181, 360, generator: gen, dtype: ScalarType.Float64) * 10 + 280).to(ScalarType.Float32);
        using var ens = (truth.unsqueeze(0).to(ScalarType.Float64) + randn(members, 181, 360, generator: gen, dtype: ScalarType.Float64) * 2).to(ScalarType.Float32);
        for (int r = 0; r < repeats; r++)
            Time($"fair CRPS, {members} members, one lead (all members)", () => { using var c = Crps.Ensemble(ens, truth); using var m = c.mean(); return m.item<double>(); });

        using var truth4 = truth.reshape(1, 1, 181, 360);
        foreach (bool keep in new[] { false, true })
        {
            using var acc = new StreamingScores(truth4, keepMembers: keep);
            int batch = 10, steps = Math.Min(members, 200) / batch;
            var (wall, cpu) = Measure(() =>
            {
                for (int s = 0; s < steps; s++)
                {
                    using var b = ens.narrow(0, s * batch, batch).unsqueeze(1);
                    acc.Update(0, b);
                }
                return 0;
            });
            int n = steps * batch;
            Console.WriteLine($"streaming update ({(keep ? "exact, members kept" : "bounded")}), batches of {batch}: {wall / n:F1} ms wall, {cpu / n:F1} ms CPU per member-step ({n} members)");
        }
        {
            using var acc = new StreamingScores(truth4, keepMembers: true);
            for (int s = 0; s < members / 10; s++) { using var b = ens.narrow(0, s * 10, 10).unsqueeze(1); acc.Update(0, b); }
            Time($"streaming exact fair CRPS finalisation, {members} kept members", () => { using var c = acc.Crps(CrpsEstimator.Fair); using var m = c.mean(); return m.item<double>(); });
        }
        return 0;
    }

    static (double Wall, double Cpu) Measure(Func<double> f)
    {
        var p = Process.GetCurrentProcess();
        var cpu0 = p.TotalProcessorTime;
        var sw = Stopwatch.StartNew();
        f();
        sw.Stop();
        p.Refresh();
        return (sw.Elapsed.TotalMilliseconds, (p.TotalProcessorTime - cpu0).TotalMilliseconds);
    }

    static void Time(string what, Func<double> f)
    {
        double v = 0;
        var (wall, cpu) = Measure(() => v = f());
        Console.WriteLine($"{what}: {wall / 1000:F2} s wall, {cpu / 1000:F2} s CPU (mean {v:F4})");
    }
}
