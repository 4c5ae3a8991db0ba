using System.Runtime.InteropServices;
using Ensemble.Core.Native;
using Ensemble.Spherical;
using Ensemble.Spherical.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// The float32 CPU inference forward of one member on raw memory: the same kernels and pieces as the layer-by-layer
/// path (<see cref="PointwiseFusion"/>'s strips, <see cref="NativeSht"/>, the per-degree dhconv), called on buffers of
/// a per-thread workspace instead of on tensors. The layer path creates ≈ 230 TorchSharp tensors per member forward
/// (views, empties, small norm tensors), ≈ 2 ms of single-threaded bookkeeping at (b)'s size, and each intermediate is a
/// fresh allocation; here the only tensor is the output, and the buffers are the same (cache-warm) memory every
/// forward. Results equal the layer path's bit for bit (tested), and each member is computed alone, so a member's
/// result does not depend on the batch it came in.
/// </summary>
internal static unsafe class NativeForward
{
    [ThreadStatic] static bool t_off;

    /// <summary>Per calling thread: false sends the forward through the layer path (tests and A/B benchmarks).</summary>
    internal static bool Enabled { get => !t_off; set => t_off = !value; }

    /// <summary>Largest workspace a thread keeps (larger models take the layer path, which frees as it goes).</summary>
    public const long MaxWorkspaceBytes = 512L << 20;

    /// <summary>Whether <paramref name="x"/> (the compute-dtype input) can take this path.</summary>
    public static bool Applies(SphericalFourierNeuralOperatorNet net, Tensor x) =>
        x.device_type == DeviceType.CPU && x.dtype == ScalarType.Float32 && AppliesTo(net);

    /// <summary>Whether the network's CPU float32 inputs take this path now (grad mode, thread count, switches, model).</summary>
    public static bool AppliesTo(SphericalFourierNeuralOperatorNet net)
    {
        if (!Enabled || !NativeKernels.Active || !SmallGemm.Supported || !PointwiseFusion.Strips || !SpectralConv.NativeDhconv) return false;
        if (torch.is_grad_enabled()) return false;
        // One libtorch thread (inside a worker section, or a one-thread caller): the pieces run on the SFNO workers.
        if (torch.get_num_threads() != 1) return false;
        if (net.Encoder.First.weight!.device_type != DeviceType.CPU) return false;
        if (net.Precision.ParamDType != ScalarType.Float32 || net.Precision.ComputeDType != ScalarType.Float32) return false;
        if (net.PosEmbedDirect is not null || net.PosEmbedFrequency is not null) return false;
        if (!PointwiseKernels.Supports(net.Config.ActivationFunction)) return false;
        foreach (var block in net.Blocks)
        {
            var conv = block.Filter.Filter;
            if (conv.Diagonal || conv.Weight.dtype != ScalarType.ComplexFloat32 || !conv.Weight.is_contiguous()) return false;
            if (conv.ForwardTransform.Table.dtype != ScalarType.Float32 || conv.InverseTransform.Table.dtype != ScalarType.Float32) return false;
            if (conv.ForwardTransform.MMax != conv.InverseTransform.MMax || conv.ForwardTransform.LMax != conv.InverseTransform.LMax) return false;
        }
        return Layout.Of(net).Bytes <= MaxWorkspaceBytes;
    }

    /// <summary>
    /// The forward of x [B, C_in, H, W] (float32, contiguous), member by member; returns [B, C_out, H, W].
    /// <paramref name="prepared"/>: the dhconv weights already gathered for this forward call (else, for several
    /// members, gathered here once).
    /// </summary>
    public static Tensor Run(SphericalFourierNeuralOperatorNet net, Tensor x, Prepared? prepared = null)
    {
        var c = net.Config;
        x = x.contiguous();
        long batch = x.shape[0], p0 = (long)c.ImgShapeX * c.ImgShapeY;
        var output = torch.empty([batch, c.NOutChannels, c.ImgShapeX, c.ImgShapeY], dtype: ScalarType.Float32);
        var layout = Layout.Of(net);
        float* xp = (float*)Mkl.Data(x), op = (float*)Mkl.Data(output);
        var weights = Weights.Of(net);
        using var own = prepared is null && batch > 1 ? Prepare(net) : null;
        for (long b = 0; b < batch; b++)
            Member(net, layout, weights, prepared ?? own, xp + b * c.ModelInputChannels * p0, op + b * c.NOutChannels * p0);
        GC.KeepAlive(x);
        GC.KeepAlive(weights);
        return output;
    }

