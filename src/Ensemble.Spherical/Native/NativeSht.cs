using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using Ensemble.Core;
using Ensemble.Core.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical.Native;

/// <summary>
/// The degree-major scalar SHT pair (<see cref="RealSHT.ForwardDegreeMajor"/>, <see cref="InverseRealSHT.InverseDegreeMajor"/>)
/// on CPU: float32 DFTs eight rows at a time straight to and from the [m, k, b] order layout the Legendre step reads
/// (<see cref="VerticalRealDft"/>; other lengths and float64: contiguous MKL DFTI batches and one move of each chunk's
/// orders m &lt; mmax, an L1-friendly loop), and the Legendre step one product per order m (<see cref="SmallGemm"/> or
/// BLAS) whose leading dimensions address the degree-major coefficients in place, over the degrees l ≥ m only.
/// <see cref="ForwardPieces"/> and <see cref="InversePieces"/> run each Fourier chunk's DFTs and Legendre sums as one
/// piece (the raw-memory SFNO forward). The libtorch path (rfft, permuting copies, bmm per order block, copies into
/// strided slots, irfft with its own padding copy and a copy of each chunk's output) computes the same sums, with
/// about three times the memory traffic. Pieces are those of the libtorch path (Fourier row chunks, Legendre order
/// blocks), so results do not depend on who runs them.
/// Used for float32/float64 CPU tensors that record no gradient while <see cref="NativeKernels"/> are on.
/// </summary>
internal static unsafe class NativeSht
{
    [ThreadStatic] static Dictionary<(bool, bool, long, long, long, long, long), IntPtr>? t_descriptors;

    [ThreadStatic] static bool t_mklLegendre;

    /// <summary>
    /// The float32 Legendre products go to MKL instead of <see cref="SmallGemm"/> (read by the calling thread when a
    /// transform starts; tests and A/B benchmarks). SmallGemm is the default for K up to its limit: at these shapes
    /// (K = nlat or lmax − m, 2B columns) MKL's packing and C-scaling took about half of its time.
    /// </summary>
    internal static bool MklLegendre { get => t_mklLegendre; set => t_mklLegendre = value; }

    [ThreadStatic] static bool t_mklDft;

    /// <summary>
    /// The float32 DFTs go to MKL (one call per chunk of rows, plus the order moves) instead of
    /// <see cref="VerticalRealDft"/> (read per calling thread when a transform starts; tests and A/B benchmarks).
    /// </summary>
    internal static bool MklDft { get => t_mklDft; set => t_mklDft = value; }

    static bool Vertical(bool dbl, int nlon) => !dbl && !MklDft && VerticalRealDft.Supports(nlon);

    /// <summary>Whether a checked input (dtype matching the table) takes the native path: CPU, float32/float64, no gradient.</summary>
    public static bool Applies(Tensor x, Tensor table) =>
        NativeKernels.Active && x.device_type == DeviceType.CPU && table.device_type == DeviceType.CPU
        && (table.dtype is ScalarType.Float32 or ScalarType.Float64) && !(x.requires_grad && torch.is_grad_enabled());

    /// <summary>One thread's committed descriptor for a batch shape (created on first use, kept for the process).</summary>
    static IntPtr Descriptor(bool dbl, bool forward, long nlon, long count, long realDistance, long complexStride, long complexDistance)
    {
        var cache = t_descriptors ??= new();
        var key = (dbl, forward, nlon, count, realDistance, complexStride, complexDistance);
        if (!cache.TryGetValue(key, out var h))
            cache[key] = h = Mkl.RealDescriptor(dbl, forward, nlon, count, realDistance, complexStride, complexDistance);
        return h;
    }

