using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Ensemble.Core.Native;

namespace Ensemble.Spherical.Native;

/// <summary>
/// float32 real DFTs of length N (even, N/2 a product of 2, 3, 4 and 5) on eight rows at once, one row per AVX lane
/// ("vertical" SIMD): every butterfly is plain lane-wise arithmetic, with no shuffles inside the transform, and the
/// rows' Fourier orders go straight to or from the [m, lat, field] order layout of the SHT (eight consecutive fields are
/// eight consecutive complex values there), so there is no separate move of the orders. The complex half-length FFT is
/// a self-sorting (Stockham) mixed-radix FFT; the real transform packs even and odd samples as one complex sequence.
/// Unnormalised in both directions (as MKL's DFTI with scale 1: the SHT scales in its Legendre step); the inverse
/// ignores the imaginary parts of the DC and Nyquist orders, as irfft does. A lane's result does not depend on the
/// other lanes. Replaces per-row MKL calls of a few hundred nanoseconds each (small-size kernels plus a recombination
/// pass and the order move); measured in docs/benchmarks.md.
/// </summary>
internal static unsafe class VerticalRealDft
{
    const int Lanes = 8;

    /// <summary>Whether length <paramref name="n"/> is supported (else callers use MKL).</summary>
    public static bool Supports(int n) => Avx2.IsSupported && Fma.IsSupported && n >= 4 && n % 2 == 0 && Plan.Factor(n / 2) is not null;

    /// <summary>
    /// Forward DFT of the rows (field s + j, latitude k) of x [b, nlat, nlon] for j &lt; len and all k, orders m &lt; nf
    /// written to orders[m, k, field] (complex64, rows of b), unnormalised.
    /// </summary>
    public static void Forward(float* x, long b, int nlat, int nlon, long s, long len, int nf, float* orders)
    {
        var plan = Scratch(nlon, out var a, out var t, out float* tail);
        for (long j = 0; j < len; j += Lanes)
        {
            int lanes = (int)Math.Min(Lanes, len - j);
            for (int k = 0; k < nlat; k++)
            {
                float* row0 = x + ((s + j) * nlat + k) * nlon;
                LoadRows(row0, (long)nlat * nlon, lanes, nlon, a);
                var z = plan.Transform(a, t);
                float* o = orders + (k * b + s + j) * 2;
                long step = (long)nlat * b * 2;
                plan.ForwardOrders(z, nf, o, step, lanes, tail);
            }
        }
    }

    /// <summary>
    /// Inverse of <see cref="Forward"/>: orders[m, k, field] (m &lt; nf; higher orders zero) → the rows of f [b, nlat, nlon]
    /// for fields s + j, j &lt; len, unnormalised (f = Σ over all N orders of the Hermitian spectrum).
    /// </summary>
    public static void Inverse(float* orders, long b, int nlat, int nlon, long s, long len, int nf, float* f)
    {
        var plan = Scratch(nlon, out var a, out var t, out float* tail);
        for (long j = 0; j < len; j += Lanes)
        {
            int lanes = (int)Math.Min(Lanes, len - j);
            for (int k = 0; k < nlat; k++)
            {
                float* o = orders + (k * b + s + j) * 2;
                long step = (long)nlat * b * 2;
                plan.InverseSpectrum(o, step, nf, lanes, a, t, tail);
                // With S(z) = i·conj(z) (re and im swapped), IDFT(Z') = S(DFT(S(Z'))): a holds S(Z'), so the rows are
                // x[2n] = Re IDFT[n] = Im DFT[n] and x[2n + 1] = Re DFT[n]: the result's vectors in swapped pairs.
                var z = plan.Transform(a, t);
                StoreRows(z, f + ((s + j) * nlat + k) * nlon, (long)nlat * nlon, lanes, nlon, swapPairs: true);
            }
        }
    }

    /// <summary>
    /// The plan for length <paramref name="nlon"/> and this thread's buffers: a (N vectors: M complex), t (N + 4: the
    /// transform's other buffer, and the inverse's split orders, up to M + 1 complex) and a 16-float tail.
    /// </summary>
    static Plan Scratch(int nlon, out Vector256<float>* a, out Vector256<float>* t, out float* tail)
    {
        var buffer = (Vector256<float>*)ThreadScratch.Get(ThreadScratch.Sht, (2L * nlon + 4) * 32 + 64 * Lanes);
        a = buffer;
        t = buffer + nlon;
        tail = (float*)(buffer + 2 * nlon + 4);
        return Plan.For(nlon);
    }

