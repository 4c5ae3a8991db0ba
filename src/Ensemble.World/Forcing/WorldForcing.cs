using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// The forcing/dissipation tendency added to the shallow-water dynamics:
/// dΦ̂/dt += −(Φ̂ − Φ̂_eq)/τ_R,  dζ̂/dt += −D ζ̂/τ_D − P₀(ζ̂ − ζ̂_eq)/τ_J + S,  dδ̂/dt += −D δ̂/τ_D,
/// where Φ_eq is the geopotential in nonlinear balance with zonal jets u_eq(φ) = U·(G(φ − φ_j) + G(φ + φ_j)),
/// G(x) = exp(−(x/w)²), around the mean depth, D keeps degrees l ≤ drag_lmax (all when 0), P₀ keeps the zonal-mean (m = 0) coefficients, ζ̂_eq is the jets'
/// vorticity (τ_J = jet_relaxation_days, 0 = off) and S is the <see cref="StochasticStirring"/>.
/// </summary>
public sealed class WorldForcing : IDisposable
{
    readonly ShallowWaterSolver _solver;
    readonly ForcingParameters _p;
    readonly Tensor _phiEq;      // [lmax, mmax] complex
    readonly Tensor _zonalVortEq; // [lmax, mmax] complex: ζ̂_eq on m = 0, zero elsewhere
    readonly Tensor _zonal;      // [lmax, mmax] real: 1 on m = 0
    readonly Tensor _drag;       // [lmax, mmax] real: 1/τ_D on the dragged degrees

    public StochasticStirring Stirring { get; }

    public WorldForcing(ShallowWaterSolver solver, ForcingParameters parameters, long seed)
    {
        _solver = solver;
        _p = parameters;
        Stirring = new StochasticStirring(solver, parameters, seed);
        using var scope = torch.NewDisposeScope();
        var uv = torch.stack([EquilibriumWind(), torch.zeros(solver.NLat, solver.NLon, dtype: solver.DType, device: solver.Device)]);
        var background = torch.full(solver.NLat, solver.NLon, solver.Planet.Gravity * solver.Planet.MeanDepth, dtype: solver.DType, device: solver.Device);
        _phiEq = solver.Tril(solver.BalancedGeopotential(uv, background)).MoveToOuterDisposeScope();
        var zonal = new double[solver.LMax * solver.MMax];
        for (int l = 0; l < solver.LMax; l++) zonal[l * solver.MMax] = 1.0;
        _zonal = torch.tensor(zonal, dtype: ScalarType.Float64).reshape(solver.LMax, solver.MMax).to(solver.DType, solver.Device).MoveToOuterDisposeScope();
        var drag = new double[solver.LMax * solver.MMax];
        for (int l = 0; l < solver.LMax; l++)
            for (int m = 0; m < solver.MMax; m++)
                drag[l * solver.MMax + m] = parameters.DragLmax == 0 || l <= parameters.DragLmax ? 1.0 / (parameters.DragDays * 86400.0) : 0.0;
        _drag = torch.tensor(drag, dtype: ScalarType.Float64).reshape(solver.LMax, solver.MMax).to(solver.DType, solver.Device).MoveToOuterDisposeScope();
        _zonalVortEq = (solver.VrtDivSpec(uv).select(0, 0) * _zonal).MoveToOuterDisposeScope();
    }

    /// <summary>The equilibrium zonal wind u_eq on the grid, [nlat, nlon] (m/s).</summary>
    public Tensor EquilibriumWind()
    {
        double c = _p.JetLatitude * Math.PI / 180, w = _p.JetWidth * Math.PI / 180;
        var u = new double[_solver.NLat * _solver.NLon];
        for (int k = 0; k < _solver.NLat; k++)
        {
            double p = _solver.Latitudes[k];
            double uk = _p.JetSpeed * (Math.Exp(-Math.Pow((p - c) / w, 2)) + Math.Exp(-Math.Pow((p + c) / w, 2)));
            for (int j = 0; j < _solver.NLon; j++) u[k * _solver.NLon + j] = uk;
        }
        return torch.tensor(u, dtype: ScalarType.Float64).reshape(_solver.NLat, _solver.NLon).to(_solver.DType, _solver.Device);
    }

    /// <summary>Equilibrium geopotential Φ̂_eq, [lmax, mmax].</summary>
    public Tensor EquilibriumGeopotential => _phiEq;

    /// <summary>Forcing tendency for state [..., 3, lmax, mmax] with the stirring at its current update.</summary>
    public Tensor Tendency(Tensor uspec)
    {
        using var scope = torch.NewDisposeScope();
        double rel = 1.0 / (_p.RelaxationDays * 86400.0);
        var phi = (uspec.select(-3, 0) - _phiEq).mul(Scalars.Of(-rel));   // cached scalars: see Ensemble.Core.Scalars
        var vort = uspec.select(-3, 1) * -_drag;
        if (_p.JetRelaxationDays > 0)
            vort = vort - (uspec.select(-3, 1) * _zonal - _zonalVortEq).mul(Scalars.Of(1.0 / (_p.JetRelaxationDays * 86400.0)));
        if (_p.StirringAmplitude > 0) vort = vort.add(Stirring.Current, Scalars.One);
        var div = uspec.select(-3, 2) * -_drag;
        return torch.stack([phi, vort, div], -3).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        Stirring.Dispose();
        _phiEq.Dispose();
        _zonalVortEq.Dispose();
        _zonal.Dispose();
        _drag.Dispose();
    }
}
