using System.Runtime.CompilerServices;
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
        var output = torch.empty_like(z);
        var w = BlockWeights.Of(norm0, norm1, mlp, outerSkip);
        var shape = BlockRestShape.Of(e, w.Hidden, p);
        bool strips = Strips && shape.Strips;
        var stats = GC.AllocateUninitializedArray<double>((int)shape.StatsLength, pinned: true);
        var affine = GC.AllocateUninitializedArray<float>(6 * e, pinned: true);
        double* statsP = (double*)Unsafe.AsPointer(ref stats[0]);
        float* affineP = (float*)Unsafe.AsPointer(ref affine[0]);
        for (long b = 0; b < batch; b++)
        {
            float* zP = Ptr(z[b]), rP = Ptr(residual[b]), oP = Ptr(output[b]);
            if (strips) BlockRestInto(zP, rP, oP, shape, w, activation, statsP, affineP);
            else BlockRestTiles(zP, rP, oP, shape, w, activation, statsP, affineP);
        }
        GC.KeepAlive(stats);
        GC.KeepAlive(affine);
        GC.KeepAlive(w);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>A block's pointwise weights as raw float32 pointers (conv weights [out, in, 1, 1] are row-major [out, in]).</summary>
    internal sealed class BlockWeights
    {
        readonly List<Tensor> _copies = [];
        public float* Gamma0, Beta0, Gamma1, Beta1, W1, B1, W2, B2, Skip;
        public double Eps0, Eps1;
        public bool Norm0, Norm1, HasMlp;
        public int Hidden;

        public static BlockWeights Of(InstanceNorm2d? norm0, InstanceNorm2d? norm1, SfnoMlp? mlp, Conv2d outerSkip)
        {
            var w = new BlockWeights();
            w.Norm0 = norm0 is not null;
            w.Gamma0 = w.Ptr(norm0?.weight);
            w.Beta0 = w.Ptr(norm0?.bias);
            w.Eps0 = norm0?.eps ?? 0;
            w.Norm1 = norm1 is not null;
            w.Gamma1 = w.Ptr(norm1?.weight);
            w.Beta1 = w.Ptr(norm1?.bias);
            w.Eps1 = norm1?.eps ?? 0;
            w.HasMlp = mlp is not null;
            w.Hidden = (int)(mlp?.Fc1.weight!.shape[0] ?? outerSkip.weight!.shape[0]);
            w.W1 = w.Ptr(mlp?.Fc1.weight);
            w.B1 = w.Ptr(mlp?.Fc1.bias);
            // With norm1 the MLP's output bias is left out: a per-channel constant cancels in the instance norm.
            w.W2 = w.Ptr(mlp?.Fc2.weight);
            w.B2 = norm1 is null ? w.Ptr(mlp?.Fc2.bias) : null;
            w.Skip = w.Ptr(outerSkip.weight);
            return w;
        }

        float* Ptr(Tensor? t) => WeightPtr(t, _copies);

        public PointwiseStrips.Mlp? Mlp => HasMlp ? new PointwiseStrips.Mlp(W1, B1, Hidden, W2, B2) : null;
    }

    /// <summary>The sizes and pieces of a block's rest on one member: tiles, statistics chunks and their scratch.</summary>
    internal readonly record struct BlockRestShape(int E, int Hidden, long P, long Tile, long Chunk, bool Strips)
    {
        public static BlockRestShape Of(int e, int hidden, long p)
        {
            long tile = TileFor(Math.Max(hidden, e), p, ScalarType.Float32);
            return new(e, hidden, p, tile, StatChunkFor(e, p, tile, ScalarType.Float32),
                PointwiseStrips.Fits(e) && PointwiseStrips.Fits(hidden, e));
        }

        public int Tiles => (int)((P + Tile - 1) / Tile);
        public int Chunks => (int)((P + Chunk - 1) / Chunk);

        /// <summary>float64 scratch for the statistics: per tile or chunk, E means then E sums of squared deviations.</summary>
        public long StatsLength => 2L * E * Math.Max(Tiles, Chunks);
    }

    /// <summary>
    /// One member's block rest with strips on raw memory: z, r and o [E, P]; <paramref name="stats"/>
    /// (<see cref="BlockRestShape.StatsLength"/> doubles) and <paramref name="affine"/> (6·E floats) are scratch.
    /// </summary>
    /// <remarks>With <paramref name="norm0Gathered"/>, <paramref name="stats"/> already holds norm0's per-chunk statistics of z
    /// (<see cref="ChannelStatistics"/> over every channel). With <paramref name="deferNormSkip"/> (and norm1) the last
    /// pass, out = norm1(out) + skip, is left to the caller (<see cref="NormSkipDecoderInto"/>), with norm1's (mean,
    /// scale, shift) at affine[3E..6E).</remarks>
    internal static void BlockRestInto(float* zP, float* rP, float* oP, BlockRestShape shape, BlockWeights w, string activation,
        double* stats, float* affine, bool norm0Gathered = false, bool deferNormSkip = false)
    {
        int e = shape.E;
        long p = shape.P, tile = shape.Tile, chunk = shape.Chunk;
        Norm0Affine(zP, shape, w, stats, affine, norm0Gathered);
        float* m0 = w.Norm0 ? affine : null, g0 = w.Norm0 ? affine + e : null, h0 = w.Norm0 ? affine + 2 * e : null;
        // With an MLP and norm1, norm1's statistics are gathered per tile while the strips are written.
        bool fusedStats = w.HasMlp && w.Norm1;
        var mlp = w.Mlp;
        SfnoWorkers.ForSteps(p, tile, (s, n) =>
            PointwiseStrips.BlockRest(zP, rP, oP, p, s, (int)n, e, m0, g0, h0, activation, mlp, w.Norm1 ? null : w.Skip,
                fusedStats ? stats + s / tile * 2 * e : null));
        if (!w.Norm1) return;
        float* m1 = affine + 3 * e, g1 = affine + 4 * e, h1 = affine + 5 * e;
        if (fusedStats) AffineFromChunks(stats, 2 * e, e, p, tile, w.Gamma1, w.Beta1, w.Eps1, m1, g1, h1);
        else NormAffineInto(oP, e, p, chunk, w.Gamma1, w.Beta1, w.Eps1, stats, m1, g1, h1);
        if (deferNormSkip) return;
        SfnoWorkers.ForSteps(p, chunk, (s, n) => PointwiseStrips.NormSkip(rP, oP, p, s, (int)n, e, m1, g1, h1, w.Skip));
    }

    /// <summary>
    /// The last block's final pass and the decoder in one: per strip, y = norm1(o) + skip(r) into an L1 strip (the same
    /// operations as <see cref="PointwiseStrips.NormSkip"/>), then the decoder on it into <paramref name="output"/>
    /// [out, P] (+ the big skip of <paramref name="input"/>); the block's output field is never written. norm1's affine
    /// at affine[3E..6E) (<see cref="BlockRestInto"/> with deferNormSkip).
    /// </summary>
    internal static void NormSkipDecoderInto(float* rP, float* oP, BlockRestShape shape, BlockWeights w, float* affine,
        float* input, float* output, EncoderDecoderWeights decoder, string activation)
    {
        int e = shape.E;
        long p = shape.P;
        float* m1 = affine + 3 * e, g1 = affine + 4 * e, h1 = affine + 5 * e;
        long tile = TileFor(Math.Max(decoder.Hidden, decoder.Out), p, ScalarType.Float32);
        var dec = new PointwiseStrips.Mlp(decoder.W1, decoder.B1, decoder.Hidden, decoder.W2, decoder.B2);
        SfnoWorkers.ForSteps(p, tile, (s, n) => PointwiseStrips.NormSkipDecoder(rP, oP, p, s, (int)n, e, m1, g1, h1, w.Skip,
            input, output, decoder.SkipIn, decoder.Out, activation, dec, decoder.Skip));
    }

    /// <summary>Whether <see cref="NormSkipDecoderInto"/> takes this block and decoder.</summary>
    internal static bool NormSkipDecoderFits(BlockRestShape shape, BlockWeights w, EncoderDecoderWeights decoder) =>
        shape.Strips && w.Norm1 && decoder.Strips && decoder.In == shape.E;

    /// <summary>norm0's (mean, scale, shift) of z into affine[0..3E) (nothing without norm0), from the statistics already
    /// in <paramref name="stats"/> when <paramref name="gathered"/>.</summary>
    static void Norm0Affine(float* zP, BlockRestShape shape, BlockWeights w, double* stats, float* affine, bool gathered)
    {
        if (!w.Norm0) return;
        int e = shape.E;
        if (gathered) AffineFromChunks(stats, 2 * e, e, shape.P, shape.Chunk, w.Gamma0, w.Beta0, w.Eps0, affine, affine + e, affine + 2 * e);
        else NormAffineInto(zP, e, shape.P, shape.Chunk, w.Gamma0, w.Beta0, w.Eps0, stats, affine, affine + e, affine + 2 * e);
    }

    /// <summary><see cref="BlockRestInto"/> with MKL tiles (layers too wide for the strips).</summary>
    internal static void BlockRestTiles(float* zP, float* rP, float* oP, BlockRestShape shape, BlockWeights w, string activation,
        double* stats, float* affine)
    {
        int e = shape.E, hidden = shape.Hidden;
        long p = shape.P, tile = shape.Tile, chunk = shape.Chunk;
        Norm0Affine(zP, shape, w, stats, affine, gathered: false);
        float* m0 = w.Norm0 ? affine : null, g0 = w.Norm0 ? affine + e : null, h0 = w.Norm0 ? affine + 2 * e : null;
        SfnoWorkers.ForSteps(p, tile, (s, n) =>
        {
            int nn = (int)n;
            if (!w.HasMlp) PointwiseKernels.NormAct(zP + s, p, oP + s, p, e, nn, m0, g0, h0, activation);
            else
            {
                using var t = torch.empty([e, n], dtype: ScalarType.Float32);
                using var h = torch.empty([hidden, n], dtype: ScalarType.Float32);
                float* tP = Ptr(t), hP = Ptr(h);
                PointwiseKernels.NormAct(zP + s, p, tP, n, e, nn, m0, g0, h0, activation);
                Gemm(w.W1, hidden, e, tP, n, hP, n, nn, accumulate: false);
                PointwiseKernels.BiasAct(hP, hidden, nn, w.B1, activation);
                if (w.B2 is not null) PointwiseKernels.FillRows(oP + s, p, e, nn, w.B2);
                Gemm(w.W2, e, hidden, hP, n, oP + s, p, nn, accumulate: w.B2 is not null);
            }
            if (!w.Norm1) Gemm(w.Skip, e, e, rP + s, p, oP + s, p, nn, accumulate: true);
        });
        if (!w.Norm1) return;
        float* m1 = affine + 3 * e, g1 = affine + 4 * e, h1 = affine + 5 * e;
        NormAffineInto(oP, e, p, chunk, w.Gamma1, w.Beta1, w.Eps1, stats, m1, g1, h1);
        SfnoWorkers.ForSteps(p, chunk, (s, n) =>
        {
            PointwiseKernels.Norm(oP + s, p, e, (int)n, m1, g1, h1);
            Gemm(w.Skip, e, e, rP + s, p, oP + s, p, (int)n, accumulate: true);
        });
    }

    /// <summary><see cref="EncoderDecoder"/> on the native kernels (gemm, bias + activation in one pass, gemm, skip gemm).</summary>
    static Tensor EncoderDecoderNative(Tensor x, Conv2d first, Conv2d last, string activation, Conv2d? skip, Tensor? skipInput)
    {
        using var scope = torch.NewDisposeScope();
        long batch = x.shape[0], p = x.shape[2] * x.shape[3];
        var output = torch.empty([batch, last.weight!.shape[0], x.shape[2], x.shape[3]], dtype: x.dtype);
        var w = EncoderDecoderWeights.Of(first, last, skip, (int)x.shape[1], (int)(skipInput?.shape[1] ?? 0));
        for (long b = 0; b < batch; b++)
            EncoderDecoderInto(Ptr(x[b]), skipInput is null ? null : Ptr(skipInput[b]), Ptr(output[b]), p, w, activation, Strips);
        GC.KeepAlive(w);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>An encoder's or decoder's weights as raw float32 pointers (and the big skip's, if any).</summary>
    internal sealed class EncoderDecoderWeights
    {
        readonly List<Tensor> _copies = [];
        public float* W1, B1, W2, B2, Skip;
        public int In, Hidden, Out, SkipIn;

        public static EncoderDecoderWeights Of(Conv2d first, Conv2d last, Conv2d? skip, int cin, int cskip)
        {
            var w = new EncoderDecoderWeights { In = cin, Hidden = (int)first.weight!.shape[0], Out = (int)last.weight!.shape[0], SkipIn = skip is null ? 0 : cskip };
            w.W1 = WeightPtr(first.weight, w._copies);
            w.B1 = WeightPtr(first.bias, w._copies);
            w.W2 = WeightPtr(last.weight, w._copies);
            w.B2 = WeightPtr(last.bias, w._copies);
            w.Skip = WeightPtr(skip?.weight, w._copies);
            return w;
        }

        public bool Strips => PointwiseStrips.Fits(In) && PointwiseStrips.Fits(Hidden, SkipIn);
    }

    /// <summary>One member of an encoder or decoder on raw memory: x [in, P], xs [skip in, P] (or null), out [out, P].</summary>
    internal static void EncoderDecoderInto(float* xP, float* sP, float* oP, long p, EncoderDecoderWeights w, string activation, bool strips)
    {
        int cin = w.In, hidden = w.Hidden, cout = w.Out;
        long tile = TileFor(Math.Max(hidden, cout), p, ScalarType.Float32);
        strips &= w.Strips;
        SfnoWorkers.ForSteps(p, tile, (s, n) =>
        {
            int nn = (int)n;
            if (strips)
            {
                PointwiseStrips.EncoderDecoder(xP, sP, oP, p, s, nn, cin, w.SkipIn, cout, activation,
                    new PointwiseStrips.Mlp(w.W1, w.B1, hidden, w.W2, w.B2), w.Skip);
                return;
            }
            using var h = torch.empty([hidden, n], dtype: ScalarType.Float32);
            float* hP = Ptr(h);
            Gemm(w.W1, hidden, cin, xP + s, p, hP, n, nn, accumulate: false);
            PointwiseKernels.BiasAct(hP, hidden, nn, w.B1, activation);
            if (w.B2 is not null) PointwiseKernels.FillRows(oP + s, p, cout, nn, w.B2);
            Gemm(w.W2, cout, hidden, hP, n, oP + s, p, nn, accumulate: w.B2 is not null);
            if (sP is not null) Gemm(w.Skip, cout, w.SkipIn, sP + s, p, oP + s, p, nn, accumulate: true);
        });
    }

    /// <summary>
    /// An instance norm's (mean, scale, shift) of a contiguous float32 field x [C, P] in C#: per chunk (a piece) and
    /// channel the mean and the sum of squared deviations accumulated in float64 in one pass over the chunk's row into
    /// <paramref name="stats"/> (2·C doubles per chunk), chunks combined in order (Chan et al.); no libtorch ops.
    /// </summary>
    static void NormAffineInto(float* x, int c, long p, long chunk, float* gamma, float* beta, double eps, double* stats,
        float* mean, float* scale, float* shift)
    {
        int count = (int)((p + chunk - 1) / chunk);
        SfnoWorkers.ForEach(count, null, i =>
        {
            long s = i * chunk, n = Math.Min(chunk, p - s);
            for (int ch = 0; ch < c; ch++)
                (stats[i * 2 * c + ch], stats[i * 2 * c + c + ch]) = PointwiseKernels.MeanAndM2(x + ch * p + s, n);
        });
        AffineFromChunks(stats, 2 * c, c, p, chunk, gamma, beta, eps, mean, scale, shift);
    }

    /// <summary>
    /// The statistics <see cref="NormAffineInto"/> gathers, for the channels [first, first + count) only (the same sums
    /// into the same slots: per chunk of <paramref name="chunk"/> points, c means then c sums of squared deviations), so
    /// a producer of some channels can gather them while they are in cache.
    /// </summary>
    internal static void ChannelStatistics(float* x, int c, long p, long chunk, long first, long count, double* stats)
    {
        int chunks = (int)((p + chunk - 1) / chunk);
        for (long ch = first; ch < first + count; ch++)
            for (int i = 0; i < chunks; i++)
            {
                long s = i * chunk;
                (stats[i * 2 * c + ch], stats[i * 2 * c + c + ch]) = PointwiseKernels.MeanAndM2(x + ch * p + s, Math.Min(chunk, p - s));
            }
    }

    /// <summary>
    /// The norm's (mean, scale, shift) from per-chunk statistics: chunk i's means at stats[i·stride + ch] and its sums of
    /// squared deviations at stats[i·stride + c + ch], chunks of <paramref name="chunk"/> points combined in order (Chan);
    /// the affine weight and bias (float32, may be null) applied in float64.
    /// </summary>
    static void AffineFromChunks(double* stats, int stride, int c, long p, long chunk, float* gamma, float* beta, double eps,
        float* mean, float* scale, float* shift)
    {
        int count = (int)((p + chunk - 1) / chunk);
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
            double rstd = 1.0 / Math.Sqrt(m2 / p + eps);
            mean[ch] = (float)total;
            scale[ch] = (float)(gamma is null ? rstd : rstd * gamma[ch]);
            shift[ch] = (float)(beta is null ? 0.0 : beta[ch]);
        }
    }

    /// <summary>
    /// A float32 parameter's data (null for none): its own memory when contiguous (parameters normally are; a conv
    /// weight [out, in, 1, 1] is then row-major [out, in]), else a contiguous copy kept in <paramref name="copies"/>.
    /// </summary>
    static float* WeightPtr(Tensor? t, List<Tensor> copies)
    {
        if (t is null) return null;
        if (t.dtype != ScalarType.Float32) throw new ArgumentException($"native SFNO kernels take float32 weights, not {t.dtype}");
        if (!t.is_contiguous())
        {
            t = t.contiguous().DetachFromDisposeScope();
            copies.Add(t);
        }
        return Ptr(t);
    }
}
