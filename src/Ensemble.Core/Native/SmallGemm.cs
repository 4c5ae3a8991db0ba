using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ensemble.Core.Native;

/// <summary>What happens to a block of <see cref="SmallGemm"/> results before they are stored (in this order).</summary>
public readonly unsafe struct GemmEpilogue
{
    /// <summary>Factor on the product (BLAS's alpha; null: 1).</summary>
    public float? Scale { get; init; }

    /// <summary>Per-row bias added to the product (null: none).</summary>
    public float* Bias { get; init; }

    /// <summary>Activation applied last ("gelu", "relu" or null).</summary>
    public string? Activation { get; init; }

    /// <summary>Adds the output's existing values to the product (beta = 1).</summary>
    public bool Accumulate { get; init; }

    /// <summary>
    /// With <see cref="Accumulate"/>, the existing values are first normalised per row: (y − mean)·scale + shift (an
    /// instance norm's affine, so the norm pass and the skip gemm are one pass over the output).
    /// </summary>
    public float* NormMean { get; init; }
    public float* NormScale { get; init; }
    public float* NormShift { get; init; }
}

/// <summary>
/// float32 products with small inner dimensions (K ≤ <see cref="SmallGemm.MaxInner"/>) by AVX2/FMA register blocking:
/// out[o, j] = epilogue(Σ_k w[o, k]·x[k, j] + Σ_k w2[o, k]·x2[k, j]) over row-major operands with row strides. Used for
/// the SFNO's 1×1 convs (K = channels) and the SHT's per-order Legendre products (K = latitudes or degrees). At these
/// shapes MKL packs the x panel and scales C on every call (≈ 10 % of its time in the SFNO) and cannot fuse a bias, an
/// activation, a second product or a norm of the existing output; here each 6×16 or 4×16 block of the output stays in
/// registers from the first multiply to its single store. Summation order is fixed by the shapes alone (k ascending,
/// the second product after the first, each output column on its own), so results do not depend on how a caller
/// splits the columns or rows.
/// </summary>
[SkipLocalsInit] // the stack scratches are written before they are read; zeroing them cost as much as a small product
public static unsafe class SmallGemm
{
    /// <summary>AVX2 and FMA present (the kernel's only requirement; otherwise callers use BLAS).</summary>
    public static bool Supported => Fma.IsSupported && Avx2.IsSupported;

    const int Rows = 4, Cols = 16;

    /// <summary>Largest k + k2 (the panel scratch lives on the stack; larger layers take MKL).</summary>
    public const int MaxInner = 256;

    /// <summary>
    /// out[o, j] = epilogue(w·x (+ w2·x2)) for o &lt; <paramref name="rows"/>, j &lt; <paramref name="n"/>; w is row-major
    /// [rows, k] (rows k apart), x is [k, n] with rows <paramref name="ldx"/> floats apart, output rows
    /// <paramref name="ldo"/> apart. w2/x2 (may be null) add a second product of inner size <paramref name="k2"/>.
    /// </summary>
    public static void Run(float* w, int k, float* x, long ldx, float* w2, int k2, float* x2, long ldx2,
        int rows, int n, float* output, long ldo, in GemmEpilogue epilogue) =>
        Run(w, k, k, x, ldx, w2, k2, k2, x2, ldx2, rows, n, output, ldo, epilogue);

    /// <summary>One product, w's rows <paramref name="ldw"/> floats apart: out = epilogue(w·x).</summary>
    public static void Run(float* w, long ldw, int k, float* x, long ldx, int rows, int n, float* output, long ldo, in GemmEpilogue epilogue) =>
        Run(w, ldw, k, x, ldx, null, 0, 0, null, 0, rows, n, output, ldo, epilogue);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Run(float* w, long ldw, int k, float* x, long ldx, float* w2, long ldw2, int k2, float* x2, long ldx2,
        int rows, int n, float* output, long ldo, in GemmEpilogue epilogue)
    {
        int act = epilogue.Activation switch { null => 0, "gelu" => 1, "relu" => 2, var a => throw new ArgumentException($"activation '{a}'") };
        int kk2 = w2 is null ? 0 : k2;
        if (k + kk2 > MaxInner) throw new ArgumentException($"SmallGemm: inner size {k + kk2} > {MaxInner}");
        // A 16-column panel of x (and x2) is read by every row block. Rows a multiple of 1 KB apart (tiles of a power-of-two
        // width) fall into few L1 sets and thrash, so such panels, and the zero-padded last one, are copied to a
        // contiguous scratch first; others are read in place.
        float* scratch = stackalloc float[(k + kk2) * Cols];
        bool pack = ldx % 256 == 0, pack2 = ldx2 % 256 == 0;
        // Six-row blocks where the rest splits into four-row ones (32 rows: 4 × 6 + 2 × 4).
        int six = rows / 6;
        while (six > 0 && (rows - 6 * six) % Rows != 0) six--;
        for (int j = 0; j < n; j += Cols)
        {
            int cols = Math.Min(Cols, n - j);
            float* panel = x + j, panel2 = x2 is null ? null : x2 + j;
            long lp = ldx, lp2 = ldx2;
            if (pack || cols < Cols)
            {
                Pack(x + j, ldx, k, scratch, cols);
                panel = scratch;
                lp = Cols;
            }
            if (kk2 != 0 && (pack2 || cols < Cols))
            {
                Pack(x2 + j, ldx2, kk2, scratch + k * Cols, cols);
                panel2 = scratch + k * Cols;
                lp2 = Cols;
            }
            int o = 0;
            for (; o < 6 * six; o += 6)
                Block<Six>(w + o * ldw, ldw, k, panel, lp, w2 is null ? null : w2 + o * ldw2, ldw2, kk2, panel2, lp2, output + o * ldo + j, ldo, o, cols, epilogue, act);
            for (; o + Rows <= rows; o += Rows)
                Block<Four>(w + o * ldw, ldw, k, panel, lp, w2 is null ? null : w2 + o * ldw2, ldw2, kk2, panel2, lp2, output + o * ldo + j, ldo, o, cols, epilogue, act);
            for (; o < rows; o++)
                Block<One>(w + o * ldw, ldw, k, panel, lp, w2 is null ? null : w2 + o * ldw2, ldw2, kk2, panel2, lp2, output + o * ldo + j, ldo, o, cols, epilogue, act);
        }
    }

