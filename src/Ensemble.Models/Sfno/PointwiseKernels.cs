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

    // erf(u) for u ≥ 0 as 1 − r(t)·t·exp(−u²), t = 1/(1 + p·u) (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e−7, the
    // formula of libtorch's vectorised erf); GELU uses 1 + erf(x/√2) = r·t·e for x < 0 directly, which keeps the tail
    // accurate where 1 − (1 − r·t·e) would cancel.
    const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    const float InvSqrt2 = 0.70710678118654752f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Gelu(Vector256<float> x)
    {
        var one = Vector256<float>.One;
        var u = Vector256.Abs(x) * Vector256.Create(InvSqrt2);
        var t = Reciprocal(Vector256.FusedMultiplyAdd(Vector256.Create(P), u, one));
        var r = Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(Vector256.FusedMultiplyAdd(
            Vector256.Create(A5), t, Vector256.Create(A4)), t, Vector256.Create(A3)), t, Vector256.Create(A2)), t, Vector256.Create(A1));
        var q = r * t * ExpNonPositive(-(u * u));                                  // 1 − erf(u)
        var onePlusErf = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), q, Vector256.Create(2f) - q);
        return Vector256.Create(0.5f) * x * onePlusErf;
    }

    /// <summary>1/d for d ≥ 1: the 12-bit hardware estimate and one Newton step (≈ 23 bits; a division costs ≈ 3× more here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Reciprocal(Vector256<float> d)
    {
        if (!Avx.IsSupported) return Vector256<float>.One / d;
        var r = Avx.Reciprocal(d);
        return r * Vector256.FusedMultiplyAdd(-d, r, Vector256.Create(2f));
    }

    // exp on (−∞, 0]: x = n·ln 2 + r, |r| ≤ ln 2 / 2, Cephes' expf polynomial for e^r (≈ 1 ulp), 2^n through the exponent
    // bits; clamped at −87.3 (e^x below 2^−126 is flushed to ≈ 1e−38, far below what GELU can resolve). .NET's
    // Vector256.Exp(float) computes in double and was 3× slower here (measured with perf, docs/benchmarks.md).
    const float Log2E = 1.44269504088896341f, Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> ExpNonPositive(Vector256<float> x)
    {
        x = Vector256.Max(x, Vector256.Create(-87.3f));
        var n = Vector256.Round(x * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), x);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1.9875691500E-4f), r, Vector256.Create(1.3981999507E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(8.3334519073E-3f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(4.1665795894E-2f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1.6666665459E-1f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(5.0000001201E-1f));
        var y = Vector256.FusedMultiplyAdd(p * r, r, r) + Vector256<float>.One;
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        return y * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Gelu(float x)
    {
        float u = MathF.Abs(x) * InvSqrt2;
        float t = 1f / MathF.FusedMultiplyAdd(P, u, 1f);
        float r = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(A5, t, A4), t, A3), t, A2), t, A1);
        float q = r * t * MathF.Exp(-(u * u));
        return 0.5f * x * (x < 0 ? q : 2f - q);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Act(Vector256<float> x, bool gelu) => gelu ? Gelu(x) : Vector256.Max(x, Vector256<float>.Zero);

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
}
