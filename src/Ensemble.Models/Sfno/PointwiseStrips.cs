using Ensemble.Core.Native;

namespace Ensemble.Models.Sfno;

/// <summary>
/// A pointwise tile run as narrow column strips with <see cref="SmallGemm"/>: per strip of <see cref="Strip"/>
/// points the normalised input, the hidden activations and the output block stay in L1/L2 from the first layer to the
/// last (the MKL tile form writes and re-reads a 512 KB hidden tile, packs each gemm's operand and runs bias,
/// activation and C-scaling as separate passes). Every output column is computed by the same operations in the same
/// order whatever the strip or tile bounds, so results do not depend on who runs which piece.
/// </summary>
internal static unsafe class PointwiseStrips
{
    /// <summary>Points per strip: four 16-column panels.</summary>
    public const int Strip = 64;

    /// <summary>Whether layers of these inner sizes run here (AVX2/FMA; small channel counts).</summary>
    public static bool Fits(int k, int k2 = 0) => SmallGemm.Supported && k + k2 <= SmallGemm.MaxInner;

    static float* Scratch(int floats) => (float*)ThreadScratch.Get(ThreadScratch.Pointwise, floats * sizeof(float));

    /// <summary>A block's MLP weights as contiguous row-major matrices (biases may be null).</summary>
    public readonly struct Mlp(float* w1, float* b1, int hidden, float* w2, float* b2)
    {
        public float* W1 { get; } = w1;
        public float* B1 { get; } = b1;
        public int Hidden { get; } = hidden;
        public float* W2 { get; } = w2;
        public float* B2 { get; } = b2;
    }

    /// <summary>
    /// Columns [s, s + n) of a block's rest: out = fc2(act(fc1(act(norm0(z))) + b1)) (+ b2) (+ wskip·r); z, r and out are
    /// [E, P] with rows <paramref name="p"/> apart. Without <paramref name="wskip"/> (norm1 follows) the skip is left
    /// for <see cref="NormSkip"/>; without an MLP, out = act(norm0(z)) (+ skip). With <paramref name="stats"/> (an MLP and
    /// no skip) the output rows' statistics over these columns are gathered on the way (<see cref="BlockRestWithStatistics"/>).
    /// </summary>
    public static void BlockRest(float* z, float* r, float* o, long p, long s, int n, int e, float* mean, float* scale,
        float* shift, string activation, Mlp? mlp, float* wskip, double* stats = null)
    {
        if (stats is null) BlockRestStrips(z, r, o, p, s, n, e, mean, scale, shift, activation, mlp, wskip);
        else if (mlp is { } m && wskip is null) BlockRestWithStatistics(z, r, o, p, s, n, e, mean, scale, shift, activation, m, stats);
        else throw new ArgumentException("PointwiseStrips.BlockRest: statistics are gathered only with an MLP and without the skip");
    }

    /// <summary>
    /// <see cref="BlockRest"/> without the skip (norm1 follows), gathering norm1's statistics of the columns [s, s + n)
    /// while each strip's output is in L1: stats[c] = mean and stats[e + c] = Σ (y − mean)² of output row c, from float64
    /// sums shifted by the row's first value (the same form as <see cref="PointwiseKernels.MeanAndM2"/>), so the
    /// statistics need no separate pass over the block's output.
    /// </summary>
    static void BlockRestWithStatistics(float* z, float* r, float* o, long p, long s, int n, int e, float* mean, float* scale,
        float* shift, string activation, Mlp m, double* stats)
    {
        double* sums = stackalloc double[3 * e];                                     // shift, Σd, Σd² per row
        for (long j = s; j < s + n; j += Strip)
        {
            int w = (int)Math.Min(Strip, s + n - j);
            BlockRestStrips(z, r, o, p, j, w, e, mean, scale, shift, activation, m, null);
            for (int c = 0; c < e; c++)
            {
                float* row = o + c * p + j;
                if (j == s)
                {
                    sums[c] = row[0];
                    sums[e + c] = sums[2 * e + c] = 0;
                }
                PointwiseKernels.AddShifted(row, w, sums[c], ref sums[e + c], ref sums[2 * e + c]);
            }
        }
        for (int c = 0; c < e; c++)
            (stats[c], stats[e + c]) = PointwiseKernels.ShiftedToMeanAndM2(sums[c], sums[e + c], sums[2 * e + c], n);
    }

