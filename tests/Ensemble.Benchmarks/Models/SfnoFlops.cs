using Ensemble.Models.Sfno;

namespace Ensemble.Benchmarks.Models;

/// <summary>
/// Analytic FLOP count of one SFNO forward per member (batch 1), by kind of work. Conventions (docs/benchmarks.md):
/// <list type="bullet">
/// <item>1×1 conv C_in→C_out on P points: 2·C_in·C_out·P, bias +C_out·P; residual adds 1 per element.</item>
/// <item>real FFT / inverse real FFT of length N: 2.5·N·log2 N per transformed row (FFTW's convention).</item>
/// <item>Legendre stage of the SHT or its inverse, C channels, n latitudes: 4·C·n·T, T = Σ_{m&lt;min(mmax,lmax)} (lmax − m)
/// non-zero (l, m) pairs (re and im, multiply-add). <see cref="DenseLegendre"/> counts the dense lmax·mmax instead.</item>
/// <item>dhconv: one complex E×E multiply-accumulate per non-zero (l, m): 8·E²·T (dense: 8·E²·lmax·mmax).</item>
/// <item>InstanceNorm2d with affine: 7 per element (mean 1, variance 3, normalise and scale-shift 3).</item>
/// <item>GELU: 8 per element (erf as a short rational approximation, two multiplies, one add).</item>
/// </list>
/// </summary>
public sealed class SfnoFlops
{
    public const double NormPerElement = 7, GeluPerElement = 8;

    public double Conv1x1 { get; private set; }
    public double Fft { get; private set; }
    public double Legendre { get; private set; }
    public double DenseLegendre { get; private set; }
    public double Dhconv { get; private set; }
    public double DenseDhconv { get; private set; }
    public double Norm { get; private set; }
    public double Gelu { get; private set; }
    public double Adds { get; private set; }

    /// <summary>Counted work: every (l, m) with m &gt; l skipped (the coefficients there are identically zero).</summary>
    public double Total => Conv1x1 + Fft + Legendre + Dhconv + Norm + Gelu + Adds;

    /// <summary>The same model with the dense lmax × mmax spectral loops of torch-harmonics 0.6 / makani 0.1.</summary>
    public double DenseTotal => Conv1x1 + Fft + DenseLegendre + DenseDhconv + Norm + Gelu + Adds;

    public static SfnoFlops Of(SfnoConfig c)
    {
        if (c.OperatorType != "dhconv") throw new ArgumentException("the FLOP model covers operator_type dhconv");
        var f = new SfnoFlops();
        double e = c.EmbedDim, cin = c.ModelInputChannels, cout = c.NOutChannels;
        int lmax = c.ModesLat, mmax = c.ModesLon;
        double tri = 0;
        for (int m = 0; m < Math.Min(mmax, lmax); m++) tri += lmax - m;
        double dense = (double)lmax * mmax;
        (int Lat, int Lon) outer = (c.ImgShapeX, c.ImgShapeY), inner = (c.H, c.W);
        double p0 = (double)outer.Lat * outer.Lon;

        void Conv(double i, double o, double p, bool bias) { f.Conv1x1 += 2 * i * o * p + (bias ? o * p : 0); }
        void Transform((int Lat, int Lon) g, double channels)
        {
            f.Fft += channels * g.Lat * 2.5 * g.Lon * Math.Log2(g.Lon);
            f.Legendre += 4 * channels * g.Lat * tri;
            f.DenseLegendre += 4 * channels * g.Lat * dense;
        }
        void Act(double elements) { if (c.ActivationFunction == "gelu") f.Gelu += GeluPerElement * elements; }

        // Encoder (hidden = encoder_ratio·E): conv(bias) → act → conv.
        Conv(cin, c.EncoderHidden, p0, bias: true);
        Act(c.EncoderHidden * p0);
        Conv(c.EncoderHidden, e, p0, bias: false);
        if (c.PosEmbed is "direct" or "frequency") f.Adds += e * p0;

        for (int i = 0; i < c.NumLayers; i++)
        {
            var gin = i == 0 ? outer : inner;
            var gout = i == c.NumLayers - 1 ? outer : inner;
            double p = (double)gout.Lat * gout.Lon;
            Transform(gin, e);                       // SHT
            f.Dhconv += 8 * e * e * tri;
            f.DenseDhconv += 8 * e * e * dense;
            Transform(gout, e);                      // inverse SHT of the filtered coefficients
            if (gin != gout) Transform(gout, e);     // skip path inverse(forward(x)) when the block changes grid
            if (c.NormalizationLayer == "instance_norm") f.Norm += 2 * NormPerElement * e * p;
            Act(e * p);
            if (c.UseMlp)
            {
                Conv(e, c.MlpHidden, p, bias: true);
                Act(c.MlpHidden * p);
                Conv(c.MlpHidden, e, p, bias: true);
            }
            Conv(e, e, p, bias: false);              // outer skip
            f.Adds += e * p;
        }

        Conv(e, c.DecoderHidden, p0, bias: true);
        Act(c.DecoderHidden * p0);
        Conv(c.DecoderHidden, cout, p0, bias: false);
        if (c.BigSkip)
        {
            Conv(cin, cout, p0, bias: false);
            f.Adds += cout * p0;
        }
        return f;
    }
}