    /// <summary>
    /// The dhconv weights of every block in the degree-major layout the per-degree gemms read ([lmax, E_in, E_out]),
    /// gathered once for one forward call (valid while the weights do not change, i.e. for that call); a member's
    /// forward otherwise gathers them in its own pieces (the same bytes).
    /// </summary>
    public sealed class Prepared : IDisposable
    {
        readonly byte*[] _blocks;

        internal Prepared(byte*[] blocks) => _blocks = blocks;

        public byte* Block(int i) => _blocks[i];

        public void Dispose()
        {
            for (int i = 0; i < _blocks.Length; i++)
            {
                if (_blocks[i] != null) NativeMemory.AlignedFree(_blocks[i]);
                _blocks[i] = null;
            }
        }
    }

    /// <summary>Largest gathered copy of the dhconv weights kept for one forward call (larger: each member gathers its own).</summary>
    public const long MaxPreparedBytes = 64L << 20;

    /// <summary>The gathered dhconv weights for one forward call, or null when they would exceed <see cref="MaxPreparedBytes"/>.</summary>
    public static Prepared? Prepare(SphericalFourierNeuralOperatorNet net)
    {
        int e = net.Config.EmbedDim;
        long bytes = net.Blocks.Sum(k => (long)k.Filter.Filter.ForwardTransform.LMax * e * e * 8);
        if (bytes > MaxPreparedBytes) return null;
        var blocks = new byte*[net.Blocks.Count];
        var prepared = new Prepared(blocks);
        for (int i = 0; i < blocks.Length; i++)
        {
            var conv = net.Blocks[i].Filter.Filter;
            int lmax = conv.ForwardTransform.LMax;
            blocks[i] = (byte*)NativeMemory.AlignedAlloc((nuint)((long)lmax * e * e * 8), 64);
            SpectralConv.GatherWeights((byte*)Mkl.Data(conv.Weight), blocks[i], lmax, e, e);
        }
        GC.KeepAlive(net);
        return prepared;
    }

    /// <summary>The weights' raw views, taken once per forward (parameters may be reloaded between forwards).</summary>
    sealed class Weights
    {
        public required PointwiseFusion.EncoderDecoderWeights Encoder, Decoder;
        public required PointwiseFusion.BlockWeights[] Blocks;

        public static Weights Of(SphericalFourierNeuralOperatorNet net)
        {
            var c = net.Config;
            int e = c.EmbedDim, cin = c.ModelInputChannels;
            return new Weights
            {
                Encoder = PointwiseFusion.EncoderDecoderWeights.Of(net.Encoder.First, net.Encoder.Last, null, cin, 0),
                Decoder = PointwiseFusion.EncoderDecoderWeights.Of(net.Decoder.First, net.Decoder.Last, net.ResidualTransform, e, cin),
                Blocks = net.Blocks.Select(k => PointwiseFusion.BlockWeights.Of(k.Norm0, k.Norm1, k.Mlp, k.OuterSkip)).ToArray(),
            };
        }
    }

