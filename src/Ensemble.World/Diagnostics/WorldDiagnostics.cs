using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>Global diagnostics of world states (area-weighted means on the solver grid).</summary>
public static class WorldDiagnostics
{
    /// <summary>
    /// Domain-mean energy per unit area divided by the density, ⟨½ h |u|² + ½ g (h − H)²⟩ (m³/s²), for states
    /// [..., 3, lmax, mmax] → [...]: kinetic plus available potential energy of the shallow layer.
    /// </summary>
    public static Tensor Energy(ShallowWaterSolver solver, Tensor uspec)
    {
        using var scope = torch.NewDisposeScope();
        var (phi, u, v, _, _) = solver.Diagnose(uspec);
        double g = solver.Planet.Gravity, hm = solver.Planet.MeanDepth;
        var h = phi / g;
        var e = 0.5 * h * (u.pow(2) + v.pow(2)) + 0.5 * g * (h - hm).pow(2);
        return solver.GlobalMean(e).MoveToOuterDisposeScope();
    }

    /// <summary>Area-weighted RMS of a grid difference a − b over the last two axes: [..., nlat, nlon] → [...].</summary>
    public static Tensor RmsDifference(ShallowWaterSolver solver, Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        return solver.GlobalMean((a - b).pow(2)).sqrt().MoveToOuterDisposeScope();
    }
}