    /// <summary>dst[i, 0..16] = src[i, 0..cols] (zero beyond) for i &lt; k; src rows ld apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Pack(float* src, long ld, int k, float* dst, int cols)
    {
        if (cols == Cols)
            for (int i = 0; i < k; i++, src += ld, dst += Cols)
            {
                Vector256.Store(Load(src), dst);
                Vector256.Store(Load(src + 8), dst + 8);
            }
        else
            for (int i = 0; i < k; i++, src += ld, dst += Cols)
                for (int c = 0; c < Cols; c++) dst[c] = c < cols ? src[c] : 0f;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Load(float* p) => Vector256.Load(p);

    /// <summary>Row counts of the register blocks, 1, 4 or 6 (type arguments, so the JIT compiles one unrolled kernel per count).</summary>
    interface IRows { static abstract int Count { get; } }
    struct Six : IRows { public static int Count => 6; }
    struct Four : IRows { public static int Count => 4; }
    struct One : IRows { public static int Count => 1; }

    /// <summary>
    /// T.Count output rows × 16 columns into <paramref name="c"/> and the second product (if any) added, then the
    /// epilogue per row. The products write their accumulators to a stack scratch: nothing is called while they are live
    /// (every ymm register is caller-saved on System V, and the JIT spilled all of them around the epilogue's calls).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Block<T>(float* w, long ldw, int k, float* x, long ldx, float* w2, long ldw2, int k2, float* x2, long ldx2,
        float* c, long ldc, int row, int cols, in GemmEpilogue e, int act) where T : struct, IRows
    {
        float* acc = stackalloc float[6 * Cols];
        Product<T>(w, ldw, k, x, ldx, acc, add: false);
        if (k2 != 0) Product<T>(w2, ldw2, k2, x2, ldx2, acc, add: true);
        Epilogue(acc, T.Count, c, ldc, row, cols, e, act);
    }

    /// <summary>
    /// The epilogue of a block's <paramref name="count"/> rows from the accumulator scratch. The epilogue's fields are
    /// read once into locals: through the <c>in</c> reference the JIT reloaded them for every row (a store through
    /// <paramref name="c"/> might alias them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Epilogue(float* acc, int count, float* c, long ldc, int row, int cols, in GemmEpilogue e, int act)
    {
        if (cols != Cols)
        {
            for (int r = 0; r < count; r++) StorePartial(Load(acc + r * Cols), Load(acc + r * Cols + 8), c + r * ldc, row + r, cols, e, act);
            return;
        }
        bool scaled = e.Scale.HasValue, accumulate = e.Accumulate;
        var f = Vector256.Create(e.Scale ?? 1f);
        float* bias = e.Bias, mean = e.NormMean, scale = e.NormScale, shift = e.NormShift;
        for (int r = 0; r < count; r++, acc += Cols, c += ldc)
        {
            var a0 = Load(acc);
            var a1 = Load(acc + 8);
            if (scaled)
            {
                a0 *= f;
                a1 *= f;
            }
            if (accumulate)
            {
                var y0 = Load(c);
                var y1 = Load(c + 8);
                if (mean is not null)
                {
                    var m = Vector256.Create(mean[row + r]);
                    var g = Vector256.Create(scale[row + r]);
                    var h = Vector256.Create(shift[row + r]);
                    y0 = Fma.MultiplyAdd(y0 - m, g, h);
                    y1 = Fma.MultiplyAdd(y1 - m, g, h);
                }
                a0 += y0;
                a1 += y1;
            }
            if (bias is not null)
            {
                var b = Vector256.Create(bias[row + r]);
                a0 += b;
                a1 += b;
            }
            if (act != 0)
            {
                a0 = SimdActivations.Act(a0, act == 1);
                a1 = SimdActivations.Act(a1, act == 1);
            }
            Vector256.Store(a0, c);
            Vector256.Store(a1, c + 8);
        }
    }

