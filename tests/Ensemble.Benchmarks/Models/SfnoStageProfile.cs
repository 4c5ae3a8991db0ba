using System.Diagnostics;
using Ensemble.Models.Sfno;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ensemble.Benchmarks.Models;

/// <summary>
/// Times the SFNO's building blocks in isolation at one case's sizes (`-- sfno --stages a 1`): the four transforms
/// and their FFT / Legendre parts, the dhconv contraction, a 1×1 conv as conv2d and as bmm, GELU and InstanceNorm.
/// Used to find where the forward spends its time; each line is the median of 5 runs after a warm-up.
/// </summary>
public static class SfnoStageProfile
{
    public static int Run(SfnoConfig c, int batch, int threads)
    {
        torch.set_num_threads(threads);
        using var inference = torch.inference_mode();
        int e = c.EmbedDim, lmax = c.ModesLat, mmax = c.ModesLon;
        int h0 = c.ImgShapeX, w0 = c.ImgShapeY, h = c.H, w = c.W;
        var gen = new Generator(3);
        using var xo = torch.randn([batch, e, h0, w0], generator: gen);
        using var xi = torch.randn([batch, e, h, w], generator: gen);
        using var down = new RealSHT(h0, w0, lmax, mmax, GridType.Equiangular);
        using var up = new InverseRealSHT(h0, w0, lmax, mmax, GridType.Equiangular);
        using var fwd = new RealSHT(h, w, lmax, mmax, GridType.LegendreGauss);
        using var inv = new InverseRealSHT(h, w, lmax, mmax, GridType.LegendreGauss);
        using var xs = fwd.forward(xi);
        using var weight = torch.randn([e, e, lmax], dtype: ScalarType.ComplexFloat32, generator: gen);

        Console.WriteLine($"stages ({c.ImgShapeX}×{c.ImgShapeY}, E {e}, lmax {lmax}, mmax {mmax}, batch {batch}, {threads} threads), median process CPU ms:");
        Time("SHT down (outer → spectral)", () => down.forward(xo));
        Time("  rfft outer", () => torch.fft.rfft(xo, dim: -1, norm: FFTNormType.Forward));
        Time("  Legendre analyse outer", () => down.Plan.Analyse(down.Table, torch.randn(mmax, h0, 2L * batch * e)));
        Time("  (randn for the above)", () => torch.randn(mmax, h0, 2L * batch * e));
        Time("SHT inner", () => fwd.forward(xi));
        Time("ISHT inner", () => inv.forward(xs));
        Time("ISHT up (spectral → outer)", () => up.forward(xs));
        using var xs2 = torch.cat([xs, xs], 1);
        Time("ISHT up of 2E channels at once", () => up.forward(xs2));
        Time("ISHT inner of 2E channels at once", () => inv.forward(xs2));
        Time("  irfft outer", () => torch.fft.irfft(torch.zeros([batch, e, h0, w0 / 2 + 1], dtype: ScalarType.ComplexFloat32), n: w0, dim: -1, norm: FFTNormType.Forward));
        Time("  Legendre synthesise outer", () => up.Plan.Synthesise(up.Table, torch.randn(mmax, lmax, 2L * batch * e)));
        Time("dhconv einsum (complex)", () => torch.einsum("bixy,iox->boxy", xs, weight).contiguous());
        Time("dhconv real bmm incl. layout copies", () => RealDhconv(xs, weight));

        using var w1 = torch.randn(2 * e, e, 1, 1, generator: gen);
        using var b1 = torch.randn(2 * e, generator: gen);
        using var w2 = torch.randn(e, e, 1, 1, generator: gen);
        Time("conv2d 1×1 E→2E inner", () => F.conv2d(xi, w1, b1));
        Time("bmm 1×1 E→2E inner", () => Pointwise(xi, w1, b1));
        Time("conv2d 1×1 E→E outer", () => F.conv2d(xo, w2));
        Time("bmm 1×1 E→E outer", () => Pointwise(xo, w2, null));
        Time("GELU [B,E] outer", () => F.gelu(xo));
        using var norm = nn.InstanceNorm2d(e, eps: 1e-6, affine: true);
        Time("InstanceNorm2d [B,E] outer", () => norm.forward(xo));
        Time("add [B,E] outer", () => xo + xo);
        Time("norm as var_mean + addcmul outer", () => ManualNorm(xo, norm.weight!, norm.bias!));
        Time("conv2d 1×1 E→E outer, per member", () => torch.cat(Enumerable.Range(0, batch).Select(i => F.conv2d(xo.narrow(0, i, 1), w2)).ToArray(), 0));
        return 0;
    }

    static Tensor Pointwise(Tensor x, Tensor weight, Tensor? bias)
    {
        long b = x.shape[0], i = x.shape[1], o = weight.shape[0], p = x.shape[2] * x.shape[3];
        using var w2 = weight.view(1, o, i).expand(b, o, i);
        using var xv = x.view(b, i, p);
        Tensor y;
        if (bias is null) y = torch.bmm(w2, xv);
        else
        {
            using var bb = bias.view(1, o, 1).expand(b, o, p);
            y = w2.baddbmm(xv, bb);      // TorchSharp: batch1.baddbmm(batch2, input) = input + batch1 @ batch2
        }
        using (y) return y.view(b, o, x.shape[2], x.shape[3]).alias();
    }

    static Tensor ManualNorm(Tensor x, Tensor gamma, Tensor beta)
    {
        using var scope = torch.NewDisposeScope();
        var (v, m) = torch.var_mean(x, [2, 3], unbiased: false, keepdim: true);
        var scale = (v + 1e-6).rsqrt_() * gamma.view(1, -1, 1, 1);
        var shift = beta.view(1, -1, 1, 1) - m * scale;
        return torch.addcmul(shift, x, scale, 1.0).MoveToOuterDisposeScope();
    }

    static Tensor RealDhconv(Tensor xs, Tensor weight)
    {
        using var scope = torch.NewDisposeScope();
        long b = xs.shape[0], e = xs.shape[1], l = xs.shape[2], m = xs.shape[3], o = weight.shape[1];
        var x2 = torch.view_as_real(xs).permute(2, 4, 1, 0, 3).reshape(l, 2 * e, b * m);       // [l, (c, i), (b, m)]
        var wr = torch.view_as_real(weight).permute(2, 1, 0, 3);                                  // [l, o, i, c]
        var re = wr.select(-1, 0);
        var im = wr.select(-1, 1);
        var big = torch.cat([torch.cat([re, -im], 2), torch.cat([im, re], 2)], 1);               // [l, (c', o), (c, i)]
        var y = torch.bmm(big, x2).view(l, 2, o, b, m).permute(3, 2, 0, 4, 1).contiguous();      // [b, o, l, m, c]
        return torch.view_as_complex(y).MoveToOuterDisposeScope();
    }

    static void Time(string name, Func<Tensor> run)
    {
        for (int i = 0; i < 1; i++) { using var _ = run(); }
        var times = new List<double>();
        var wall = new List<double>();
        using var self = Process.GetCurrentProcess();
        for (int i = 0; i < 5; i++)
        {
            self.Refresh();
            var c0 = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            using var _ = run();
            wall.Add(sw.Elapsed.TotalMilliseconds);
            self.Refresh();
            times.Add((self.TotalProcessorTime - c0).TotalMilliseconds);
        }
        times.Sort();
        Console.WriteLine($"  {name,-40} {times[2],9:F2}   (min {times[0]:F2}; wall min {wall.Min():F2})");
    }
}