    /// <summary>v[n] lane q = row q's element n (rows <paramref name="stride"/> apart; missing lanes zero).</summary>
    static void LoadRows(float* row0, long stride, int lanes, int n, Vector256<float>* v)
    {
        int c = 0;
        if (lanes == Lanes)
            for (; c + Lanes <= n; c += Lanes)
                RegisterTranspose.Transpose8(row0 + c, stride, (float*)(v + c), Lanes);
        for (; c < n; c++)
        {
            var e = Vector256<float>.Zero;
            for (int q = 0; q < lanes; q++) e = e.WithElement(q, row0[q * stride + c]);
            v[c] = e;
        }
    }

    /// <summary>
    /// Row q's element c = v[c] lane q for the first <paramref name="lanes"/> rows (with <paramref name="swapPairs"/>,
    /// v[c ^ 1]: n even).
    /// </summary>
    static void StoreRows(Vector256<float>* v, float* row0, long stride, int lanes, int n, bool swapPairs)
    {
        int c = 0, flip = swapPairs ? 1 : 0;
        if (lanes == Lanes)
            for (; c + Lanes <= n; c += Lanes)
                RegisterTranspose.Transpose8((float*)(v + c), Lanes, row0 + c, stride, flip);
        var t = stackalloc float[Lanes];
        for (; c < n; c++)
        {
            Vector256.Store(v[c ^ flip], t);
            for (int q = 0; q < lanes; q++) row0[q * stride + c] = t[q];
        }
    }

    /// <summary>The radices and twiddles of one length N (shared by all threads once built).</summary>
    sealed class Plan
    {
        static readonly ConcurrentDictionary<int, Plan> Plans = new();

        public static Plan For(int n) => Plans.GetOrAdd(n, k => new Plan(k));

        /// <summary>Radices of m (4s first, then 2, 3, 5), or null if m has another prime factor.</summary>
        public static int[]? Factor(int m)
        {
            var f = new List<int>();
            while (m % 4 == 0) { f.Add(4); m /= 4; }
            foreach (int r in new[] { 2, 3, 5 })
                while (m % r == 0) { f.Add(r); m /= r; }
            return m == 1 ? f.ToArray() : null;
        }

        readonly int _n, _m;
        readonly int[] _radices;
        readonly float[][] _twiddles;                                              // per stage: [p, k − 1] (re, im) pairs
        readonly float[] _real;                                                    // e^{−2πik/N}, k ≤ M: (re, im) pairs

        Plan(int n)
        {
            _n = n;
            _m = n / 2;
            _radices = Factor(_m) ?? throw new ArgumentException($"real DFT length {n}: N/2 must be a product of 2, 3 and 5");
            _twiddles = new float[_radices.Length][];
            int len = _m;
            for (int st = 0; st < _radices.Length; st++)
            {
                int r = _radices[st], sub = len / r;
                var w = new float[sub * (r - 1) * 2];
                for (int p = 0; p < sub; p++)
                    for (int k = 1; k < r; k++)
                    {
                        double angle = -2 * Math.PI * p * k / len;
                        w[(p * (r - 1) + k - 1) * 2] = (float)Math.Cos(angle);
                        w[(p * (r - 1) + k - 1) * 2 + 1] = (float)Math.Sin(angle);
                    }
                _twiddles[st] = w;
                len = sub;
            }
            _real = new float[(_m + 1) * 2];
            for (int k = 0; k <= _m; k++)
            {
                double angle = -2 * Math.PI * k / n;
                _real[2 * k] = (float)Math.Cos(angle);
                _real[2 * k + 1] = (float)Math.Sin(angle);
            }
        }

        /// <summary>
        /// The complex DFT of length M of a (element p = (a[2p], a[2p + 1]) as (re, im) vectors), with t as the other
        /// buffer; returns the buffer holding the result (natural order).
        /// </summary>
        public Vector256<float>* Transform(Vector256<float>* a, Vector256<float>* t)
        {
            Vector256<float>* x = a, y = t;
            int len = _m, s = 1;
            for (int st = 0; st < _radices.Length; st++)
            {
                int r = _radices[st], sub = len / r;
                fixed (float* w = _twiddles[st])
                    switch (r)
                    {
                        case 2: Radix2(x, y, sub, s, w); break;
                        case 3: Radix3(x, y, sub, s, w); break;
                        case 4: Radix4(x, y, sub, s, w); break;
                        default: Radix5(x, y, sub, s, w); break;
                    }
                var swap = x;
                x = y;
                y = swap;
                len = sub;
                s *= r;
            }
            return x;
        }

