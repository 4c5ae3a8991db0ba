using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>
/// The HENS correlated seed noise (earth2mip-fork `CorrelatedSphericalField`, docs hens-ensembles §3): a spherical
/// Gaussian random field whose coefficients follow an AR(1) process in time.
/// <code>
/// φ = exp(−Δt/τ),  kT = (L/R)²/2,  F0 = √(σ²(1−φ²) / (2 Σ_{l=1}^{nlat−1} (2l+1) e^{−kT l(l+1)}))
/// σ_n[l, m] = F0 · e^{−kT l(l+1)/2}  (m ≤ l, else 0),   ξ = a + i b,  a, b ~ N(0, 1)
/// c⁽⁰⁾ = σ_n ξ / √(1−φ²)  (stationary start);   draw(): u = 4π·ISHT(c), then c ← φ c + σ_n ξ_new
/// </code>
/// ISHT is <see cref="InverseRealSHT"/>(nlat, 2·nlat, lmax, mmax, equiangular, four-pi norm) in the working dtype.
/// <see cref="Draw"/> returns nlat + 1 rows: the last row of u duplicated, which is how the 720-row noise grid
/// is placed on the 721-row 0.25° grid. Randomness comes only from the seeded <see cref="torch.Generator"/>,
/// so a seed reproduces the sequence exactly; different seeds give independent fields.
/// <para>
/// Coefficient convention: lmax = nlat, mmax = nlat + 1 as in the original (<paramref name="lmax"/> may lower
/// it; since σ_n decays like e^{−kT l(l+1)/2}, e.g. lmax ≥ 128 changes nothing above float32 rounding for
/// L = 500 km — but the random stream, and thus the realisation, depends on the coefficient shape).
/// </para>
/// </summary>
public sealed class SphericalNoise : IDisposable
{
    /// <summary>Earth radius hard-coded in the reference (m).</summary>
    public const double EarthRadius = 6.371e6;

    readonly InverseRealSHT _isht;
    readonly Generator _generator;
    readonly Tensor _sigmaN;   // [lmax, mmax] real, working dtype
    Tensor _coeffs;             // [count, lmax, mmax] complex

    public int NLat { get; }
    public int NLon => 2 * NLat;
    public int LMax { get; }
    public int MMax { get; }
    public int Count { get; }
    /// <summary>AR(1) coefficient φ = exp(−Δt/τ).</summary>
    public double Phi { get; }
    /// <summary>kT = (L/R)²/2.</summary>
    public double KT { get; }
    /// <summary>Spectral amplitude F0.</summary>
    public double F0 { get; }

    /// <param name="nlat">Noise grid rows (equiangular, both poles); nlon = 2·nlat. HENS: 720.</param>
    /// <param name="seed">Seed of the private generator.</param>
    /// <param name="count">Number of independent fields N drawn together.</param>
    /// <param name="lengthScale">Correlation length L in metres (HENS 5e5).</param>
    /// <param name="timeScaleHours">AR(1) time scale τ in hours (HENS 48).</param>
    /// <param name="sigma">Target grid-point standard deviation σ (HENS 1).</param>
    /// <param name="stepHours">Time step Δt in hours between draws (6 in the reference).</param>
    /// <param name="lmax">Degree count of the coefficients; default nlat (mmax = lmax + 1, at most nlat + 1).</param>
    public SphericalNoise(int nlat, long seed, int count = 1, double lengthScale = 5.0e5, double timeScaleHours = 48.0,
        double sigma = 1.0, double stepHours = 6.0, int? lmax = null, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (nlat < 2) throw new EnsembleException($"spherical noise: nlat must be ≥ 2, got {nlat}");
        if (count < 1) throw new EnsembleException($"spherical noise: count must be ≥ 1, got {count}");
        if (!(lengthScale > 0) || !(timeScaleHours > 0) || !(sigma >= 0) || !(stepHours > 0))
            throw new EnsembleException($"spherical noise: length scale ({lengthScale}), time scale ({timeScaleHours}), step ({stepHours}) must be > 0 and sigma ({sigma}) ≥ 0");
        NLat = nlat;
        Count = count;
        LMax = Math.Clamp(lmax ?? nlat, 1, nlat);
        MMax = Math.Min(LMax + 1, nlat + 1);
        (Phi, KT, F0) = Parameters(nlat, lengthScale, timeScaleHours, sigma, stepHours);
        var dev = device ?? CPU;
        _generator = new Generator((ulong)seed, dev);
        _isht = new InverseRealSHT(nlat, 2 * nlat, LMax, MMax, GridType.Equiangular, SphericalNorm.FourPi, csphase: true, dtype, dev);

        var s = new double[LMax * MMax];
        for (int l = 0; l < LMax; l++)
            for (int m = 0; m <= Math.Min(l, MMax - 1); m++)
                s[l * MMax + m] = F0 * Math.Exp(-KT * l * (l + 1) / 2.0);
        _sigmaN = torch.tensor(s, dtype: ScalarType.Float64).reshape(LMax, MMax).to(dtype, dev);
        using var xi = Xi();
        _coeffs = (xi * _sigmaN / Math.Sqrt(1 - Phi * Phi)).detach();
    }