    static void Member(SphericalFourierNeuralOperatorNet net, Layout layout, Weights weights, Prepared? prepared, float* input, float* output)
    {
        var c = net.Config;
        string act = c.ActivationFunction;
        int e = c.EmbedDim;
        long p0 = (long)c.ImgShapeX * c.ImgShapeY;
        byte* ws = Workspace.Get(layout.Bytes);
        float* f0 = (float*)(ws + layout.Fields[0]), f1 = (float*)(ws + layout.Fields[1]), f2 = (float*)(ws + layout.Fields[2]);
        byte* orders = ws + layout.Orders, xs = ws + layout.Coefficients, zs = ws + layout.Filtered, wl = ws + layout.DegreeWeights;
        double* stats = (double*)(ws + layout.Stats);
        float* affine = (float*)(ws + layout.Affine);
        PieceRunner run = SfnoWorkers.SpectralPieces;

        PointwiseFusion.EncoderDecoderInto(input, null, f0, p0, weights.Encoder, act, strips: true);
        float* x = f0, spare0 = f1, spare1 = f2;
        for (int i = 0; i < net.Blocks.Count; i++)
        {
            var conv = net.Blocks[i].Filter.Filter;
            RealSHT fwd = conv.ForwardTransform;
            InverseRealSHT inv = conv.InverseTransform;
            int lmax = fwd.LMax, mmax = fwd.MMax;
            long pOut = (long)inv.NLat * inv.NLon;
            var ftable = fwd.Table;
            var itable = inv.Table;
            byte* ft = (byte*)Mkl.Data(ftable), it = (byte*)Mkl.Data(itable);
            var w = weights.Blocks[i];
            var shape = PointwiseFusion.BlockRestShape.Of(e, w.Hidden, pOut);
            // The skip path: inverse(forward(x)) on the output grid when the block changes grid, else x itself. Three
            // field buffers: x, and two spares for the filter's output and (when it changes grid) the skip path.
            float* residual, z, y;
            if (conv.ScaleResidual)
            {
                residual = spare0;
                z = spare1;
                y = x;                                                               // x is consumed by the forward SHT
            }
            else
            {
                residual = x;
                z = spare0;
                y = spare1;
            }
            // The parameter's own [E_in, E_out, lmax] memory, gathered by the dhconv's pieces into wl, or the gathered copy.
            byte* weight = prepared is null ? (byte*)Mkl.Data(conv.Weight) : null, degreeWeights = prepared is null ? wl : prepared.Block(i);
            bool gathered = false;
            if (NativeSht.FieldPiecesApply(fwd.NLat, lmax) && NativeSht.FieldPiecesApply(inv.NLat, lmax))
            {
                // Each transform one set of pieces per field chunk (DFTs and Legendre sums of the same fields back to
                // back); the skip path's inverse and the dhconv are independent and share one set; norm0's statistics
                // are gathered by the inverse's pieces. Five hand-offs per block instead of eight to ten.
                NativeSht.ForwardPieces(x, e, fwd.NLat, fwd.NLon, lmax, mmax, fwd.Plan, (float*)ft, (float*)orders, (float*)xs).Run(run);
                var dhconv = SpectralConv.DegreeGroupPieces(xs, weight, degreeWeights, zs, lmax, mmax, 1, e, e, false);
                if (conv.ScaleResidual)
                    PieceSet.Concat(dhconv, NativeSht.InversePieces((float*)xs, e, inv.NLat, inv.NLon, lmax, mmax, inv.Plan, (float*)it,
                        (float*)orders, residual)).Run(run);
                else dhconv.Run(run);
                gathered = w.Norm0 && shape.Strips;
                float* zz = z;
                double* st = stats;
                long chunk = shape.Chunk;
                NativeSht.InversePieces((float*)zs, e, inv.NLat, inv.NLon, lmax, mmax, inv.Plan, (float*)it, (float*)orders, z,
                    gathered ? (s, len) => PointwiseFusion.ChannelStatistics(zz, e, pOut, chunk, s, len, st) : null).Run(run);
            }
            else
            {
                NativeSht.ForwardInto((byte*)x, e, fwd.NLat, fwd.NLon, lmax, mmax, fwd.Plan, ft, false, orders, xs, run);
                if (conv.ScaleResidual)
                    NativeSht.InverseInto(xs, e, inv.NLat, inv.NLon, lmax, mmax, inv.Plan, it, false, orders, (byte*)residual, run);
                SpectralConv.DegreeGroupsInto(xs, weight, degreeWeights, zs, lmax, mmax, 1, e, e, false, run);
                NativeSht.InverseInto(zs, e, inv.NLat, inv.NLon, lmax, mmax, inv.Plan, it, false, orders, (byte*)z, run);
            }
            bool last = i == net.Blocks.Count - 1 && pOut == p0;
            if (last && PointwiseFusion.NormSkipDecoderFits(shape, w, weights.Decoder))
            {
                // The last block's norm1 + skip pass and the decoder as one pass: the block's output is never written.
                PointwiseFusion.BlockRestInto(z, residual, y, shape, w, act, stats, affine, gathered, deferNormSkip: true);
                PointwiseFusion.NormSkipDecoderInto(residual, y, shape, w, affine, net.ResidualTransform is null ? null : input, output,
                    weights.Decoder, act);
                GC.KeepAlive(ftable);
                GC.KeepAlive(itable);
                GC.KeepAlive(net);
                return;
            }
            if (shape.Strips) PointwiseFusion.BlockRestInto(z, residual, y, shape, w, act, stats, affine, gathered);
            else PointwiseFusion.BlockRestTiles(z, residual, y, shape, w, act, stats, affine);
            GC.KeepAlive(ftable);
            GC.KeepAlive(itable);
            if (!conv.ScaleResidual)
            {
                spare1 = z;
                spare0 = x;
            }
            x = y;
        }
        PointwiseFusion.EncoderDecoderInto(x, net.ResidualTransform is null ? null : input, output, p0, weights.Decoder, act, strips: true);
        GC.KeepAlive(net);
    }