    /// <summary>
    /// acc (+)= w[0..T.Count, :]·x[:, 0..16]: two accumulators per row (up to 12 of the 16 ymm registers), per k two
    /// loads of x and one broadcast of w per row. The row guards are constants per instantiation and compile away. The
    /// rows are written out (not a helper returning the pair): the helper form cost a register move per row and measured
    /// 5–10 % slower (`-- sfno --gemm-small`).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Product<T>(float* w, long ldw, int k, float* x, long ldx, float* acc, bool add) where T : struct, IRows
    {
        int n = T.Count;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
            a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        float* w1 = w + ldw, w2 = w + 2 * ldw, w3 = w + 3 * ldw, w4 = w + 4 * ldw, w5 = w + 5 * ldw;   // rows ≥ n never read
        for (int i = 0; i < k; i++, x += ldx)
        {
            var x0 = Load(x);
            var x1 = Load(x + 8);
            var b = Vector256.Create(w[i]);
            a00 = Fma.MultiplyAdd(b, x0, a00);
            a01 = Fma.MultiplyAdd(b, x1, a01);
            if (n < 4) continue;
            b = Vector256.Create(w1[i]);
            a10 = Fma.MultiplyAdd(b, x0, a10);
            a11 = Fma.MultiplyAdd(b, x1, a11);
            b = Vector256.Create(w2[i]);
            a20 = Fma.MultiplyAdd(b, x0, a20);
            a21 = Fma.MultiplyAdd(b, x1, a21);
            b = Vector256.Create(w3[i]);
            a30 = Fma.MultiplyAdd(b, x0, a30);
            a31 = Fma.MultiplyAdd(b, x1, a31);
            if (n < 6) continue;
            b = Vector256.Create(w4[i]);
            a40 = Fma.MultiplyAdd(b, x0, a40);
            a41 = Fma.MultiplyAdd(b, x1, a41);
            b = Vector256.Create(w5[i]);
            a50 = Fma.MultiplyAdd(b, x0, a50);
            a51 = Fma.MultiplyAdd(b, x1, a51);
        }
        Keep(a00, a01, acc, add);
        if (n < 4) return;
        Keep(a10, a11, acc + 16, add);
        Keep(a20, a21, acc + 32, add);
        Keep(a30, a31, acc + 48, add);
        if (n < 6) return;
        Keep(a40, a41, acc + 64, add);
        Keep(a50, a51, acc + 80, add);
    }

    /// <summary>acc[0..16] = (acc[0..16] if <paramref name="add"/>) + (a0, a1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Keep(Vector256<float> a0, Vector256<float> a1, float* acc, bool add)
    {
        if (add)
        {
            a0 += Load(acc);
            a1 += Load(acc + 8);
        }
        Vector256.Store(a0, acc);
        Vector256.Store(a1, acc + 8);
    }

    /// <summary>The last panel's partial row through a 16-float scratch (kept out of <see cref="Epilogue"/>: the JIT does
    /// not inline a method with a stackalloc).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void StorePartial(Vector256<float> a0, Vector256<float> a1, float* c, int row, int cols, in GemmEpilogue e, int act)
    {
        float* t = stackalloc float[Cols];
        for (int i = 0; i < Cols; i++) t[i] = i < cols && e.Accumulate ? c[i] : 0f;
        Finish(ref a0, ref a1, t, row, e, act);
        Vector256.Store(a0, t);
        Vector256.Store(a1, t + 8);
        for (int i = 0; i < cols; i++) c[i] = t[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Finish(ref Vector256<float> a0, ref Vector256<float> a1, float* y, int row, in GemmEpilogue e, int act)
    {
        if (e.Scale is { } scale)
        {
            var f = Vector256.Create(scale);
            a0 *= f;
            a1 *= f;
        }
        if (e.Accumulate)
        {
            var y0 = Load(y);
            var y1 = Load(y + 8);
            if (e.NormMean is not null)
            {
                var m = Vector256.Create(e.NormMean[row]);
                var g = Vector256.Create(e.NormScale[row]);
                var h = Vector256.Create(e.NormShift[row]);
                y0 = Fma.MultiplyAdd(y0 - m, g, h);
                y1 = Fma.MultiplyAdd(y1 - m, g, h);
            }
            a0 += y0;
            a1 += y1;
        }
        if (e.Bias is not null)
        {
            var b = Vector256.Create(e.Bias[row]);
            a0 += b;
            a1 += b;
        }
        if (act != 0)
        {
            a0 = SimdActivations.Act(a0, act == 1);
            a1 = SimdActivations.Act(a1, act == 1);
        }
    }
}