        // Stockham step of radix r: y[q + s(r·p + k)] = w^{p·k} · Σ_j x[q + s(p + j·sub)] ω_r^{jk}, element e at (v[2e], v[2e + 1]).

        static void Radix2(Vector256<float>* x, Vector256<float>* y, int sub, int s, float* w)
        {
            for (int p = 0; p < sub; p++)
            {
                bool unit = p == 0;                                                  // w^0 = 1 (every butterfly of the last stage)
                float w1r = w[2 * p], w1i = w[2 * p + 1];
                for (int q = 0; q < s; q++)
                {
                    Vector256<float>* a0 = x + 2 * (q + s * p), a1 = x + 2 * (q + s * (p + sub));
                    Vector256<float>* b = y + 2 * (q + s * 2 * p);
                    var (r0, i0, r1, i1) = (a0[0], a0[1], a1[0], a1[1]);
                    b[0] = r0 + r1;
                    b[1] = i0 + i1;
                    Twiddle(r0 - r1, i0 - i1, w1r, w1i, b + 2 * s, unit);
                }
            }
        }

        static void Radix3(Vector256<float>* x, Vector256<float>* y, int sub, int s, float* w)
        {
            var half = Vector256.Create(0.5f);
            var sin60 = Vector256.Create((float)(Math.Sqrt(3) / 2));
            for (int p = 0; p < sub; p++)
            {
                bool unit = p == 0;                                                  // w^0 = 1 (every butterfly of the last stage)
                float w1r = w[4 * p], w1i = w[4 * p + 1], w2r = w[4 * p + 2], w2i = w[4 * p + 3];
                for (int q = 0; q < s; q++)
                {
                    Vector256<float>* a0 = x + 2 * (q + s * p), a1 = x + 2 * (q + s * (p + sub)), a2 = x + 2 * (q + s * (p + 2 * sub));
                    Vector256<float>* b = y + 2 * (q + s * 3 * p);
                    var t1r = a1[0] + a2[0];
                    var t1i = a1[1] + a2[1];
                    var t2r = a1[0] - a2[0];
                    var t2i = a1[1] - a2[1];
                    b[0] = a0[0] + t1r;
                    b[1] = a0[1] + t1i;
                    var m1r = Fma.MultiplyAddNegated(half, t1r, a0[0]);             // a0 − t1/2
                    var m1i = Fma.MultiplyAddNegated(half, t1i, a0[1]);
                    var m2r = sin60 * t2i;                                           // −i·(√3/2)·t2
                    var m2i = -(sin60 * t2r);
                    Twiddle(m1r + m2r, m1i + m2i, w1r, w1i, b + 2 * s, unit);
                    Twiddle(m1r - m2r, m1i - m2i, w2r, w2i, b + 4 * s, unit);
                }
            }
        }

        static void Radix4(Vector256<float>* x, Vector256<float>* y, int sub, int s, float* w)
        {
            for (int p = 0; p < sub; p++)
            {
                bool unit = p == 0;                                                  // w^0 = 1 (every butterfly of the last stage)
                float w1r = w[6 * p], w1i = w[6 * p + 1], w2r = w[6 * p + 2], w2i = w[6 * p + 3], w3r = w[6 * p + 4], w3i = w[6 * p + 5];
                for (int q = 0; q < s; q++)
                {
                    Vector256<float>* a0 = x + 2 * (q + s * p), a1 = x + 2 * (q + s * (p + sub));
                    Vector256<float>* a2 = x + 2 * (q + s * (p + 2 * sub)), a3 = x + 2 * (q + s * (p + 3 * sub));
                    Vector256<float>* b = y + 2 * (q + s * 4 * p);
                    var s02r = a0[0] + a2[0];
                    var s02i = a0[1] + a2[1];
                    var d02r = a0[0] - a2[0];
                    var d02i = a0[1] - a2[1];
                    var s13r = a1[0] + a3[0];
                    var s13i = a1[1] + a3[1];
                    var d13r = a1[0] - a3[0];
                    var d13i = a1[1] - a3[1];
                    b[0] = s02r + s13r;
                    b[1] = s02i + s13i;
                    Twiddle(d02r + d13i, d02i - d13r, w1r, w1i, b + 2 * s, unit);          // (a0 − a2) − i(a1 − a3)
                    Twiddle(s02r - s13r, s02i - s13i, w2r, w2i, b + 4 * s, unit);
                    Twiddle(d02r - d13i, d02i + d13r, w3r, w3i, b + 6 * s, unit);          // (a0 − a2) + i(a1 − a3)
                }
            }
        }

