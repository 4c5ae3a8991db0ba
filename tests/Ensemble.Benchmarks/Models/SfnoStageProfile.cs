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

        using (var tiny = torch.randn(32, 64))
        {
            Time("1000 × tiny add_ (per-op overhead)", () => { for (int i = 0; i < 1000; i++) tiny.add_(1.0); return tiny.alias(); });
            Time("1000 × narrow+dispose", () => { for (int i = 0; i < 1000; i++) tiny.narrow(1, 0, 8).Dispose(); return tiny.alias(); });
            Time("1000 × tiny mean(1)", () => { for (int i = 0; i < 1000; i++) tiny.mean([1]).Dispose(); return tiny.alias(); });
        }
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
        using (var cLast = torch.randn([batch * e * h0, w0 / 2 + 1], dtype: ScalarType.ComplexFloat32, generator: gen))
        using (var cFirst = torch.randn([w0 / 2 + 1, batch * e * h0], dtype: ScalarType.ComplexFloat32, generator: gen))
        using (var rLast = torch.randn([batch * e * h0, w0], generator: gen))
        using (var rFirst = torch.randn([w0, batch * e * h0], generator: gen))
        {
            Time("  irfft rows contiguous (dim -1)", () => torch.fft.irfft(cLast, n: w0, dim: -1, norm: FFTNormType.Forward));
            Time("  irfft rows strided (dim 0)", () => torch.fft.irfft(cFirst, n: w0, dim: 0, norm: FFTNormType.Forward));
            Time("  rfft rows contiguous (dim -1)", () => torch.fft.rfft(rLast, dim: -1, norm: FFTNormType.Forward));
            Time("  rfft rows strided (dim 0)", () => torch.fft.rfft(rFirst, dim: 0, norm: FFTNormType.Forward));
            Time("  ifft c2c rows contiguous (dim -1)", () => torch.fft.ifft(torch.randn([batch * e * h0, w0], dtype: ScalarType.ComplexFloat32), dim: -1, norm: FFTNormType.Forward));
            Time("  transpose copy [lon, rows] → [rows, lon]", () => rFirst.t().contiguous());
        }
        Time("  Legendre synthesise outer", () => up.Plan.Synthesise(up.Table, torch.randn(mmax, lmax, 2L * batch * e)));
        foreach (var (nl, label) in new[] { (h0, "outer"), (h, "inner") })
            foreach (int nb in new[] { 1, 2, 4, 8, 16, 32 })
            {
                var rng = new Random(1);
                var ana = new TriangularLegendre(mmax, lmax, nl, stack: 1, synthesis: false, targetBlocks: nb);
                var syn = new TriangularLegendre(mmax, lmax, nl, stack: 1, synthesis: true, targetBlocks: nb);
                double[][] Rows(int m) { var r = new double[(lmax - m) * nl]; for (int i = 0; i < r.Length; i++) r[i] = rng.NextDouble(); return [r]; }
                using var ta = ana.Pack(Rows, ScalarType.Float32, null);
                using var ts = syn.Pack(Rows, ScalarType.Float32, null);
                using var xa = torch.randn(mmax, nl, 2L * batch * e);
                using var cs = torch.randn(mmax, lmax, 2L * batch * e);
                Time($"  Legendre analyse {label}, {ana.Blocks.Count} blocks", () => ana.Analyse(ta, xa));
                Time($"  Legendre synthesise {label}, {syn.Blocks.Count} blocks", () => syn.Synthesise(ts, cs));
            }
        using (var xdm = fwd.ForwardDegreeMajor(xi))
        using (var wdm = weight.permute(2, 0, 1))
        {
            Time("dhconv degree-major bmm, dense", () => torch.bmm(xdm.view(lmax, mmax * batch, e), wdm));
            foreach (int g in new[] { 2, 4, 8 })
                Time($"dhconv degree-major bmm, {g} degree groups", () => DegreeGroups(xdm.view(lmax, mmax, batch, e), wdm, batch, e, g));
        }
        using (var conv = new SpectralConv(fwd, inv, e, "dhconv", ScalarType.Float32))
        {
            conv.Weight.copy_(weight);
            for (int rep = 0; rep < 3; rep++)
                foreach (bool native in new[] { true, false })
                {
                    SpectralConv.NativeDhconv = native;
                    Time($"inner filter (SHT, dhconv, ISHT), dhconv {(native ? "native gemms" : "libtorch bmm")}", () => conv.forward(xi).Output);
                }
            SpectralConv.NativeDhconv = true;
        }
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
        PointwiseProbe(xo, e);
        using (var net = new SphericalFourierNeuralOperatorNet(c, ScalarType.Float32, seed: 1))
        {
            net.eval();
            var last = net.Blocks[^1];
            Console.WriteLine($"  (grad enabled: {torch.is_grad_enabled()})");
            using var xin = torch.randn([batch, e, h, w], generator: gen);
            Time("last block: filter", () => { var (o, r) = last.Filter.forward(xin); r.Dispose(); return o; });
            Time("last block: whole", () => last.forward(xin));
            using var zo = torch.randn([batch, e, h0, w0], generator: gen);
            for (int rep = 0; rep < 3; rep++)
            {
                Time("last block: fused rest alone", () => PointwiseFusion.BlockRest(zo, xo, last.Norm0, last.Norm1, "gelu", last.Mlp, last.OuterSkip));
                using (Ensemble.Core.Native.NativeKernels.Suppress())
                    Time("last block: fused rest alone, libtorch ops", () => PointwiseFusion.BlockRest(zo, xo, last.Norm0, last.Norm1, "gelu", last.Mlp, last.OuterSkip));
            }
            Time("last block: fused rest, no norms", () => PointwiseFusion.BlockRest(zo, xo, null, null, "gelu", last.Mlp, last.OuterSkip));
            Time("last block: fused rest, no mlp", () => PointwiseFusion.BlockRest(zo, xo, last.Norm0, last.Norm1, "gelu", null, last.OuterSkip));
            var first = net.Blocks[0];
            Time("first block: filter", () => { var (o, r) = first.Filter.forward(xo); r.Dispose(); return o; });
            Time("first block: whole", () => first.forward(xo));
            using var inp = torch.randn([batch, c.ModelInputChannels, h0, w0], generator: gen);
            Time("encoder", () => net.Encoder.forward(inp));
            Time("whole network", () => net.forward(inp));
            for (int rep = 0; rep < 3; rep++)
                foreach (int maxThreads in new[] { 1, 2 })
                {
                    PointwiseFusion.MaxThreads = maxThreads;
                    string mode = threads <= maxThreads ? "fused tiles" : "by field size";
                    Time($"whole network, pointwise {mode}", () => net.forward(inp));
                }
            PointwiseFusion.MaxThreads = 1;
        }
        Time("conv2d 1×1 E→E outer, per member", () => torch.cat(Enumerable.Range(0, batch).Select(i => F.conv2d(xo.narrow(0, i, 1), w2)).ToArray(), 0));
        return 0;
    }

    /// <summary>The MLP E→2E→E with GELU on the outer grid: per-layer conv2d vs mm, and spatial tiles that keep the hidden layer in cache.</summary>
    static void PointwiseProbe(Tensor xo, int e)
    {
        var gen = new Generator(5);
        long p = xo.shape[2] * xo.shape[3];
        using var w1 = torch.randn(2 * e, e, generator: gen);
        using var b1 = torch.randn(2 * e, generator: gen);
        using var w2 = torch.randn(e, 2 * e, generator: gen);
        using var b2 = torch.randn(e, generator: gen);
        using var x = xo[0].reshape(e, p);
        using var h = torch.randn(2 * e, p, generator: gen);
        double f1 = 2.0 * e * 2 * e * p;
        Time($"mm W1·X [{2 * e},{e}]·[{e},{p}] ({f1 / 1e6:F0} MFLOP)", () => torch.mm(w1, x));
        Time($"mm W2·H [{e},{2 * e}]·[{2 * e},{p}]", () => torch.mm(w2, h));
        using var xt = x.t().contiguous();
        Time("mm channels-last Xᵀ·W1ᵀ", () => torch.mm(xt, w1.t()));
        Time("var_mean [E,P] dim 1", () => { var (v, m) = torch.var_mean(x, 1, unbiased: false); m.Dispose(); return v; });
        Time("MLP conv2d+gelu+conv2d", () =>
        {
            using var a = F.conv2d(xo, w1.view(2 * e, e, 1, 1), b1);
            using var g = F.gelu(a);
            return F.conv2d(g, w2.view(e, 2 * e, 1, 1), b2);
        });
        Time("MLP mm+gelu_+addmm untiled", () =>
        {
            using var a = torch.addmm(b1.view(-1, 1), w1, x, 1, 1);
            a.gelu_();
            return torch.addmm(b2.view(-1, 1), w2, a, 1, 1);
        });
        foreach (long tile in new long[] { 512, 1024, 2048, 4096, 8192 })
            Time($"MLP tiled {tile}", () =>
            {
                var o = torch.empty(e, p);
                using var hb = torch.empty(2 * e, tile);
                for (long s = 0; s < p; s += tile)
                {
                    long n = Math.Min(tile, p - s);
                    using var hv = hb.narrow(1, 0, n);
                    using var xv = x.narrow(1, s, n);
                    using var ov = o.narrow(1, s, n);
                    hv.copy_(b1.view(-1, 1).expand(2 * e, n));
                    hv.addmm_(w1, xv, 1, 1);
                    hv.gelu_();
                    ov.copy_(b2.view(-1, 1).expand(e, n));
                    ov.addmm_(w2, hv, 1, 1);
                }
                return o;
            });
    }

    static Tensor DegreeGroups(Tensor xs, Tensor w, long b, long o, int groups)
    {
        long lmax = xs.shape[0], mmax = xs.shape[1], e = xs.shape[3];
        var zs = torch.zeros([lmax, mmax, b * o], dtype: xs.dtype);
        long size = (lmax + groups - 1) / groups;
        for (long l0 = 0; l0 < lmax; l0 += size)
        {
            using var scope = torch.NewDisposeScope();
            long n = Math.Min(size, lmax - l0);
            long rows = Math.Min(mmax, l0 + n);
            var xg = xs.narrow(0, l0, n).narrow(1, 0, rows).reshape(n, rows * b, e);
            var yg = torch.bmm(xg, w.narrow(0, l0, n));
            zs.narrow(0, l0, n).narrow(1, 0, rows).copy_(yg.view(n, rows, b * o));
        }
        return zs;
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
