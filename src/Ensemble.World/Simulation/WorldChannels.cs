using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>One output channel: short name (ERA5 style), units, long name.</summary>
public sealed record WorldChannel(string Name, string Units, string LongName);

/// <summary>
/// The fixed channel order of world snapshots [C, lat, lon] and the mapping between spectral states and grid
/// fields. <c>pv</c> is derived ((ζ + f)/h) and ignored when a grid state is turned back into a spectral one.
/// </summary>
public static class WorldChannels
{
    public static IReadOnlyList<WorldChannel> All { get; } =
    [
        new("z", "m", "geopotential height (Φ/g)"),
        new("u", "m s**-1", "eastward wind"),
        new("v", "m s**-1", "northward wind"),
        new("vo", "s**-1", "relative vorticity"),
        new("div", "s**-1", "divergence"),
        new("pv", "m**-1 s**-1", "shallow-water potential vorticity (ζ + f)/h"),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(c => c.Name).ToArray();
    public static int Count => All.Count;

    /// <summary>Index of a channel name; <see cref="EnsembleException"/> if unknown.</summary>
    public static int IndexOf(string name)
    {
        for (int i = 0; i < All.Count; i++) if (All[i].Name == name) return i;
        throw new EnsembleException($"world: unknown channel '{name}' (channels: {string.Join(", ", Names)})");
    }

    /// <summary>Spectral state [..., 3, lmax, mmax] → grid fields [..., C, nlat, nlon] in the solver dtype.</summary>
    public static Tensor ToGrid(ShallowWaterSolver solver, Tensor uspec)
    {
        using var scope = torch.NewDisposeScope();
        var (phi, u, v, vo, div) = solver.Diagnose(uspec);
        var h = phi / solver.Planet.Gravity;
        var pv = (vo + solver.Coriolis) / h;
        return torch.stack([h, u, v, vo, div, pv], -3).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Grid fields [..., C, nlat, nlon] (channel order <see cref="Names"/>, any float dtype) → spectral state
    /// [..., 3, lmax, mmax] from u, v and z: (ζ̂, δ̂) = vrtdivspec(u, v), Φ̂ = SHT(g·z).
    /// </summary>
    public static Tensor FromGrid(ShallowWaterSolver solver, Tensor grid)
    {
        if (grid.dim() < 3 || grid.shape[^3] != Count || grid.shape[^2] != solver.NLat || grid.shape[^1] != solver.NLon)
            throw new EnsembleException($"world grid state: expected [..., {Count}, {solver.NLat}, {solver.NLon}] ({string.Join(", ", Names)}), got [{string.Join(", ", grid.shape)}]");
        using var scope = torch.NewDisposeScope();
        var g = grid.to(solver.DType, solver.Device);
        var uv = g.narrow(-3, 1, 2);
        var phi = g.select(-3, 0) * solver.Planet.Gravity;
        return solver.StateFromGrid(uv.contiguous(), phi.contiguous()).MoveToOuterDisposeScope();
    }
}