    /// <summary>(φ, kT, F0) of the reference construction.</summary>
    public static (double Phi, double KT, double F0) Parameters(int nlat, double lengthScale, double timeScaleHours, double sigma, double stepHours = 6.0)
    {
        double phi = Math.Exp(-stepHours / timeScaleHours);
        double kT = Math.Pow(lengthScale / EarthRadius, 2) / 2.0;
        double sum = 0;
        for (int l = 1; l < nlat; l++) sum += (2 * l + 1) * Math.Exp(-kT * l * (l + 1));
        double f0 = Math.Sqrt(sigma * sigma * (1 - phi * phi) / (2 * sum));
        return (phi, kT, f0);
    }

    /// <summary>
    /// Expected area-weighted mean of u² of one stationary draw (docs hens-ensembles §3.2):
    /// σ² Σ_{l&lt;lmax} (4l+1) e^{−kT l(l+1)} / (2 Σ_{l=1}^{nlat−1} (2l+1) e^{−kT l(l+1)}); 0.9784 for HENS.
    /// </summary>
    public static double ExpectedMeanSquare(int nlat, double lengthScale, double sigma = 1.0, int? lmax = null)
    {
        double kT = Math.Pow(lengthScale / EarthRadius, 2) / 2.0;
        double num = 0, den = 0;
        for (int l = 0; l < (lmax ?? nlat); l++) num += (4 * l + 1) * Math.Exp(-kT * l * (l + 1));
        for (int l = 1; l < nlat; l++) den += (2 * l + 1) * Math.Exp(-kT * l * (l + 1));
        return sigma * sigma * num / (2 * den);
    }

    Tensor Xi()
    {
        var dtype = _sigmaN.dtype;
        using var a = torch.randn([Count, LMax, MMax], dtype: dtype, device: _sigmaN.device, generator: _generator);
        using var b = torch.randn([Count, LMax, MMax], dtype: dtype, device: _sigmaN.device, generator: _generator);
        return torch.complex(a, b);
    }

    /// <summary>
    /// The current field on the grid, [count, nlat + 1, 2·nlat] (last row duplicated), then one AR(1) step
    /// of the coefficients with fresh ξ. The first draw is stationary.
    /// </summary>
    public Tensor Draw()
    {
        using var scope = torch.NewDisposeScope();
        var u = _isht.forward(_coeffs) * (4 * Math.PI);                        // [count, nlat, 2 nlat]
        var noise = torch.cat([u, u.narrow(1, NLat - 1, 1)], 1);
        var xi = Xi();
        var next = (_coeffs * Phi + xi * _sigmaN).detach().MoveToOuterDisposeScope();
        _coeffs.Dispose();
        _coeffs = next;
        return noise.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        _coeffs.Dispose();
        _sigmaN.Dispose();
        _isht.Dispose();
        _generator.Dispose();
    }
}