    static void BlockRestStrips(float* z, float* r, float* o, long p, long s, int n, int e, float* mean, float* scale,
        float* shift, string activation, Mlp? mlp, float* wskip)
    {
        if (mlp is not { } m)
        {
            PointwiseKernels.NormAct(z + s, p, o + s, p, e, n, mean, scale, shift, activation);
            if (wskip is not null)
                SmallGemm.Run(wskip, e, r + s, p, null, 0, null, 0, e, n, o + s, p, new GemmEpilogue { Accumulate = true });
            return;
        }
        float* t = Scratch((e + m.Hidden) * Strip);
        float* h = t + e * Strip;
        var hiddenEpilogue = new GemmEpilogue { Bias = m.B1, Activation = activation };
        var outEpilogue = new GemmEpilogue { Bias = m.B2 };
        for (long j = s; j < s + n; j += Strip)
        {
            int w = (int)Math.Min(Strip, s + n - j);
            PointwiseKernels.NormAct(z + j, p, t, Strip, e, w, mean, scale, shift, activation);
            SmallGemm.Run(m.W1, e, t, Strip, null, 0, null, 0, m.Hidden, w, h, Strip, hiddenEpilogue);
            SmallGemm.Run(m.W2, m.Hidden, h, Strip, wskip, wskip is null ? 0 : e, r + j, p, e, w, o + j, p, outEpilogue);
        }
    }

    /// <summary>Columns [s, s + n): out = norm1(out) + wskip·r in one pass (norm1's affine as (y − mean)·scale + shift).</summary>
    public static void NormSkip(float* r, float* o, long p, long s, int n, int e, float* mean, float* scale, float* shift, float* wskip) =>
        SmallGemm.Run(wskip, e, r + s, p, null, 0, null, 0, e, n, o + s, p,
            new GemmEpilogue { Accumulate = true, NormMean = mean, NormScale = scale, NormShift = shift });

    /// <summary>
    /// Columns [s, s + n): per strip, y = norm1(o) + wskip·r into a scratch strip (as <see cref="NormSkip"/>: o copied,
    /// then the same product and epilogue), then out = decoder(y) (+ wbig·xs) as <see cref="EncoderDecoder"/> with y's
    /// strip as its input.
    /// </summary>
    public static void NormSkipDecoder(float* r, float* o, long p, long s, int n, int e, float* mean, float* scale, float* shift,
        float* wskip, float* xs, float* output, int cskip, int cout, string activation, Mlp decoder, float* wbig)
    {
        float* y = Scratch((e + decoder.Hidden) * Strip);
        float* h = y + e * Strip;
        var normSkip = new GemmEpilogue { Accumulate = true, NormMean = mean, NormScale = scale, NormShift = shift };
        var hiddenEpilogue = new GemmEpilogue { Bias = decoder.B1, Activation = activation };
        var outEpilogue = new GemmEpilogue { Bias = decoder.B2 };
        for (long j = s; j < s + n; j += Strip)
        {
            int w = (int)Math.Min(Strip, s + n - j);
            for (int c = 0; c < e; c++) new ReadOnlySpan<float>(o + c * p + j, w).CopyTo(new Span<float>(y + c * Strip, w));
            SmallGemm.Run(wskip, e, r + j, p, null, 0, null, 0, e, w, y, Strip, normSkip);
            SmallGemm.Run(decoder.W1, e, y, Strip, null, 0, null, 0, decoder.Hidden, w, h, Strip, hiddenEpilogue);
            SmallGemm.Run(decoder.W2, decoder.Hidden, h, Strip, wbig, wbig is null ? 0 : cskip, xs is null ? null : xs + j, p, cout, w,
                output + j, p, outEpilogue);
        }
    }

    /// <summary>
    /// Columns [s, s + n) of an encoder or decoder: out = w2·act(w1·x + b1) + b2 (+ wskip·xs); x [cin, P], xs [cskip, P],
    /// out [cout, P], rows <paramref name="p"/> apart.
    /// </summary>
    public static void EncoderDecoder(float* x, float* xs, float* o, long p, long s, int n, int cin, int cskip, int cout,
        string activation, Mlp m, float* wskip)
    {
        float* h = Scratch(m.Hidden * Strip);
        var hiddenEpilogue = new GemmEpilogue { Bias = m.B1, Activation = activation };
        var outEpilogue = new GemmEpilogue { Bias = m.B2 };
        for (long j = s; j < s + n; j += Strip)
        {
            int w = (int)Math.Min(Strip, s + n - j);
            SmallGemm.Run(m.W1, cin, x + j, p, null, 0, null, 0, m.Hidden, w, h, Strip, hiddenEpilogue);
            SmallGemm.Run(m.W2, m.Hidden, h, Strip, wskip, wskip is null ? 0 : cskip, xs is null ? null : xs + j, p, cout, w, o + j, p, outEpilogue);
        }
    }
}
