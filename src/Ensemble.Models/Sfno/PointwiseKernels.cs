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
    // float): the rational minimax form used by Eigen and XLA for float, ≈ 20 vector operations and no exp. Its
    // absolute error (≈ 1e−7) is that of libtorch's own vectorised erf; tested against the float64 erf form.
    const float InvSqrt2 = 0.70710678118654752f;
    const float Al1 = -1.60960333262415e-02f, Al3 = -2.95459980854025e-03f, Al5 = -7.34990630326855e-04f,
        Al7 = -5.69250639462346e-05f, Al9 = -2.10102402082508e-06f, Al11 = 2.77068142495902e-08f, Al13 = -2.72614225801306e-10f;
    const float Be0 = -1.42647390514189e-02f, Be2 = -7.37332916720468e-03f, Be4 = -1.68282697438203e-03f,
        Be6 = -2.13374055278905e-04f, Be8 = -1.45660718464996e-05f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Gelu(Vector256<float> x)
    {
        var zx = x * Vector256.Create(InvSqrt2);
        var z = Vector256.Min(Vector256.Max(zx, Vector256.Create(-4f)), Vector256.Create(4f));
        var z2 = z * z;
        var p = Vector256.FusedMultiplyAdd(z2, Vector256.Create(Al13), Vector256.Create(Al11));
        p = Vector256.FusedMultiplyAdd(z2, p, Vector256.Create(Al9));
        p = Vector256.FusedMultiplyAdd(z2, p, Vector256.Create(Al7));
        p = Vector256.FusedMultiplyAdd(z2, p, Vector256.Create(Al5));
        p = Vector256.FusedMultiplyAdd(z2, p, Vector256.Create(Al3));
        p = Vector256.FusedMultiplyAdd(z2, p, Vector256.Create(Al1));
        var q = Vector256.FusedMultiplyAdd(z2, Vector256.Create(Be8), Vector256.Create(Be6));
        q = Vector256.FusedMultiplyAdd(z2, q, Vector256.Create(Be4));
        q = Vector256.FusedMultiplyAdd(z2, q, Vector256.Create(Be2));
        q = Vector256.FusedMultiplyAdd(z2, q, Vector256.Create(Be0));
        var erf = z * p * Reciprocal(q);
        // erf(z) rounds to ±1 in float for |z| ≥ 3.9: exactly ±1 there, so GELU is exactly 0 and x in the tails.
        var saturated = Vector256.ConditionalSelect(Vector256.LessThan(zx, Vector256<float>.Zero), Vector256.Create(-1f), Vector256<float>.One);
        erf = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(Vector256.Abs(zx), Vector256.Create(3.9f)), saturated, erf);
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
        float z = Math.Clamp(x * InvSqrt2, -4f, 4f), z2 = z * z;
        float p = MathF.FusedMultiplyAdd(z2, Al13, Al11);
        p = MathF.FusedMultiplyAdd(z2, p, Al9);
        p = MathF.FusedMultiplyAdd(z2, p, Al7);
        p = MathF.FusedMultiplyAdd(z2, p, Al5);
        p = MathF.FusedMultiplyAdd(z2, p, Al3);
        p = MathF.FusedMultiplyAdd(z2, p, Al1);
        float q = MathF.FusedMultiplyAdd(z2, Be8, Be6);
        q = MathF.FusedMultiplyAdd(z2, q, Be4);
        q = MathF.FusedMultiplyAdd(z2, q, Be2);
        q = MathF.FusedMultiplyAdd(z2, q, Be0);
        float half = 0.5f * x;
        float erf = MathF.Abs(x * InvSqrt2) >= 3.9f ? MathF.CopySign(1f, x) : z * p / q;
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
