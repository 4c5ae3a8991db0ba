using System.Diagnostics;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Models;

/// <summary>
/// A/B of one member's forward (`-- sfno --batch1 a|b [REPS] [MODES]`): the one-thread forward and the forward shared
/// among 2 workers, and variants (the libtorch SHT, MKL tiles, MKL Legendre products, the layer path instead of the
/// raw-memory forward, MKL's DFTs instead of the vertical ones), interleaved in one process so that all see the same machine; wall and process CPU per forward
/// (min and median), TorchSharp tensors the caller created per forward, the hand-offs to the workers per shared forward
/// and the time the caller spent inside shared sets of pieces (the rest is serial).
/// </summary>
public static class SfnoBatchOne
{
    public static int Run(SfnoConfig c, int reps, int[]? only = null)
    {
        using var inference = torch.inference_mode();
        using var net = new SphericalFourierNeuralOperatorNet(c, ScalarType.Float32, seed: 1);
        net.eval();
        using var x = torch.randn([1, c.ModelInputChannels, c.ImgShapeX, c.ImgShapeY], generator: new Generator(2));
        // The native SHT (Ensemble.Spherical.Native) against the libtorch one, both on one thread: Suppress is per thread.
        var modes = new (string Name, int Threads, bool LibTorchSht)[]
        {
            ("one thread", 1, false), ("shared, 2 workers", 2, false), ("one thread, libtorch SHT", 1, true), ("one thread, MKL tiles", 1, false), ("shared, MKL tiles", 2, false), ("one thread, MKL Legendre", 1, false),
            ("one thread, layer path", 1, false), ("shared, layer path", 2, false), ("one thread, MKL DFT", 1, false), ("shared, MKL DFT", 2, false),
        };
        // `--batch1 a|b REPS 0,1`: only the listed modes (e.g. one mode alone under perf).
        if (only is not null) modes = only.Select(i => modes[i]).ToArray();
        var wall = modes.Select(_ => new List<double>()).ToArray();
        var cpu = modes.Select(_ => new List<double>()).ToArray();
        var handoffs = new long[modes.Length];
        var shared = modes.Select(_ => new List<double>()).ToArray();
        var tensors = new long[modes.Length];                                          // TorchSharp tensors the caller created per forward
        using var self = Process.GetCurrentProcess();
        for (int r = -1; r < reps; r++)
            for (int k = 0; k < modes.Length; k++)
            {
                torch.set_num_threads(modes[k].Threads);
                long h0 = SfnoWorkers.Handoffs, s0 = SfnoWorkers.SharedTicks;
                self.Refresh();
                var c0 = self.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                PointwiseFusion.Strips = !modes[k].Name.Contains("MKL tiles");
                Ensemble.Spherical.Native.NativeSht.MklLegendre = modes[k].Name.Contains("MKL Legendre");
                NativeForward.Enabled = !modes[k].Name.Contains("layer path") && !modes[k].LibTorchSht;
                Ensemble.Spherical.Native.NativeSht.MklDft = modes[k].Name.Contains("MKL DFT");
                var stats = DisposeScopeManager.Statistics;
                long created0 = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
                using (modes[k].LibTorchSht ? Ensemble.Core.Native.NativeKernels.Suppress() : null)
                using (net.forward(x)) { }
                tensors[k] = stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount - created0;
                double ms = sw.Elapsed.TotalMilliseconds;
                self.Refresh();
                if (r < 0) continue;                                                   // warm-up
                wall[k].Add(ms);
                cpu[k].Add((self.TotalProcessorTime - c0).TotalMilliseconds);
                if (modes[k].Threads > 1)
                {
                    handoffs[k] = SfnoWorkers.Handoffs - h0;
                    shared[k].Add((SfnoWorkers.SharedTicks - s0) * 1e3 / Stopwatch.Frequency);
                }
            }
        Console.WriteLine($"batch 1, {c.ImgShapeX}×{c.ImgShapeY}, E {c.EmbedDim}: {reps} interleaved forwards per mode");
        for (int k = 0; k < modes.Length; k++)
            Console.WriteLine($"  {modes[k].Name,-18} wall min {wall[k].Min(),7:F1} median {Median(wall[k]),7:F1} ms   CPU min {cpu[k].Min(),7:F1} median {Median(cpu[k]),7:F1} ms   tensors {tensors[k]}");
        for (int k = 0; k < modes.Length; k++)
            if (shared[k].Count > 0)
                Console.WriteLine($"  {modes[k].Name}: {handoffs[k]} hand-offs, inside shared sets of pieces min {shared[k].Min():F1} median {Median(shared[k]):F1} ms (the rest: the caller alone)");
        return 0;
    }

    static double Median(List<double> v)
    {
        var s = v.OrderBy(t => t).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : 0.5 * (s[s.Count / 2 - 1] + s[s.Count / 2]);
    }
}
