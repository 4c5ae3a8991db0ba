using Ensemble.Core;
using Ensemble.Core.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// Inference path for the SFNO's pointwise layers (1×1 convs, activations, instance norms, skip adds) on CPU:
/// each member's field is a [C, P] matrix, and the layers run over spatial tiles of P that keep the hidden
/// activations in cache: a 1×1 conv is one <c>addmm_</c> into a tile (bias preloaded, skip paths accumulated in place),
/// activations run in place on the tile, and instance-norm statistics are gathered tile by tile (Chan's pairwise
/// combination of per-tile means and squared deviations). Same mathematics as the module-by-module path, different
/// rounding in the last bits; used only when no gradient is recorded (autograd needs the module path's tensors).
/// In float32 with GELU or ReLU and <see cref="NativeKernels"/> on, the same tiles run natively: for layers of up to
/// <see cref="SmallGemm.MaxInner"/> channels as 64-point strips on the register-blocked kernel with fused epilogues
/// (<see cref="PointwiseStrips"/>), for wider ones as MKL gemms on the tile pointers and single SIMD passes
/// (<see cref="PointwiseKernels"/>); otherwise as libtorch ops. Measured: docs/benchmarks.md, SFNO inference.
/// </summary>
public static unsafe class PointwiseFusion
{
    /// <summary>
    /// Whether the fused path applies: no autograd, CPU, activations in the parameter dtype, and either at most
    /// <see cref="MaxThreads"/> intra-op threads or a member's widest activation (<paramref name="widest"/> channels
    /// on x's grid) of at least <see cref="LargeFieldBytes"/>. With 2 threads and small fields the per-layer path is
    /// a little faster (whole-field oneDNN 1×1 convolutions on cache-resident tensors scale over threads better than
    /// tile-sized gemms); for fields that stream from memory the tiles win (measured: docs/benchmarks.md).
    /// </summary>
    public static bool Applies(Tensor x, SfnoPrecision precision, long widest)
    {
        if (torch.is_grad_enabled() || x.device_type != DeviceType.CPU || x.dtype != precision.ParamDType
            || x.dtype is not (ScalarType.Float32 or ScalarType.Float64)) return false;
        if (torch.get_num_threads() <= MaxThreads) return true;
        long bytes = widest * x.shape[2] * x.shape[3] * (x.dtype == ScalarType.Float64 ? 8 : 4);
        return bytes >= LargeFieldBytes;
    }

    // Tensor + Tensor and add_(Tensor) pass a temporary Scalar alpha = 1 in TorchSharp 0.107; these run on the SFNO
    // workers, two threads at once, where a GC can finalize it mid-op (Ensemble.Core.Scalars): an explicit cached alpha.
    static readonly Scalar One = Scalars.Of(1);

    /// <summary>The fused path always runs up to this many intra-op threads (default 1).</summary>
    public static int MaxThreads { get; set; } = 1;

    /// <summary>Above <see cref="MaxThreads"/>, the fused path runs for member activations of at least this size.</summary>
    public const long LargeFieldBytes = 8L << 20;

    /// <summary>
    /// Points per tile: the widest hidden tile (<paramref name="widest"/> channels) ≈ 512 KB (for the native tiles, 256 KB
    /// to 2 MB measured within noise of each other).
    /// </summary>
    static long TileFor(long widest, long points, ScalarType dtype)
    {
        long bytes = dtype == ScalarType.Float64 ? 8 : 4;
        long t = (512L << 10) / (widest * bytes);
        t = Math.Max(256, t / 64 * 64);
        return Math.Min(points, t);
    }

    static void ActivateInPlace(string activation, Tensor t)
    {
        switch (activation)
        {
            case "gelu": t.gelu_(); break;
            case "relu": t.relu_(); break;
            case "silu": t.silu_(); break;
            default: throw new EnsembleException($"activation '{activation}' is not supported");
        }
    }

    static Tensor Matrix(Conv2d conv) => conv.weight!.view(conv.weight.shape[0], conv.weight.shape[1]);

    const long StatBytes = 256L << 10;