    /// <summary>f[B, nlat, nlon] (any leading shape, product B) → c[lmax, mmax, B] complex (degree-major).</summary>
    public static Tensor Forward(Tensor input, long b, int nlat, int nlon, int lmax, int mmax, TriangularLegendre plan, Tensor table, PieceRunner run)
    {
        bool dbl = table.dtype == ScalarType.Float64;
        var x = input.reshape(b, nlat, nlon).contiguous();
        var orders = torch.empty([mmax, nlat, 2 * b], dtype: table.dtype);
        var result = torch.empty([lmax, mmax, 2 * b], dtype: table.dtype);
        ForwardInto((byte*)Mkl.Data(x), b, nlat, nlon, lmax, mmax, plan, (byte*)Mkl.Data(table), dbl, (byte*)Mkl.Data(orders), (byte*)Mkl.Data(result), run);
        GC.KeepAlive(x);
        GC.KeepAlive(orders);
        GC.KeepAlive(table);
        return torch.view_as_complex(result.view(lmax, mmax, b, 2));
    }

    /// <summary>Elements of the orders buffer of <see cref="ForwardInto"/> and <see cref="InverseInto"/>: [mmax, nlat, 2B].</summary>
    public static long OrdersLength(long b, int nlat, int mmax) => (long)mmax * nlat * 2 * b;

    /// <summary>
    /// <see cref="Forward"/> on raw memory: x [B, nlat, nlon] → result [lmax, mmax, 2B] (complex as re/im pairs), with
    /// <paramref name="orders"/> (<see cref="OrdersLength"/> elements) as the Fourier orders' buffer. Elements are float64
    /// when <paramref name="dbl"/>, else float32, as is the packed <paramref name="table"/>.
    /// </summary>
    public static void ForwardInto(byte* xp, long b, int nlat, int nlon, int lmax, int mmax, TriangularLegendre plan, byte* tp, bool dbl,
        byte* op, byte* rp, PieceRunner run)
    {
        int nfreq = nlon / 2 + 1;
        long n = 2 * b;                                                               // re/im of the B fields
        int size = dbl ? 8 : 4;
        // Orders [m, k, b, re/im], m < mmax; orders above nlon/2 are zero.
        int nf = Math.Min(nfreq, mmax);
        if (nf < mmax) Clear(op + (long)nf * nlat * n * size, (long)(mmax - nf) * nlat * n * size);
        var chunks = ShtShapes.FourierChunks(b, nlat, nlon);
        bool vertical = Vertical(dbl, nlon);
        run(chunks.Length, k => chunks[k].Length, k =>
        {
            var (s, len) = chunks[k];
            // The chunk's rows as one contiguous batch, then its first nf orders moved into [m, k, b] (complex values:
            // 2·size bytes). MKL's batches with the strides of [m, k, b] on the output (no move) measured 1.1–1.6× slower
            // than this (`-- sfno --dft`, docs/benchmarks.md).
            if (vertical)
            {
                VerticalRealDft.Forward((float*)xp, b, nlat, nlon, s, len, nf, (float*)op);
                return;
            }
            byte* sp = (byte*)ThreadScratch.Get(ThreadScratch.Sht, len * nlat * nfreq * 2 * size);
            Mkl.Compute(Descriptor(dbl, true, nlon, len * nlat, nlon, 1, nfreq), true, xp + s * nlat * nlon * size, sp);
            if (dbl) ScatterOrders((System.Numerics.Complex*)sp, (System.Numerics.Complex*)op, s, len, nlat, nfreq, nf, b);
            else ScatterOrders((long*)sp, (long*)op, s, len, nlat, nfreq, nf, b);
        });
        int active = plan.ActiveOrders;
        if (active < mmax)
            for (int l = 0; l < lmax; l++) Clear(rp + ((long)l * mmax + active) * n * size, (mmax - active) * n * size);
        double scale = 1.0 / nlon;                                                    // rfft norm "forward"
        bool small = !dbl && !MklLegendre && SmallGemm.Supported && nlat <= SmallGemm.MaxInner;   // K = nlat
        var blocks = plan.Blocks;
        run(blocks.Count, i => (double)blocks[i].Count * blocks[i].L, i =>
        {
            var blk = blocks[i];
            for (int c = 0; c < blk.Count; c++)
            {
                int m = blk.M0 + c;
                // c[l, m, :] = 0 for l < m (P_l^m = 0).
                for (int l = 0; l < m; l++) new Span<byte>(rp + ((long)l * mmax + m) * n * size, (int)(n * size)).Clear();
                // Row-major c[l, m, :] (l ≥ m; rows mmax·n apart) = scale · T_m[l, :] · orders[m] (nlat × n):
                // column-major Cᵀ (n × L) = ordersᵀ (n × nlat, ld n) · T_mᵀ (nlat × L, ld nlat).
                int rows = lmax - m;
                long t0 = blk.Offset + ((long)c * blk.L + (m - blk.M0)) * nlat;
                void* a = op + (long)m * nlat * n * size, bt = tp + t0 * size, cc = rp + ((long)m * mmax + m) * n * size;
                if (dbl) Mkl.Gemm((double*)a, (int)n, (double*)bt, nlat, (double*)cc, (int)(mmax * n), (int)n, rows, nlat, scale, 0.0);
                else if (small) SmallGemm.Run((float*)bt, nlat, nlat, (float*)a, n, rows, (int)n, (float*)cc, mmax * n, new GemmEpilogue { Scale = (float)scale });
                else Mkl.Gemm((float*)a, (int)n, (float*)bt, nlat, (float*)cc, (int)(mmax * n), (int)n, rows, nlat, (float)scale, 0f);
            }
        });
    }

