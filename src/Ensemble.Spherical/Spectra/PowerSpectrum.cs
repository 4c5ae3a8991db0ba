using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>
/// Power spectra of orthonormal ("ortho") SHT coefficients (docs sht-and-sfno §6), batched over leading
/// dimensions and accumulated in float64.
/// </summary>
public static class PowerSpectrum
{
    /// <summary>
    /// Degree (total-wavenumber) spectrum E(l) = |c_l^0|² + 2 Σ_{m≥1} |c_l^m|² of c[..., lmax, mmax] → [..., lmax]
    /// float64. Σ_l E(l) = ∫ f² dΩ for a band-limited field; E(l)/(4π) is the per-unit-area power.
    /// </summary>
    public static Tensor Degree(Tensor coeffs)
    {
        using var scope = torch.NewDisposeScope();
        var p = WeightedPower(coeffs);
        return p.sum(-1).MoveToOuterDisposeScope();
    }

    /// <summary>Zonal-wavenumber spectrum E(m) = Σ_l w_m |c_l^m|² (w_0 = 1, w_{m&gt;0} = 2): [..., lmax, mmax] → [..., mmax] float64.</summary>
    public static Tensor Zonal(Tensor coeffs)
    {
        using var scope = torch.NewDisposeScope();
        var p = WeightedPower(coeffs);
        return p.sum(-2).MoveToOuterDisposeScope();
    }

    static Tensor WeightedPower(Tensor coeffs)
    {
        if (!coeffs.is_complex())
            throw new ArgumentException($"PowerSpectrum: expected complex SHT coefficients [..., lmax, mmax], got {coeffs.dtype}");
        if (coeffs.dim() < 2)
            throw new ArgumentException($"PowerSpectrum: expected [..., lmax, mmax], got shape [{string.Join(", ", coeffs.shape)}]");
        var c = coeffs.to(ScalarType.ComplexFloat64);
        var p = torch.view_as_real(c).pow(2).sum(-1);                  // [..., lmax, mmax]
        long mmax = coeffs.shape[^1];
        var w = torch.full(mmax, 2.0, dtype: ScalarType.Float64, device: coeffs.device);
        w[0] = 1.0;
        return p * w;
    }
}
