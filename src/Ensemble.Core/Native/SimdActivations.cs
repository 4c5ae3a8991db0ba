using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ensemble.Core.Native;

/// <summary>Activations on float32 SIMD vectors and scalars for the native kernels: GELU (exact, erf form) and ReLU.</summary>
public static class SimdActivations
{
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
    public static Vector256<float> Gelu(Vector256<float> x)
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
    public static float Gelu(float x)
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
    public static Vector256<float> Act(Vector256<float> x, bool gelu) => gelu ? Gelu(x) : Vector256.Max(x, Vector256<float>.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Act(float x, bool gelu) => gelu ? Gelu(x) : MathF.Max(x, 0f);
}