    /// <summary>
    /// Points per statistics chunk: about <see cref="StatBytes"/> of a C-channel field, at least a tile (few reductions
    /// per norm, and enough chunks for the workers of a shared batch-1 forward to split them: with 1 MB, (b)'s inner
    /// grid was one chunk, a serial step).
    /// </summary>
    static long StatChunkFor(long channels, long points, long tile, ScalarType dtype)
    {
        long bytes = dtype == ScalarType.Float64 ? 8 : 4;
        return Math.Min(points, Math.Max(tile, StatBytes / (channels * bytes)));
    }

    /// <summary>
    /// Instance-norm statistics of x [C, P] over chunks (two-pass mean and squared deviations per chunk, chunks
    /// combined pairwise in float64, Chan et al.); returns (mean, scale, shift) as [C, 1] columns with
    /// norm(x) = (x − mean)·scale + shift.
    /// </summary>
    static (Tensor Mean, Tensor Scale, Tensor Shift) NormAffine(Tensor x, long chunk, InstanceNorm2d norm)
    {
        using var scope = torch.NewDisposeScope();
        long c = x.shape[0], p = x.shape[1];
        int count = (int)((p + chunk - 1) / chunk);
        var mean64 = torch.empty([count, c], dtype: ScalarType.Float64);
        var m264 = torch.empty([count, c], dtype: ScalarType.Float64);
        // Each chunk is a piece (the workers of a shared batch-1 forward split them); they are combined below in order.
        SfnoWorkers.ForEach(count, null, i =>
        {
            long s = i * chunk, n = Math.Min(chunk, p - s);
            var t = x.narrow(1, s, n);
            var mean = t.mean([1], keepdim: true);
            var d = t - mean;
            // linalg.norm(double) and x·x, not vector_norm(double) / square(): those make a temporary Scalar (Ensemble.Core.Scalars).
            var norm2 = torch.linalg.norm(d, 2.0, [1], false).to(ScalarType.Float64);
            m264[i].copy_(norm2.mul(norm2));
            mean64[i].copy_(mean.squeeze(1));
        });
        Tensor total, sumSq;
        if (count == 1) { total = mean64[0]; sumSq = m264[0]; }
        else
        {
            var n = torch.tensor(Enumerable.Range(0, count).Select(i => (double)Math.Min(chunk, p - i * chunk)).ToArray()).unsqueeze(1);
            total = (mean64 * n).sum([0L]).div_(Scalars.Of(p));
            var dm = mean64 - total;
            sumSq = m264.sum([0L]).add_((dm * dm * n).sum([0L]), One);
        }
        // Cached Scalars: these run on the SFNO workers, where an implicit temporary could be finalized mid-op (docs/architecture.md).
        var rstd = sumSq.div(Scalars.Of(p)).add_(Scalars.Of(norm.eps)).rsqrt_();
        var scale = norm.weight is { } g ? rstd * g.to(ScalarType.Float64) : rstd;
        var shift = norm.bias is { } b ? b.to(ScalarType.Float64) : torch.zeros(c, dtype: ScalarType.Float64);
        var dtype = x.dtype;
        return (total.to(dtype).unsqueeze(1).MoveToOuterDisposeScope(), scale.to(dtype).unsqueeze(1).MoveToOuterDisposeScope(),
            shift.to(dtype).unsqueeze(1).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The block after its filter: out = norm1(mlp(act(norm0(z)))) + outer_skip(residual); z and residual [B, E, H, W].
    /// With norm1 the MLP's output bias is left out: a per-channel constant cancels in the instance norm.
    /// </summary>
    public static Tensor BlockRest(Tensor z, Tensor residual, InstanceNorm2d? norm0, InstanceNorm2d? norm1, string activation,
        SfnoMlp? mlp, Conv2d outerSkip)
    {
        using var scope = torch.NewDisposeScope();
        z = z.contiguous();
        residual = residual.contiguous();
        if (Native(z, activation) && residual.dtype == ScalarType.Float32)
            return BlockRestNative(z, residual, norm0, norm1, activation, mlp, outerSkip).MoveToOuterDisposeScope();
        long batch = z.shape[0], e = z.shape[1], p = z.shape[2] * z.shape[3];
        long hidden = mlp?.Fc1.weight!.shape[0] ?? e;
        long tile = TileFor(Math.Max(hidden, e), p, z.dtype);
        long chunk = StatChunkFor(e, p, tile, z.dtype);
        var output = torch.empty_like(z);
        var wskip = Matrix(outerSkip);
        var w1 = mlp is null ? null : Matrix(mlp.Fc1);
        var w2 = mlp is null ? null : Matrix(mlp.Fc2);
        var b1 = mlp?.Fc1.bias?.view(-1, 1);
        var b2 = norm1 is null ? mlp?.Fc2.bias?.view(-1, 1) : null;
        for (long b = 0; b < batch; b++)
        {
            using var inner = torch.NewDisposeScope();
            var zb = z[b].view(e, p);
            var rb = residual[b].view(e, p);
            var ob = output[b].view(e, p);
            var a0 = norm0 is null ? default : NormAffine(zb, chunk, norm0);
            // Each tile is a piece (shared among the workers of a parallel forward at batch 1).
            SfnoWorkers.ForSteps(p, tile, (s, n) =>
            {
                var zt = zb.narrow(1, s, n);
                var ot = ob.narrow(1, s, n);
                Tensor t;
                if (norm0 is null) t = zt.clone();
                else
                {
                    t = zt - a0.Mean;
                    t.mul_(a0.Scale).add_(a0.Shift, One);
                }
                ActivateInPlace(activation, t);
                if (mlp is not null)
                {
                    var h = b1 is null ? torch.mm(w1!, t) : torch.addmm(b1, w1!, t, 1, 1);
                    ActivateInPlace(activation, h);
                    if (b2 is null) ot.addmm_(w2!, h, 0, 1);
                    else
                    {
                        ot.copy_(b2.expand(e, n));
                        ot.addmm_(w2!, h, 1, 1);
                    }
                }
                else ot.copy_(t);
                if (norm1 is null) ot.addmm_(wskip, rb.narrow(1, s, n), 1, 1);
            });
            if (norm1 is null) continue;
            var a1 = NormAffine(ob, chunk, norm1);
            SfnoWorkers.ForSteps(p, chunk, (s, n) =>
            {
                var ot = ob.narrow(1, s, n);
                ot.sub_(a1.Mean).mul_(a1.Scale).add_(a1.Shift, One);
                ot.addmm_(wskip, rb.narrow(1, s, n), 1, 1);
            });
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encoder or decoder: out = last(act(first(x))) (+ <paramref name="skip"/>(<paramref name="skipInput"/>), the
    /// big-skip residual_transform, accumulated into the same tile).
    /// </summary>
    public static Tensor EncoderDecoder(Tensor x, Conv2d first, Conv2d last, string activation, Conv2d? skip = null, Tensor? skipInput = null)
    {
        if ((skip is null) != (skipInput is null))
            throw new ArgumentException("PointwiseFusion.EncoderDecoder: the skip conv and its input go together");
        using var scope = torch.NewDisposeScope();
        x = x.contiguous();
        skipInput = skipInput?.contiguous();
        if (Native(x, activation) && skipInput is null or { dtype: ScalarType.Float32 })
            return EncoderDecoderNative(x, first, last, activation, skip, skipInput).MoveToOuterDisposeScope();
        long batch = x.shape[0], cin = x.shape[1], p = x.shape[2] * x.shape[3];
        long hidden = first.weight!.shape[0], cout = last.weight!.shape[0];
        long tile = TileFor(Math.Max(hidden, cout), p, x.dtype);
        var output = torch.empty([batch, cout, x.shape[2], x.shape[3]], dtype: x.dtype);
        var w1 = Matrix(first);
        var w2 = Matrix(last);
        var b1 = first.bias?.view(-1, 1);
        var b2 = last.bias?.view(-1, 1);
        var wskip = skip is null ? null : Matrix(skip);
        for (long b = 0; b < batch; b++)
        {
            using var inner = torch.NewDisposeScope();
            var xb = x[b].view(cin, p);
            var ob = output[b].view(cout, p);
            var sb = skipInput?[b].view(skipInput.shape[1], p);
            SfnoWorkers.ForSteps(p, tile, (s, n) =>
            {
                var xt = xb.narrow(1, s, n);
                var ot = ob.narrow(1, s, n);
                var h = b1 is null ? torch.mm(w1, xt) : torch.addmm(b1, w1, xt, 1, 1);
                ActivateInPlace(activation, h);
                if (b2 is null) ot.addmm_(w2, h, 0, 1);
                else
                {
                    ot.copy_(b2.expand(cout, n));
                    ot.addmm_(w2, h, 1, 1);
                }
                if (sb is not null) ot.addmm_(wskip!, sb.narrow(1, s, n), 1, 1);
            });
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>float32 tiles with the native kernels (MKL gemms through <see cref="Mkl"/>, fused elementwise passes).</summary>
    static bool Native(Tensor x, string activation) =>
        NativeKernels.Active && x.dtype == ScalarType.Float32 && PointwiseKernels.Supports(activation);

    static float* Ptr(Tensor t) => (float*)Mkl.Data(t);

    [ThreadStatic] static bool t_mklTiles;

    /// <summary>
    /// Small layers run as strips on the register-blocked kernel (<see cref="PointwiseStrips"/>); false: MKL tiles. Per
    /// calling thread (read when a layer starts), for tests and A/B benchmarks.
    /// </summary>
    internal static bool Strips { get => !t_mklTiles; set => t_mklTiles = !value; }

    /// <summary>A conv's weight as a contiguous row-major [out, in] matrix (kept alive by the caller's scope).</summary>
    static Tensor WeightMatrix(Conv2d conv) => Matrix(conv).contiguous();

    /// <summary>Row-major out[o, j] (+)= w[o, :] · x[:, j] for j &lt; n: out and x rows <paramref name="ldo"/> / <paramref name="ldx"/> apart.</summary>
    static void Gemm(float* w, int o, int k, float* x, long ldx, float* output, long ldo, int n, bool accumulate) =>
        // Column-major outᵀ (n × o) = xᵀ (n × k) · wᵀ (k × o).
        Mkl.Gemm(x, (int)ldx, w, k, output, (int)ldo, n, o, k, 1f, accumulate ? 1f : 0f);

    /// <summary>
    /// <see cref="BlockRest"/> on the native kernels: per tile, norm0 + activation in one pass into a tile buffer, fc1 (gemm),
    /// bias + activation in one pass, fc2 (gemm) straight into the output, the skip gemm accumulated there; with norm1, a
    /// second pass normalises the output in place and accumulates the skip. Small layers run each tile as strips
    /// (<see cref="PointwiseStrips"/>: the same steps per 64 points, epilogues fused into the products). The same pieces
    /// as the libtorch path.
    /// </summary>
    static Tensor BlockRestNative(Tensor z, Tensor residual, InstanceNorm2d? norm0, InstanceNorm2d? norm1, string activation,
        SfnoMlp? mlp, Conv2d outerSkip)
    {
        using var scope = torch.NewDisposeScope();
        long batch = z.shape[0], p = z.shape[2] * z.shape[3];
        int e = (int)z.shape[1];
        int hidden = (int)(mlp?.Fc1.weight!.shape[0] ?? e);
        long tile = TileFor(Math.Max(hidden, e), p, z.dtype);
        long chunk = StatChunkFor(e, p, tile, z.dtype);
        var output = torch.empty_like(z);
        var wskip = WeightMatrix(outerSkip);
        var w1 = mlp is null ? null : WeightMatrix(mlp.Fc1);
        var w2 = mlp is null ? null : WeightMatrix(mlp.Fc2);
        var b1 = mlp?.Fc1.bias?.contiguous();
        var b2 = norm1 is null ? mlp?.Fc2.bias?.contiguous() : null;
        float* skipP = Ptr(wskip), w1P = w1 is null ? null : Ptr(w1), w2P = w2 is null ? null : Ptr(w2);
        float* b1P = b1 is null ? null : Ptr(b1), b2P = b2 is null ? null : Ptr(b2);
        bool strips = Strips && PointwiseStrips.Fits(e) && PointwiseStrips.Fits(hidden, e);
        bool fusedStats = strips && mlp is not null && norm1 is not null;
        for (long b = 0; b < batch; b++)
        {
            using var inner = torch.NewDisposeScope();
            var zb = z[b].view(e, p);
            var ob = output[b].view(e, p);
            float* zP = Ptr(zb), rP = Ptr(residual[b]), oP = Ptr(ob);
            var a0 = norm0 is null ? default : NormAffineNative(zP, e, p, chunk, norm0);
            float* m0 = norm0 is null ? null : Ptr(a0.Mean), g0 = norm0 is null ? null : Ptr(a0.Scale), h0 = norm0 is null ? null : Ptr(a0.Shift);
            // With strips, an MLP and norm1, norm1's statistics are gathered per tile while the strips are written.
            int tiles = (int)((p + tile - 1) / tile);
            var tileStats = fusedStats ? GC.AllocateUninitializedArray<double>(tiles * 2 * e, pinned: true) : null;
            double* statsP = tileStats is null ? null : (double*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref tileStats[0]);
            SfnoWorkers.ForSteps(p, tile, (s, n) =>
            {
                int nn = (int)n;
                if (strips)
                    PointwiseStrips.BlockRest(zP, rP, oP, p, s, nn, e, m0, g0, h0, activation,
                        mlp is null ? null : new PointwiseStrips.Mlp(w1P, b1P, hidden, w2P, b2P), norm1 is null ? skipP : null,
                        statsP is null ? null : statsP + s / tile * 2 * e);
                else if (mlp is null)
                    PointwiseKernels.NormAct(zP + s, p, oP + s, p, e, nn, m0, g0, h0, activation);
                else
                {
                    using var t = torch.empty([e, n], dtype: ScalarType.Float32);
                    using var h = torch.empty([hidden, n], dtype: ScalarType.Float32);
                    float* tP = Ptr(t), hP = Ptr(h);
                    PointwiseKernels.NormAct(zP + s, p, tP, n, e, nn, m0, g0, h0, activation);
                    Gemm(w1P, hidden, e, tP, n, hP, n, nn, accumulate: false);
                    PointwiseKernels.BiasAct(hP, hidden, nn, b1P, activation);
                    if (b2P is not null) PointwiseKernels.FillRows(oP + s, p, e, nn, b2P);
                    Gemm(w2P, e, hidden, hP, n, oP + s, p, nn, accumulate: b2P is not null);
                }
                if (norm1 is null && !strips) Gemm(skipP, e, e, rP + s, p, oP + s, p, nn, accumulate: true);
            });
            if (norm1 is null) continue;
            var a1 = tileStats is null ? NormAffineNative(oP, e, p, chunk, norm1) : NormAffineFromChunks(tileStats, 2 * e, e, p, tile, norm1);
            GC.KeepAlive(tileStats);
            float* m1 = Ptr(a1.Mean), g1 = Ptr(a1.Scale), h1 = Ptr(a1.Shift);
            SfnoWorkers.ForSteps(p, chunk, (s, n) =>
            {
                if (strips) PointwiseStrips.NormSkip(rP, oP, p, s, (int)n, e, m1, g1, h1, skipP);
                else
                {
                    PointwiseKernels.Norm(oP + s, p, e, (int)n, m1, g1, h1);
                    Gemm(skipP, e, e, rP + s, p, oP + s, p, (int)n, accumulate: true);
                }
            });
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary><see cref="EncoderDecoder"/> on the native kernels (gemm, bias + activation in one pass, gemm, skip gemm).</summary>
    static Tensor EncoderDecoderNative(Tensor x, Conv2d first, Conv2d last, string activation, Conv2d? skip, Tensor? skipInput)
    {
        using var scope = torch.NewDisposeScope();
        long batch = x.shape[0], p = x.shape[2] * x.shape[3];
        int cin = (int)x.shape[1], hidden = (int)first.weight!.shape[0], cout = (int)last.weight!.shape[0];
        int cskip = (int)(skipInput?.shape[1] ?? 0);
        long tile = TileFor(Math.Max(hidden, cout), p, x.dtype);
        var output = torch.empty([batch, cout, x.shape[2], x.shape[3]], dtype: x.dtype);
        var w1 = WeightMatrix(first);
        var w2 = WeightMatrix(last);
        var b1 = first.bias?.contiguous();
        var b2 = last.bias?.contiguous();
        var wskip = skip is null ? null : WeightMatrix(skip);
        float* w1P = Ptr(w1), w2P = Ptr(w2), b1P = b1 is null ? null : Ptr(b1), b2P = b2 is null ? null : Ptr(b2);
        float* skipP = wskip is null ? null : Ptr(wskip);
        bool strips = Strips && PointwiseStrips.Fits(cin) && PointwiseStrips.Fits(hidden, cskip);
        for (long b = 0; b < batch; b++)
        {
            using var inner = torch.NewDisposeScope();
            float* xP = Ptr(x[b]), oP = Ptr(output[b]), sP = skipInput is null ? null : Ptr(skipInput[b]);
            SfnoWorkers.ForSteps(p, tile, (s, n) =>
            {
                int nn = (int)n;
                if (strips)
                {
                    PointwiseStrips.EncoderDecoder(xP, sP, oP, p, s, nn, cin, cskip, cout, activation,
                        new PointwiseStrips.Mlp(w1P, b1P, hidden, w2P, b2P), skipP);
                    return;
                }
                using var h = torch.empty([hidden, n], dtype: ScalarType.Float32);
                float* hP = Ptr(h);
                Gemm(w1P, hidden, cin, xP + s, p, hP, n, nn, accumulate: false);
                PointwiseKernels.BiasAct(hP, hidden, nn, b1P, activation);
                if (b2P is not null) PointwiseKernels.FillRows(oP + s, p, cout, nn, b2P);
                Gemm(w2P, cout, hidden, hP, n, oP + s, p, nn, accumulate: b2P is not null);
                if (sP is not null) Gemm(skipP, cout, cskip, sP + s, p, oP + s, p, nn, accumulate: true);
            });
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="NormAffine"/> for a contiguous float32 [C, P] field in C#: per chunk (a piece) and channel the mean and
    /// the sum of squared deviations accumulated in float64 in one pass over the chunk's row, chunks combined in order
    /// (Chan et al.); no libtorch ops.
    /// </summary>
    static (Tensor Mean, Tensor Scale, Tensor Shift) NormAffineNative(float* x, int c, long p, long chunk, InstanceNorm2d norm)
    {
        int count = (int)((p + chunk - 1) / chunk);
        var stats = new double[count * 2 * c];                                       // per chunk: c means, then c M2s
        SfnoWorkers.ForEach(count, null, i =>
        {
            long s = i * chunk, n = Math.Min(chunk, p - s);
            for (int ch = 0; ch < c; ch++)
                (stats[i * 2 * c + ch], stats[i * 2 * c + c + ch]) = PointwiseKernels.MeanAndM2(x + ch * p + s, n);
        });
        return NormAffineFromChunks(stats, 2 * c, c, p, chunk, norm);
    }

    /// <summary>
    /// The norm's (mean, scale, shift) from per-chunk statistics: chunk i's means at stats[i·stride + ch] and its sums of
    /// squared deviations at stats[i·stride + c + ch], chunks of <paramref name="chunk"/> points combined in order (Chan).
    /// </summary>
    static (Tensor Mean, Tensor Scale, Tensor Shift) NormAffineFromChunks(double[] stats, int stride, int c, long p, long chunk, InstanceNorm2d norm)
    {
        int count = (int)((p + chunk - 1) / chunk);
        var gamma = norm.weight is { } w ? w.to(ScalarType.Float64).data<double>().ToArray() : null;
        var beta = norm.bias is { } bb ? bb.to(ScalarType.Float64).data<double>().ToArray() : null;
        var mean = new float[c];
        var scale = new float[c];
        var shift = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double total = 0;
            for (int i = 0; i < count; i++) total += stats[i * stride + ch] * Math.Min(chunk, p - i * chunk);
            total /= p;
            double m2 = 0;
            for (int i = 0; i < count; i++)
            {
                double d = stats[i * stride + ch] - total;
                m2 += stats[i * stride + c + ch] + d * d * Math.Min(chunk, p - i * chunk);
            }
            double rstd = 1.0 / Math.Sqrt(m2 / p + norm.eps);
            mean[ch] = (float)total;
            scale[ch] = (float)(gamma is null ? rstd : rstd * gamma[ch]);
            shift[ch] = (float)(beta?[ch] ?? 0.0);
        }
        return (torch.tensor(mean), torch.tensor(scale), torch.tensor(shift));
    }
}
