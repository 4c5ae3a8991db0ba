using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ensemble.Models.Sfno;

/// <summary>
/// The elementwise steps of a pointwise tile in float32, each one pass over a [rows, n] block with a row stride
/// (SIMD, <see cref="Vector256{T}"/>): instance-norm affine and activation fused, bias and activation fused, affine in
/// place, rows filled with a per-row value. The gemms between them are MKL calls (<see cref="PointwiseFusion"/>).
/// </summary>
internal static unsafe class PointwiseKernels
{
    /// <summary>Activations with a native kernel; others take the libtorch path.</summary>
    public static bool Supports(string activation) => activation is "gelu" or "relu";

    // GELU(x) = x/2 · (1 + erf(x/√2)) with erf(z) = z·p(z²)/q(z²) on z clamped to [−4, 4] (beyond, erf is ±1 in
    // float): the rational minimax form used by Eigen and XLA for float, no exp. Its absolute error (≈ 1e−7) is that of
    // libtorch's own vectorised erf; tested against the float64 erf form. Evaluated in x: z = x/√2 is folded into the
    // coefficients (x² = 2z²), and so is a factor 1 + 2⁻²³ that lifts the approximation to ≥ 1 where float's erf is
    // exactly ±1 (|z| ≳ 3.9), so a min/max against ±1 makes GELU exactly 0 and x in the tails (4 fewer operations per
    // vector than scaling z and selecting the tails by comparison).
    const double Sqrt2 = 1.4142135623730950488, Lift = 1.0 + 1.0 / (1 << 23);
    const double Al1 = -1.60960333262415e-02, Al3 = -2.95459980854025e-03, Al5 = -7.34990630326855e-04,
        Al7 = -5.69250639462346e-05, Al9 = -2.10102402082508e-06, Al11 = 2.77068142495902e-08, Al13 = -2.72614225801306e-10;
    const double Be0 = -1.42647390514189e-02, Be2 = -7.37332916720468e-03, Be4 = -1.68282697438203e-03,
        Be6 = -2.13374055278905e-04, Be8 = -1.45660718464996e-05;
    // p'(x²) = Lift/√2 · p(x²/2), q'(x²) = q(x²/2): the k-th coefficient divided by 2^k.
    const float P0 = (float)(Al1 * Lift / Sqrt2), P1 = (float)(Al3 / 2 * Lift / Sqrt2), P2 = (float)(Al5 / 4 * Lift / Sqrt2),
        P3 = (float)(Al7 / 8 * Lift / Sqrt2), P4 = (float)(Al9 / 16 * Lift / Sqrt2), P5 = (float)(Al11 / 32 * Lift / Sqrt2),
        P6 = (float)(Al13 / 64 * Lift / Sqrt2);
    const float Q0 = (float)Be0, Q1 = (float)(Be2 / 2), Q2 = (float)(Be4 / 4), Q3 = (float)(Be6 / 8), Q4 = (float)(Be8 / 16);
    const float XClamp = (float)(4 * Sqrt2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Gelu(Vector256<float> x)
    {
        var xc = Vector256.Min(Vector256.Max(x, Vector256.Create(-XClamp)), Vector256.Create(XClamp));
        var x2 = xc * xc;
        var p = Vector256.FusedMultiplyAdd(x2, Vector256.Create(P6), Vector256.Create(P5));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P4));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P3));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P2));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P1));
        p = Vector256.FusedMultiplyAdd(x2, p, Vector256.Create(P0));
        var q = Vector256.FusedMultiplyAdd(x2, Vector256.Create(Q4), Vector256.Create(Q3));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(Q2));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(Q1));
        q = Vector256.FusedMultiplyAdd(x2, q, Vector256.Create(Q0));
        var erf = Vector256.Min(Vector256.Max(xc * p * Reciprocal(q), Vector256.Create(-1f)), Vector256<float>.One);
        var half = Vector256.Create(0.5f) * x;
        return Vector256.FusedMultiplyAdd(half, erf, half);
    }

    /// <summary>1/q: the 12-bit hardware estimate and one Newton step (≈ 23 bits; a division costs ≈ 3× more here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Reciprocal(Vector256<float> q)
    {
        if (!Avx.IsSupported) return Vector256<float>.One / q;
        var r = Avx.Reciprocal(q);
        return r * Vector256.FusedMultiplyAdd(-q, r, Vector256.Create(2f));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Gelu(float x)
    {
        float xc = Math.Clamp(x, -XClamp, XClamp), x2 = xc * xc;
        float p = MathF.FusedMultiplyAdd(x2, P6, P5);
        p = MathF.FusedMultiplyAdd(x2, p, P4);
        p = MathF.FusedMultiplyAdd(x2, p, P3);
        p = MathF.FusedMultiplyAdd(x2, p, P2);
        p = MathF.FusedMultiplyAdd(x2, p, P1);
        p = MathF.FusedMultiplyAdd(x2, p, P0);
        float q = MathF.FusedMultiplyAdd(x2, Q4, Q3);
        q = MathF.FusedMultiplyAdd(x2, q, Q2);
        q = MathF.FusedMultiplyAdd(x2, q, Q1);
        q = MathF.FusedMultiplyAdd(x2, q, Q0);
        float erf = Math.Clamp(xc * p / q, -1f, 1f), half = 0.5f * x;
        return MathF.FusedMultiplyAdd(half, erf, half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Act(Vector256<float> x, bool gelu) => gelu ? Gelu(x) : Vector256.Max(x, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Act(float x, bool gelu) => gelu ? Gelu(x) : MathF.Max(x, 0f);

    /// <summary>
    /// dst[c, j] = act((src[c, j] − mean[c])·scale[c] + shift[c]) for c &lt; rows, j &lt; n (rows <paramref name="srcStride"/>
    /// and <paramref name="dstStride"/> floats apart); without <paramref name="mean"/>, dst = act(src).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormAct(float* src, long srcStride, float* dst, long dstStride, int rows, int n,
        float* mean, float* scale, float* shift, string activation)
    {
        bool gelu = activation == "gelu";
        for (int c = 0; c < rows; c++)
        {
            float* s = src + c * srcStride, d = dst + c * dstStride;
            float m = mean is null ? 0f : mean[c], g = mean is null ? 1f : scale[c], h = mean is null ? 0f : shift[c];
            var vm = Vector256.Create(m);
            var vg = Vector256.Create(g);
            var vh = Vector256.Create(h);
            int j = 0;
            for (; j <= n - 8; j += 8)
                Vector256.Store(Act(Vector256.FusedMultiplyAdd(Vector256.Load(s + j) - vm, vg, vh), gelu), d + j);
            for (; j < n; j++) d[j] = Act(MathF.FusedMultiplyAdd(s[j] - m, g, h), gelu);
        }
    }

    /// <summary>x[c, j] = act(x[c, j] + bias[c]) in place (x contiguous [rows, n]; no bias: act(x)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BiasAct(float* x, int rows, int n, float* bias, string activation)
    {
        bool gelu = activation == "gelu";
        for (int c = 0; c < rows; c++)
        {
            float* p = x + (long)c * n;
            float b = bias is null ? 0f : bias[c];
            var vb = Vector256.Create(b);
            int j = 0;
            for (; j <= n - 8; j += 8) Vector256.Store(Act(Vector256.Load(p + j) + vb, gelu), p + j);
            for (; j < n; j++) p[j] = Act(p[j] + b, gelu);
        }
    }

    /// <summary>x[c, j] = (x[c, j] − mean[c])·scale[c] + shift[c] in place (rows <paramref name="stride"/> floats apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Norm(float* x, long stride, int rows, int n, float* mean, float* scale, float* shift)
    {
        for (int c = 0; c < rows; c++)
        {
            float* p = x + c * stride;
            var vm = Vector256.Create(mean[c]);
            var vg = Vector256.Create(scale[c]);
            var vh = Vector256.Create(shift[c]);
            int j = 0;
            for (; j <= n - 8; j += 8) Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(p + j) - vm, vg, vh), p + j);
            for (; j < n; j++) p[j] = MathF.FusedMultiplyAdd(p[j] - mean[c], scale[c], shift[c]);
        }
    }

    /// <summary>x[c, j] = values[c] (rows <paramref name="stride"/> floats apart).</summary>
    public static void FillRows(float* x, long stride, int rows, int n, float* values)
    {
        for (int c = 0; c < rows; c++) new Span<float>(x + c * stride, n).Fill(values[c]);
    }

    /// <summary>dst rows = src rows (both with strides).</summary>
    public static void CopyRows(float* src, long srcStride, float* dst, long dstStride, int rows, int n)
    {
        for (int c = 0; c < rows; c++) new ReadOnlySpan<float>(src + c * srcStride, n).CopyTo(new Span<float>(dst + c * dstStride, n));
    }

    /// <summary>
    /// Mean and Σ (x[j] − mean)² of x[0..n) in one pass: float64 sums of the values shifted by x[0] (the shifted-data
    /// form: no cancellation when the mean is large against the spread, as there is none in Σ(x − x0) and Σ(x − x0)²
    /// for data near x0), then M2 = Σd² − (Σd)²/n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double Mean, double M2) MeanAndM2(float* x, long n)
    {
        if (n <= 0) return (0, 0);
        double shift = x[0];
        var k = Vector256.Create(shift);
        Vector256<double> s0 = default, s1 = default, q0 = default, q1 = default;
        long j = 0;
        for (; j <= n - 8; j += 8)
        {
            var (lo, hi) = Vector256.Widen(Vector256.Load(x + j));
            lo -= k;
            hi -= k;
            s0 += lo;
            s1 += hi;
            q0 = Vector256.FusedMultiplyAdd(lo, lo, q0);
            q1 = Vector256.FusedMultiplyAdd(hi, hi, q1);
        }
        double sum = Vector256.Sum(s0 + s1), sq = Vector256.Sum(q0 + q1);
        for (; j < n; j++)
        {
            double d = x[j] - shift;
            sum += d;
            sq += d * d;
        }
        return (shift + sum / n, Math.Max(0, sq - sum * sum / n));
    }
}