    static void Clear(byte* p, long bytes) => System.Runtime.InteropServices.NativeMemory.Clear(p, (nuint)bytes);

    /// <summary>c[lmax, mmax, B] complex (degree-major) → f[B, nlat, nlon].</summary>
    public static Tensor Inverse(Tensor coefficients, long b, int nlat, int nlon, int lmax, int mmax, TriangularLegendre plan, Tensor table, PieceRunner run)
    {
        bool dbl = table.dtype == ScalarType.Float64;
        var c = torch.view_as_real(coefficients.contiguous()).view(lmax, mmax, 2 * b);
        var g = torch.empty([mmax, nlat, 2 * b], dtype: table.dtype);
        var f = torch.empty([b, nlat, nlon], dtype: table.dtype);
        InverseInto((byte*)Mkl.Data(c), b, nlat, nlon, lmax, mmax, plan, (byte*)Mkl.Data(table), dbl, (byte*)Mkl.Data(g), (byte*)Mkl.Data(f), run);
        GC.KeepAlive(c);
        GC.KeepAlive(g);
        GC.KeepAlive(table);
        return f;
    }

    /// <summary>
    /// <see cref="Inverse"/> on raw memory: c [lmax, mmax, 2B] (complex as re/im pairs) → f [B, nlat, nlon], with
    /// <paramref name="gp"/> (<see cref="OrdersLength"/> elements) as the Fourier orders' buffer (see <see cref="ForwardInto"/>).
    /// </summary>
    public static void InverseInto(byte* cp, long b, int nlat, int nlon, int lmax, int mmax, TriangularLegendre plan, byte* tp, bool dbl,
        byte* gp, byte* fp, PieceRunner run)
    {
        int nfreq = nlon / 2 + 1;
        long n = 2 * b;
        int size = dbl ? 8 : 4;
        // Orders [m, k, b, re/im], zero beyond the last active order (the move into the DFT rows pads to nlon/2 + 1).
        int active = plan.ActiveOrders;
        if (active < mmax) Clear(gp + (long)active * nlat * n * size, (long)(mmax - active) * nlat * n * size);
        var blocks = plan.Blocks;
        bool nyquist = nlon % 2 == 0 && nlon / 2 < mmax;
        bool small = !dbl && !MklLegendre && SmallGemm.Supported && lmax <= SmallGemm.MaxInner;  // K = lmax − m
        run(blocks.Count, i => (double)blocks[i].Count * blocks[i].L, i =>
        {
            var blk = blocks[i];
            for (int k = 0; k < blk.Count; k++)
            {
                int m = blk.M0 + k;
                // Row-major g[m] (nlat × n) = T_m[:, l ≥ m] (nlat × L, ld blk.L) · c[l ≥ m, m, :] (L × n, rows mmax·n apart):
                // column-major gᵀ (n × nlat, ld n) = cᵀ (n × L, ld mmax·n) · T_mᵀ (L × nlat, ld blk.L).
                int depth = lmax - m;
                long t0 = blk.Offset + (long)k * nlat * blk.L + (m - blk.M0);
                void* a = cp + ((long)m * mmax + m) * n * size, bt = tp + t0 * size, cc = gp + (long)m * nlat * n * size;
                if (dbl) Mkl.Gemm((double*)a, (int)(mmax * n), (double*)bt, blk.L, (double*)cc, (int)n, (int)n, nlat, depth, 1.0, 0.0);
                else if (small) SmallGemm.Run((float*)bt, blk.L, depth, (float*)a, mmax * n, nlat, (int)n, (float*)cc, n, default);
                else Mkl.Gemm((float*)a, (int)(mmax * n), (float*)bt, blk.L, (float*)cc, (int)n, (int)n, nlat, depth, 1f, 0f);
                // The irfft ignores the imaginary parts of the DC and Nyquist orders (as the libtorch path zeroes them).
                if (m == 0 || (nyquist && m == nlon / 2)) ZeroImaginary(cc, (long)nlat * b, dbl);
            }
        });
        var chunks = ShtShapes.FourierChunks(b, nlat, nlon);
        int nfi = Math.Min(nfreq, mmax);
        bool vertical = Vertical(dbl, nlon);
        run(chunks.Length, k => chunks[k].Length, k =>
        {
            var (s, len) = chunks[k];
            if (vertical)
            {
                VerticalRealDft.Inverse((float*)gp, b, nlat, nlon, s, len, nfi, (float*)fp);
                return;
            }
            // The chunk's orders gathered into contiguous rows of nlon/2 + 1 (zero above mmax), one contiguous batch.
            byte* sp = (byte*)ThreadScratch.Get(ThreadScratch.Sht, len * nlat * nfreq * 2 * size);
            if (dbl) GatherOrders((System.Numerics.Complex*)gp, (System.Numerics.Complex*)sp, s, len, nlat, nfreq, nfi, b);
            else GatherOrders((long*)gp, (long*)sp, s, len, nlat, nfreq, nfi, b);
            Mkl.Compute(Descriptor(dbl, false, nlon, len * nlat, nlon, 1, nfreq), false, sp, fp + s * nlat * nlon * size);
        });
    }