        static void Radix5(Vector256<float>* x, Vector256<float>* y, int sub, int s, float* w)
        {
            var c1 = Vector256.Create((float)Math.Cos(2 * Math.PI / 5));
            var c2 = Vector256.Create((float)Math.Cos(4 * Math.PI / 5));
            var s1 = Vector256.Create((float)Math.Sin(2 * Math.PI / 5));
            var s2 = Vector256.Create((float)Math.Sin(4 * Math.PI / 5));
            for (int p = 0; p < sub; p++)
            {
                bool unit = p == 0;                                                  // w^0 = 1 (every butterfly of the last stage)
                float* wp = w + 8 * p;
                for (int q = 0; q < s; q++)
                {
                    Vector256<float>* a0 = x + 2 * (q + s * p), a1 = x + 2 * (q + s * (p + sub)), a2 = x + 2 * (q + s * (p + 2 * sub));
                    Vector256<float>* a3 = x + 2 * (q + s * (p + 3 * sub)), a4 = x + 2 * (q + s * (p + 4 * sub));
                    Vector256<float>* b = y + 2 * (q + s * 5 * p);
                    var t1r = a1[0] + a4[0];
                    var t1i = a1[1] + a4[1];
                    var t2r = a2[0] + a3[0];
                    var t2i = a2[1] + a3[1];
                    var t3r = a1[0] - a4[0];
                    var t3i = a1[1] - a4[1];
                    var t4r = a2[0] - a3[0];
                    var t4i = a2[1] - a3[1];
                    b[0] = a0[0] + t1r + t2r;
                    b[1] = a0[1] + t1i + t2i;
                    var m1r = Fma.MultiplyAdd(c2, t2r, Fma.MultiplyAdd(c1, t1r, a0[0]));
                    var m1i = Fma.MultiplyAdd(c2, t2i, Fma.MultiplyAdd(c1, t1i, a0[1]));
                    var m2r = Fma.MultiplyAdd(c1, t2r, Fma.MultiplyAdd(c2, t1r, a0[0]));
                    var m2i = Fma.MultiplyAdd(c1, t2i, Fma.MultiplyAdd(c2, t1i, a0[1]));
                    // n1 = −i(s1·t3 + s2·t4), n2 = −i(s2·t3 − s1·t4); −i(u + iv) = v − iu.
                    var u1r = Fma.MultiplyAdd(s2, t4r, s1 * t3r);
                    var u1i = Fma.MultiplyAdd(s2, t4i, s1 * t3i);
                    var u2r = Fma.MultiplyAddNegated(s1, t4r, s2 * t3r);
                    var u2i = Fma.MultiplyAddNegated(s1, t4i, s2 * t3i);
                    Twiddle(m1r + u1i, m1i - u1r, wp[0], wp[1], b + 2 * s, unit);
                    Twiddle(m2r + u2i, m2i - u2r, wp[2], wp[3], b + 4 * s, unit);
                    Twiddle(m2r - u2i, m2i + u2r, wp[4], wp[5], b + 6 * s, unit);
                    Twiddle(m1r - u1i, m1i + u1r, wp[6], wp[7], b + 8 * s, unit);
                }
            }
        }

        /// <summary>b = (re + i·im)·(wr + i·wi) (or re + i·im when <paramref name="unit"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Twiddle(Vector256<float> re, Vector256<float> im, float wr, float wi, Vector256<float>* b, bool unit)
        {
            if (unit)
            {
                b[0] = re;
                b[1] = im;
                return;
            }
            var vr = Vector256.Create(wr);
            var vi = Vector256.Create(wi);
            b[0] = Fma.MultiplyAddNegated(im, vi, re * vr);
            b[1] = Fma.MultiplyAdd(im, vr, re * vi);
        }

        /// <summary>
        /// X[k] = E[k] + e^{−2πik/N}·O[k] for k &lt; nf from Z = DFT_M(x[2n] + i·x[2n + 1]) (E = (Z[k] + conj Z[M−k])/2,
        /// O = (Z[k] − conj Z[M−k])/(2i)), interleaved into o + k·step (eight complex values per k).
        /// </summary>
        public void ForwardOrders(Vector256<float>* z, int nf, float* o, long step, int lanes, float* tail)
        {
            var half = Vector256.Create(0.5f);
            for (int k = 0; k < nf; k++)
            {
                int kk = k % _m, kc = (_m - k) % _m;
                var zr = z[2 * kk];
                var zi = z[2 * kk + 1];
                var cr = z[2 * kc];
                var ci = -z[2 * kc + 1];
                var er = half * (zr + cr);
                var ei = half * (zi + ci);
                var or = half * (zi - ci);                                          // (Z − C)/(2i)
                var oi = half * (cr - zr);
                var wr = Vector256.Create(_real[2 * k]);
                var wi = Vector256.Create(_real[2 * k + 1]);
                var xr = er + Fma.MultiplyAddNegated(oi, wi, or * wr);
                var xi = ei + Fma.MultiplyAdd(oi, wr, or * wi);
                Interleave(xr, xi, o + k * step, lanes, tail);
            }
        }

