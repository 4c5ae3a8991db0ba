using Ensemble.Core.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Benchmarks.Spherical;

/// <summary>
/// `-- sfno --dft` : one thread, the forward real DFTs of the SFNO benchmark grids in the layouts the native SHT can
/// use, against libtorch's rfft (+ the permuting copy its SHT path needs). Median ms of 15.
/// </summary>
public static unsafe class DftLayouts
{
    public static int Run()
    {
        torch.set_num_threads(1);
        foreach (var (b, nlat, nlon, mmax) in new[] { (64L, 181, 360, 91), (64L, 90, 180, 91), (32L, 91, 180, 46), (32L, 45, 90, 46) })
        {
            int nfreq = nlon / 2 + 1;
            using var x = torch.randn([b, nlat, nlon]);
            using var orders = torch.empty([nfreq, nlat, 2 * b]);
            using var contiguous = torch.empty([b, nlat, nfreq, 2]);
            byte* xp = (byte*)Mkl.Data(x), op = (byte*)Mkl.Data(orders), cp = (byte*)Mkl.Data(contiguous);
            Console.WriteLine($"B {b}, {nlat}×{nlon}:");
            Time("  libtorch rfft", () => torch.fft.rfft(x, dim: -1, norm: FFTNormType.Forward).Dispose());
            Time("  libtorch rfft + permute copy", () =>
            {
                using var f = torch.fft.rfft(x, dim: -1, norm: FFTNormType.Forward);
                orders.view(nfreq, nlat, b, 2).copy_(torch.view_as_real(f).permute(2, 1, 0, 3));
            });
            var all = Mkl.RealDescriptor(false, true, nlon, b * nlat, nlon, 1, nfreq);
            Time("  DFTI one call, contiguous", () => Mkl.Compute(all, true, xp, cp));
            Time("  DFTI one call + permute copy", () =>
            {
                Mkl.Compute(all, true, xp, cp);
                orders.view(nfreq, nlat, b, 2).copy_(contiguous.permute(2, 1, 0, 3));
            });
            var perLat = Mkl.RealDescriptor(false, true, nlon, b, (long)nlat * nlon, (long)nlat * b, 1);
            Time("  DFTI per latitude, strided out", () =>
            {
                for (long i = 0; i < nlat; i++) Mkl.Compute(perLat, true, xp + i * nlon * 4, op + i * b * 8);
            });
            var scratchDesc = Mkl.RealDescriptor(false, true, nlon, b, (long)nlat * nlon, b, 1);
            using var scratch = torch.empty([nfreq, 2 * b]);
            byte* sp = (byte*)Mkl.Data(scratch);
            Time("  DFTI per latitude via L2 scratch", () =>
            {
                for (long i = 0; i < nlat; i++)
                {
                    Mkl.Compute(scratchDesc, true, xp + i * nlon * 4, sp);
                    for (long m = 0; m < nfreq; m++)
                        Buffer.MemoryCopy(sp + m * b * 8, op + (m * nlat + i) * b * 8, b * 8, b * 8);
                }
            });
            // Contiguous DFTs of a chunk of 16 fields, then a blocked transpose of the first mmax orders into [m, k, b].
            const long Chunk = 16;
            var chunkDesc = Mkl.RealDescriptor(false, true, nlon, Chunk * nlat, nlon, 1, nfreq);
            Time("  DFTI contiguous chunks + C# transpose", () =>
            {
                for (long s0 = 0; s0 < b; s0 += Chunk)
                {
                    Mkl.Compute(chunkDesc, true, xp + s0 * nlat * nlon * 4, cp);
                    long* src = (long*)cp, dst = (long*)op;               // one complex float = 8 bytes
                    for (long k = 0; k < nlat; k++)
                        for (long m = 0; m < mmax; m++)
                        {
                            long* d = dst + (m * nlat + k) * b + s0;
                            long* sr = src + k * nfreq + m;
                            for (long j = 0; j < Chunk; j++) d[j] = sr[j * nlat * nfreq];
                        }
                }
            });
            var perField = Mkl.RealDescriptor(false, true, nlon, nlat, nlon, (long)nlat * b, b);
            Time("  DFTI per field, strided out", () =>
            {
                for (long j = 0; j < b; j++) Mkl.Compute(perField, true, xp + j * nlat * nlon * 4, op + j * 8);
            });
            // Orders m-major per field row: transforms of one field's rows, output [m][row] (stride nlat, distance 1).
            var rowMajor = Mkl.RealDescriptor(false, true, nlon, nlat, nlon, nlat, 1);
            Time("  DFTI per field, m-major per field", () =>
            {
                for (long j = 0; j < b; j++) Mkl.Compute(rowMajor, true, xp + j * nlat * nlon * 4, cp + j * nlat * nfreq * 8);
            });
        }
        return 0;
    }

    static void Time(string name, Action body) =>
        Console.WriteLine($"{name,-40} {GemmShapes.MedianMs(body, 15),8:F3} ms");
}
