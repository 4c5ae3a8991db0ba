using System.Diagnostics;
using Ensemble.Core.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Spherical;

/// <summary>`-- sfno --gemm` : one thread, the SFNO's 1×1-conv gemm shapes through libtorch and through BLAS directly.</summary>
public static unsafe class GemmShapes
{
    public static int Run()
    {
        torch.set_num_threads(1);
        const long P = 65160;
        {
            // GELU over a 1 MB tile (in cache, as in the pointwise tiles): libtorch's gelu_ (oneDNN) against the native pass.
            using var a = torch.randn([64, 4096]);
            using var o = torch.empty_like(a);
            float* ap = (float*)Mkl.Data(a), op = (float*)Mkl.Data(o);
            double elems = 64.0 * 4096;
            Report("GELU 1 MB tile, libtorch gelu_ (ns/elt as GFLOP/s column × 0)", 0, () => { using var c = a.clone(); c.gelu_(); });
            Report("GELU 1 MB tile, libtorch clone only", 0, () => { using var c = a.clone(); });
            Report("GELU 1 MB tile, native NormAct", 0, () => Ensemble.Models.Sfno.PointwiseKernels.NormAct(ap, 4096, op, 4096, 64, 4096, null, null, null, "gelu"));
            Console.WriteLine($"  (elements per call: {elems})");
        }
        foreach (var (mo, k) in new[] { (128L, 64L), (64L, 128L), (64L, 64L) })
        {
            using var w = torch.randn([mo, k]);
            using var x = torch.randn([k, P]);
            using var y = torch.empty([mo, P]);
            double flop = 2.0 * mo * k * P;
            float* wp = (float*)Mkl.Data(w), xp = (float*)Mkl.Data(x), yp = (float*)Mkl.Data(y);
            Console.WriteLine($"[{mo}×{k}]·[{k}×{P}]:");
            Report("  torch.mm whole", flop, () => torch.mm(w, x).Dispose());
            foreach (long tile in new[] { 512L, 1024, 2048, 4096, 8192 })
            {
                Report($"  torch addmm_ tiles {tile}", flop, () =>
                {
                    for (long s = 0; s < P; s += tile)
                    {
                        long n = Math.Min(tile, P - s);
                        using var yt = y.narrow(1, s, n);
                        using var xt = x.narrow(1, s, n);
                        yt.addmm_(w, xt, 0, 1);
                    }
                });
                Report($"  BLAS sgemm tiles {tile}", flop, () =>
                {
                    for (long s = 0; s < P; s += tile)
                    {
                        int n = (int)Math.Min(tile, P - s);
                        // Row-major y[:, s:s+n] = w · x[:, s:s+n]: column-major yᵀ (n × mo) = xᵀ (n × k) · wᵀ (k × mo).
                        Mkl.Gemm(xp + s, (int)P, wp, (int)k, yp + s, (int)P, n, (int)mo, (int)k, 1f, 0f);
                    }
                });
            }
        }
        return 0;
    }

    static void Report(string name, double flop, Action body)
    {
        double ms = MedianMs(body, 9);
        Console.WriteLine($"{name,-34} {ms,8:F2} ms  {flop / ms / 1e6,6:F1} GFLOP/s");
    }

    /// <summary>Median wall time of <paramref name="reps"/> calls after one untimed call.</summary>
    internal static double MedianMs(Action body, int reps)
    {
        body();
        var t = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            body();
            t.Add(sw.Elapsed.TotalMilliseconds);
        }
        t.Sort();
        return t[t.Count / 2];
    }
}