        /// <summary>
        /// a = S(Z') (re and im swapped) with Z'[k] = (X[k] + conj X[M−k]) + i·e^{2πik/N}·(X[k] − conj X[M−k]) for k &lt; M,
        /// X[k] read from o + k·step for k &lt; nf (zero above; the imaginary parts of X[0] and X[M] ignored). The orders
        /// are first split into (re, im) vectors in <paramref name="t"/> (nf ≤ M + 1 pairs).
        /// </summary>
        public void InverseSpectrum(float* o, long step, int nf, int lanes, Vector256<float>* a, Vector256<float>* t, float* tail)
        {
            for (int k = 0; k < nf; k++) Split(o + k * step, lanes, tail, t + 2 * k);
            t[1] = Vector256<float>.Zero;                                             // Im X[0]
            if (nf > _m) t[2 * _m + 1] = Vector256<float>.Zero;                        // Im X[M] (Nyquist)
            var zero = Vector256<float>.Zero;
            for (int k = 0; k < _m; k++)
            {
                int kc = _m - k;
                var xr = k < nf ? t[2 * k] : zero;
                var xi = k < nf ? t[2 * k + 1] : zero;
                var cr = kc < nf ? t[2 * kc] : zero;
                var ci = kc < nf ? -t[2 * kc + 1] : zero;                           // conj X[M−k]
                var sr = xr + cr;
                var si = xi + ci;
                var dr = xr - cr;
                var di = xi - ci;
                // i·e^{+2πik/N}·d with e^{+2πik/N} = (wr, −wi): (wr − i·wi)·d = (wr·dr + wi·di) + i(wr·di − wi·dr); times i.
                var wr = Vector256.Create(_real[2 * k]);
                var wi = Vector256.Create(_real[2 * k + 1]);
                var pr = Fma.MultiplyAdd(wi, di, wr * dr);
                var pi = Fma.MultiplyAddNegated(wi, dr, wr * di);
                a[2 * k] = si + pr;                                                  // Im Z'
                a[2 * k + 1] = sr - pi;                                              // Re Z'
            }
        }

        /// <summary>Eight interleaved complex values at p (fewer lanes: zero beyond) → (re, im) vectors at v[0], v[1].</summary>
        static void Split(float* p, int lanes, float* tail, Vector256<float>* v)
        {
            Vector256<float> v0, v1;
            if (lanes == Lanes)
            {
                v0 = Avx.LoadVector256(p);
                v1 = Avx.LoadVector256(p + 8);
            }
            else
            {
                for (int i = 0; i < 2 * Lanes; i++) tail[i] = i < 2 * lanes ? p[i] : 0f;
                v0 = Avx.LoadVector256(tail);
                v1 = Avx.LoadVector256(tail + 8);
            }
            var lo = Avx.Permute2x128(v0, v1, 0x20);                                  // r0 i0 r1 i1 | r4 i4 r5 i5
            var hi = Avx.Permute2x128(v0, v1, 0x31);                                  // r2 i2 r3 i3 | r6 i6 r7 i7
            v[0] = Avx.Shuffle(lo, hi, 0x88);
            v[1] = Avx.Shuffle(lo, hi, 0xDD);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Interleave(Vector256<float> re, Vector256<float> im, float* p, int lanes, float* tail)
        {
            var lo = Avx.UnpackLow(re, im);                                          // r0 i0 r1 i1 | r4 i4 r5 i5
            var hi = Avx.UnpackHigh(re, im);                                         // r2 i2 r3 i3 | r6 i6 r7 i7
            var v0 = Avx.Permute2x128(lo, hi, 0x20);
            var v1 = Avx.Permute2x128(lo, hi, 0x31);
            if (lanes == Lanes)
            {
                Avx.Store(p, v0);
                Avx.Store(p + 8, v1);
                return;
            }
            Avx.Store(tail, v0);
            Avx.Store(tail + 8, v1);
            for (int i = 0; i < 2 * lanes; i++) p[i] = tail[i];
        }
    }
}