    /// <summary>
    /// Whether <see cref="ForwardPieces"/> and <see cref="InversePieces"/> apply: float32 Legendre products on
    /// <see cref="SmallGemm"/> (K = nlat and lmax − m), which computes every output column on its own, so a piece may take
    /// a range of columns and the sums stay those of <see cref="ForwardInto"/> and <see cref="InverseInto"/> bit for bit.
    /// </summary>
    public static bool FieldPiecesApply(int nlat, int lmax) =>
        !MklLegendre && SmallGemm.Supported && nlat <= SmallGemm.MaxInner && lmax <= SmallGemm.MaxInner;

    /// <summary>
    /// <see cref="ForwardInto"/> (float32) as one set of pieces, one per Fourier row chunk of fields: its DFTs, the move
    /// of its orders and the Legendre products of its columns, so the chunk's orders are still in cache when they are
    /// summed and the transform is one hand-off instead of two. Unlike <see cref="ForwardInto"/> the coefficients with
    /// m &gt; l and the orders m ≥ min(mmax, lmax) are left unwritten (callers read only m ≤ l).
    /// </summary>
    public static PieceSet ForwardPieces(float* xp, long b, int nlat, int nlon, int lmax, int mmax, TriangularLegendre plan, float* tp,
        float* op, float* rp)
    {
        int nfreq = nlon / 2 + 1, nf = Math.Min(nfreq, mmax);
        long n = 2 * b;
        if (nf < plan.ActiveOrders) Clear((byte*)(op + (long)nf * nlat * n), (long)(plan.ActiveOrders - nf) * nlat * n * 4);
        var chunks = ShtShapes.FourierChunks(b, nlat, nlon);
        var blocks = plan.Blocks;
        var scale = new GemmEpilogue { Scale = (float)(1.0 / nlon) };                // rfft norm "forward"
        bool vertical = Vertical(false, nlon);
        double perField = TransformFlops(nlat, nlon, lmax, plan.ActiveOrders);
        return new PieceSet(chunks.Length, k => chunks[k].Length * perField, k =>
        {
            var (s, len) = chunks[k];
            if (vertical) VerticalRealDft.Forward(xp, b, nlat, nlon, s, len, nf, op);
            else
            {
                byte* sp = (byte*)ThreadScratch.Get(ThreadScratch.Sht, len * nlat * nfreq * 8);
                Mkl.Compute(Descriptor(false, true, nlon, len * nlat, nlon, 1, nfreq), true, (byte*)(xp + s * nlat * nlon), sp);
                ScatterOrders((long*)sp, (long*)op, s, len, nlat, nfreq, nf, b);
            }
            foreach (var blk in blocks)
                for (int c = 0; c < blk.Count; c++)
                {
                    int m = blk.M0 + c;
                    long t0 = blk.Offset + ((long)c * blk.L + (m - blk.M0)) * nlat;
                    SmallGemm.Run(tp + t0, nlat, nlat, op + (long)m * nlat * n + 2 * s, n, lmax - m, (int)(2 * len),
                        rp + ((long)m * mmax + m) * n + 2 * s, mmax * n, scale);
                }
        });
    }

