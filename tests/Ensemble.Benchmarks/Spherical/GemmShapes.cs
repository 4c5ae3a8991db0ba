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

    /// <summary>`-- sfno --gemm-small` : one thread, the pointwise tiles' products (cases a and b) through MKL and through
    /// <see cref="Ensemble.Core.Native.SmallGemm"/>, with and without the fused epilogues.</summary>
    public static int RunSmall()
    {
        using (var a = torch.randn([2048, 2048]))
            foreach (int threads in new[] { 1, 2, 1, 2 })
            {
                torch.set_num_threads(threads);
                Report($"mm 2048² on {threads} thread(s)", 2.0 * 2048 * 2048 * 2048, () => torch.mm(a, a).Dispose());
            }
        torch.set_num_threads(1);
        foreach (var (o, k, n) in new[] { (64, 32, 2048), (32, 64, 2048), (32, 32, 2048), (32, 6, 2048), (6, 32, 2048), (32, 32, 4050),
                     (128, 64, 1024), (64, 128, 1024), (64, 64, 1024), (64, 9, 1024), (9, 64, 1024) })
        {
            using var w = torch.randn([o, k]);
            using var x = torch.randn([k, n]);
            using var y = torch.empty([o, n]);
            using var bias = torch.randn([o]);
            float* wp = (float*)Mkl.Data(w), xp = (float*)Mkl.Data(x), yp = (float*)Mkl.Data(y), bp = (float*)Mkl.Data(bias);
            double flop = 2.0 * o * k * n;
            Console.WriteLine($"[{o}×{k}]·[{k}×{n}]:");
            Report("  MKL sgemm", flop, () => Mkl.Gemm(xp, n, wp, k, yp, n, n, o, k, 1f, 0f));
            Report("  SmallGemm", flop, () => Ensemble.Core.Native.SmallGemm.Run(wp, k, xp, n, null, 0, null, 0, o, n, yp, n, default));
            Report("  MKL sgemm + BiasAct gelu", flop, () =>
            {
                Mkl.Gemm(xp, n, wp, k, yp, n, n, o, k, 1f, 0f);
                Ensemble.Models.Sfno.PointwiseKernels.BiasAct(yp, o, n, bp, "gelu");
            });
            var epi = new Ensemble.Core.Native.GemmEpilogue { Bias = bp, Activation = "gelu" };
            Report("  SmallGemm bias+gelu", flop, () => Ensemble.Core.Native.SmallGemm.Run(wp, k, xp, n, null, 0, null, 0, o, n, yp, n, epi));
            var acc = new Ensemble.Core.Native.GemmEpilogue { Accumulate = true };
            Report("  MKL sgemm ×2 (second beta 1)", 2 * flop, () =>
            {
                Mkl.Gemm(xp, n, wp, k, yp, n, n, o, k, 1f, 0f);
                Mkl.Gemm(xp, n, wp, k, yp, n, n, o, k, 1f, 1f);
            });
            Report("  SmallGemm two products", 2 * flop, () => Ensemble.Core.Native.SmallGemm.Run(wp, k, xp, n, wp, k, xp, n, o, n, yp, n, default));
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