    /// <summary>Byte offsets of the workspace's buffers for a network (64-byte aligned).</summary>
    sealed class Layout
    {
        public long[] Fields = new long[3];
        public long Orders, Coefficients, Filtered, DegreeWeights, Stats, Affine, Bytes;

        public static Layout Of(SphericalFourierNeuralOperatorNet net)
        {
            var c = net.Config;
            long e = c.EmbedDim, field = e * (long)c.ImgShapeX * c.ImgShapeY, orders = 0, coefficients = 0, stats = 0;
            foreach (var block in net.Blocks)
            {
                var conv = block.Filter.Filter;
                RealSHT fwd = conv.ForwardTransform;
                InverseRealSHT inv = conv.InverseTransform;
                field = Math.Max(field, e * fwd.NLat * fwd.NLon);
                field = Math.Max(field, e * inv.NLat * inv.NLon);
                orders = Math.Max(orders, NativeSht.OrdersLength(e, Math.Max(fwd.NLat, inv.NLat), fwd.MMax));
                coefficients = Math.Max(coefficients, (long)fwd.LMax * fwd.MMax * 2 * e);
                int hidden = (int)(block.Mlp?.Fc1.weight!.shape[0] ?? e);
                stats = Math.Max(stats, PointwiseFusion.BlockRestShape.Of((int)e, hidden, (long)inv.NLat * inv.NLon).StatsLength);
            }
            long lmax = net.Blocks.Count == 0 ? 0 : net.Blocks.Max(k => k.Filter.Filter.ForwardTransform.LMax);
            var l = new Layout();
            long at = 0;
            long Take(long bytes)
            {
                long start = at;
                at += (bytes + 63) & ~63L;
                return start;
            }
            for (int i = 0; i < 3; i++) l.Fields[i] = Take(field * 4);
            l.Orders = Take(orders * 4);
            l.Coefficients = Take(coefficients * 4);
            l.Filtered = Take(coefficients * 4);
            l.DegreeWeights = Take(lmax * e * e * 8);
            l.Stats = Take(Math.Max(1, stats) * 8);
            l.Affine = Take(6 * e * 4);
            l.Bytes = at;
            return l;
        }
    }

    /// <summary>One 64-byte aligned native buffer per thread, grown on demand and kept for the thread's life.</summary>
    static class Workspace
    {
        [ThreadStatic] static Holder? t_holder;

        public static byte* Get(long bytes)
        {
            var h = t_holder ??= new Holder();
            if (h.Bytes < bytes)
            {
                h.Free();
                h.Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
                h.Bytes = bytes;
            }
            return h.Pointer;
        }

        // Frees the buffer when the thread's holder is collected (the thread ended).
        sealed class Holder
        {
            public byte* Pointer;
            public long Bytes;

            public void Free()
            {
                if (Pointer != null) NativeMemory.AlignedFree(Pointer);
                Pointer = null;
                Bytes = 0;
            }

            ~Holder() => Free();
        }
    }
}