    /// <summary>
    /// <see cref="InverseInto"/> (float32) as one set of pieces, one per Fourier row chunk of fields: the Legendre
    /// products of its columns, the move into DFT rows and its DFTs; then <paramref name="after"/>(first field, fields)
    /// while the chunk's output is in cache (e.g. a norm's statistics). Reads only the coefficients with m ≤ l.
    /// </summary>
    public static PieceSet InversePieces(float* cp, long b, int nlat, int nlon, int lmax, int mmax, TriangularLegendre plan, float* tp,
        float* gp, float* fp, Action<long, long>? after = null)
    {
        int nfreq = nlon / 2 + 1, nfi = Math.Min(nfreq, mmax), active = plan.ActiveOrders;
        long n = 2 * b;
        if (active < nfi) Clear((byte*)(gp + (long)active * nlat * n), (long)(nfi - active) * nlat * n * 4);
        bool nyquist = nlon % 2 == 0 && nlon / 2 < mmax;
        bool vertical = Vertical(false, nlon);
        var chunks = ShtShapes.FourierChunks(b, nlat, nlon);
        var blocks = plan.Blocks;
        double perField = TransformFlops(nlat, nlon, lmax, active);
        return new PieceSet(chunks.Length, k => chunks[k].Length * perField, k =>
        {
            var (s, len) = chunks[k];
            foreach (var blk in blocks)
                for (int c = 0; c < blk.Count; c++)
                {
                    int m = blk.M0 + c;
                    long t0 = blk.Offset + (long)c * nlat * blk.L + (m - blk.M0);
                    float* g = gp + (long)m * nlat * n + 2 * s;
                    SmallGemm.Run(tp + t0, blk.L, lmax - m, cp + ((long)m * mmax + m) * n + 2 * s, mmax * n, nlat, (int)(2 * len), g, n, default);
                    // The irfft ignores the imaginary parts of the DC and Nyquist orders (as the libtorch path zeroes them).
                    if (m == 0 || (nyquist && m == nlon / 2))
                        for (int k2 = 0; k2 < nlat; k2++) ZeroImaginary(g + (long)k2 * n, len, false);
                }
            if (vertical) VerticalRealDft.Inverse(gp, b, nlat, nlon, s, len, nfi, fp);
            else
            {
                byte* sp = (byte*)ThreadScratch.Get(ThreadScratch.Sht, len * nlat * nfreq * 8);
                GatherOrders((long*)gp, (long*)sp, s, len, nlat, nfreq, nfi, b);
                Mkl.Compute(Descriptor(false, false, nlon, len * nlat, nlon, 1, nfreq), false, sp, (byte*)(fp + s * nlat * nlon));
            }
            after?.Invoke(s, len);
        });
    }

