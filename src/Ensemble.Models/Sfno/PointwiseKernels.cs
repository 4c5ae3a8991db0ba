using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ensemble.Core.Native;

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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Act(Vector256<float> x, bool gelu) => SimdActivations.Act(x, gelu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Act(float x, bool gelu) => SimdActivations.Act(x, gelu);

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
        double shift = x[0], sum = 0, sq = 0;
        AddShifted(x, n, shift, ref sum, ref sq);
        return ShiftedToMeanAndM2(shift, sum, sq, n);
    }

    /// <summary>(mean, M2) from the shifted sums Σd and Σd² (d = x − shift) of n values.</summary>
    public static (double Mean, double M2) ShiftedToMeanAndM2(double shift, double sum, double sq, long n) =>
        (shift + sum / n, Math.Max(0, sq - sum * sum / n));

    /// <summary>sum += Σ (x[j] − shift), sq += Σ (x[j] − shift)² for j &lt; n, in float64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddShifted(float* x, long n, double shift, ref double sum, ref double sq)
    {
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
        double a = Vector256.Sum(s0 + s1), b = Vector256.Sum(q0 + q1);
        for (; j < n; j++)
        {
            double d = x[j] - shift;
            a += d;
            b += d * d;
        }
        sum += a;
        sq += b;
    }
}
