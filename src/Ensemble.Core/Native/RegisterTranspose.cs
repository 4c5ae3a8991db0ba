using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Ensemble.Core.Native;

/// <summary>Small matrix transposes in AVX registers for the native kernels' layout changes (callers check <c>Avx.IsSupported</c>).</summary>
public static unsafe class RegisterTranspose
{
    /// <summary>dst[p·dstStride + q] = src[q·srcStride + p] for p, q &lt; 4 (64-bit elements: one complex64 each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose4(double* src, long srcStride, double* dst, long dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store(dst, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(t1, t3, 0x31));
    }

    /// <summary>
    /// dst[p·dstStride + q] = src[(q ^ flip)·srcStride + p] for p, q &lt; 8 (32-bit elements; <paramref name="flip"/> = 1
    /// takes the source rows in swapped pairs).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8(float* src, long srcStride, float* dst, long dstStride, int flip = 0)
    {
        var r0 = Avx.LoadVector256(src + flip * srcStride);
        var r1 = Avx.LoadVector256(src + (1 ^ flip) * srcStride);
        var r2 = Avx.LoadVector256(src + (2 ^ flip) * srcStride);
        var r3 = Avx.LoadVector256(src + (3 ^ flip) * srcStride);
        var r4 = Avx.LoadVector256(src + (4 ^ flip) * srcStride);
        var r5 = Avx.LoadVector256(src + (5 ^ flip) * srcStride);
        var r6 = Avx.LoadVector256(src + (6 ^ flip) * srcStride);
        var r7 = Avx.LoadVector256(src + (7 ^ flip) * srcStride);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