    /// <summary>Work of one field's transform for piece costs: the DFTs (2.5·N·log2 N per row) and the Legendre sums.</summary>
    static double TransformFlops(int nlat, int nlon, int lmax, int active)
    {
        double tri = 0;
        for (int m = 0; m < active; m++) tri += lmax - m;
        return nlat * (2.5 * nlon * Math.Log2(Math.Max(2, nlon)) + 4 * tri);
    }

    static void ZeroImaginary(void* p, long count, bool dbl)
    {
        if (dbl)
        {
            double* d = (double*)p;
            for (long i = 0; i < count; i++) d[2 * i + 1] = 0;
        }
        else
        {
            float* s = (float*)p;
            for (long i = 0; i < count; i++) s[2 * i + 1] = 0;
        }
    }

    /// <summary>orders[m, k, s + j] = rows[(j·nlat + k)·nfreq + m] for m &lt; nf (complex elements T).</summary>
    static void ScatterOrders<T>(T* rows, T* orders, long s, long len, int nlat, int nfreq, int nf, long b) where T : unmanaged =>
        MoveOrders(rows, orders, s, len, nlat, nfreq, nf, b, toOrders: true);

    /// <summary>rows[(j·nlat + k)·nfreq + m] = orders[m, k, s + j] for m &lt; nf, zero for nf ≤ m &lt; nfreq.</summary>
    static void GatherOrders<T>(T* orders, T* rows, long s, long len, int nlat, int nfreq, int nf, long b) where T : unmanaged =>
        MoveOrders(rows, orders, s, len, nlat, nfreq, nf, b, toOrders: false);

    /// <summary>
    /// The move between the DFT rows [j, k, m] (m &lt; nfreq) and the orders [m, k, b] in either direction, per latitude k
    /// and field j: one contiguous row on the DFT side, nf lines on the orders side that stay in L1 over j. complex64 moves
    /// 4 fields × 4 orders per 4×4 register transpose. Towards the rows, the orders nf ≤ m &lt; nfreq are zeroed.
    /// </summary>
    static void MoveOrders<T>(T* rows, T* orders, long s, long len, int nlat, int nfreq, int nf, long b, bool toOrders) where T : unmanaged
    {
        long step = (long)nlat * b, rs = (long)nlat * nfreq;
        for (long k = 0; k < nlat; k++)
        {
            long j = 0;
            if (sizeof(T) == 8 && Avx.IsSupported)
                for (; j + 4 <= len; j += 4)
                {
                    double* r = (double*)(rows + (j * nlat + k) * nfreq);
                    double* o = (double*)(orders + k * b + s + j);
                    int m = 0;
                    for (; m + 4 <= nf; m += 4)
                        if (toOrders) RegisterTranspose.Transpose4(r + m, rs, o + m * step, step);
                        else RegisterTranspose.Transpose4(o + m * step, step, r + m, rs);
                    for (; m < nf; m++)
                        for (int q = 0; q < 4; q++)
                            if (toOrders) o[m * step + q] = r[q * rs + m];
                            else r[q * rs + m] = o[m * step + q];
                }
            for (; j < len; j++)
            {
                T* r = rows + (j * nlat + k) * nfreq;
                T* o = orders + k * b + s + j;
                for (int m = 0; m < nf; m++)
                    if (toOrders) o[m * step] = r[m];
                    else r[m] = o[m * step];
            }
            if (!toOrders)
                for (long f = 0; f < len; f++) new Span<T>(rows + (f * nlat + k) * nfreq + nf, nfreq - nf).Clear();
        }
    }
}
