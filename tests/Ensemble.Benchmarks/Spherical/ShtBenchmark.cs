using System.Diagnostics;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Spherical;

/// <summary>
/// Timed driver for the scalar SHT (`dotnet run -c Release --project tests/Ensemble.Benchmarks -- sht [--quick]`):
/// float32 on 2 threads; per case the forward and inverse transform (ms, median), the Legendre stage alone
/// (executed FLOPs, GFLOP/s, fraction of the float32 matmul rate measured in the same run) and, for batch 1,
/// the table read bandwidth against a measured copy bandwidth. Prints a Markdown table.
/// </summary>
public static class ShtBenchmark
{
    sealed record Case(string Name, GridType Grid, int NLat, int NLon, int LMax, int MMax, int Batch);

    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        torch.set_num_threads(2);
        Console.WriteLine($"# SHT benchmark: torch {torch.__version__}, threads {torch.get_num_threads()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        double mmRate = MatmulGflops();
        double copyBw = CopyBandwidthGBs();
        Console.WriteLine($"float32 matmul 1024³ (2 threads): {mmRate:F1} GFLOP/s; memory copy (read) bandwidth: {copyBw:F1} GB/s");
        Console.WriteLine();

        var cases = quick
            ? new[] { new Case("128×256 LG ×8", GridType.LegendreGauss, 128, 256, 128, 128, 8) }
            : new[]
            {
                new Case("721×1440 equiangular ×1", GridType.Equiangular, 721, 1440, 721, 721, 1),
                new Case("181×360 equiangular ×32", GridType.Equiangular, 181, 360, 181, 181, 32),
                new Case("128×256 Legendre–Gauss ×64", GridType.LegendreGauss, 128, 256, 128, 128, 64),
            };
        Console.WriteLine("| case | lmax=mmax | table MB | build s | forward ms | inverse ms | Legendre fwd ms | Legendre inv ms | Legendre GFLOP (executed / triangle) | Legendre GFLOP/s fwd / inv | % of matmul rate fwd / inv | table GB/s fwd / inv |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var c in cases) RunCase(c, mmRate);
        return 0;
    }

    static void RunCase(Case c, double mmRate)
    {
        var sw = Stopwatch.StartNew();
        using var sht = new RealSHT(c.NLat, c.NLon, c.LMax, c.MMax, c.Grid);
        using var isht = new InverseRealSHT(c.NLat, c.NLon, c.LMax, c.MMax, c.Grid);
        double build = sw.Elapsed.TotalSeconds;
        using var f = torch.randn(c.Batch, c.NLat, c.NLon);
        using var coeffs = sht.forward(f);

        double fwd = Median(() => { using var _ = sht.forward(f); });
        double inv = Median(() => { using var _ = isht.forward(coeffs); });

        // The Legendre stage alone, on inputs laid out as the transforms lay them out.
        long n = 2L * c.Batch;
        using var xa = torch.randn(c.MMax, c.NLat, n);
        using var xs = torch.randn(c.MMax, c.LMax, n);
        double lf = Median(() => { using var _ = sht.Plan.Analyse(sht.Table, xa); });
        double li = Median(() => { using var _ = isht.Plan.Synthesise(isht.Table, xs); });

        double executed = 0, triangle = 0;
        foreach (var b in sht.Plan.Blocks) executed += 2.0 * b.Count * b.L * c.NLat * n;
        for (int m = 0; m < Math.Min(c.MMax, c.LMax); m++) triangle += 2.0 * (c.LMax - m) * c.NLat * n;
        double tableBytes = sht.Table.NumberOfElements * 4.0;
        double gf = executed / (lf * 1e6), gi = executed / (li * 1e6);
        Console.WriteLine($"| {c.Name} | {c.LMax} | {tableBytes / 1e6:F0} | {build:F1} | {fwd:F1} | {inv:F1} | {lf:F1} | {li:F1} | {executed / 1e9:F2} / {triangle / 1e9:F2} | {gf:F1} / {gi:F1} | {100 * gf / mmRate:F0} / {100 * gi / mmRate:F0} | {tableBytes / (lf * 1e6):F1} / {tableBytes / (li * 1e6):F1} |");
    }

    /// <summary>Median wall time in ms of at least 5 runs (and ≥ 1 s in total) after 2 warm-ups.</summary>
    static double Median(Action run)
    {
        for (int i = 0; i < 2; i++) run();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < 1.0 && times.Count < 50))
        {
            var sw = Stopwatch.StartNew();
            run();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return times[times.Count / 2];
    }

    static double MatmulGflops()
    {
        using var a = torch.randn(1024, 1024);
        using var b = torch.randn(1024, 1024);
        double ms = Median(() => { using var _ = torch.mm(a, b); });
        return 2.0 * 1024 * 1024 * 1024 / (ms * 1e6);
    }

    static double CopyBandwidthGBs()
    {
        using var src = torch.randn(64L * 1024 * 1024);           // 256 MB
        using var dst = torch.empty_like(src);
        double ms = Median(() => dst.copy_(src));
        return src.NumberOfElements * 4.0 / (ms * 1e6);
    }
}
