using Ensemble.Core;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.World;

/// <summary>
/// Spectral rotating shallow-water solver in vorticity–divergence–geopotential form, a port of torch-harmonics
/// `ShallowWaterSolver` (docs sht-and-sfno §10). The spectral state is complex [..., 3, lmax, mmax] with slots
/// [Φ̂ = SHT(g·h), ζ̂, δ̂]; any leading dimensions (e.g. ensemble members) are carried through every operator.
/// All transforms use norm "ortho" and csphase = false on the same grid and truncation.
/// </summary>
public sealed class ShallowWaterSolver : IDisposable
{
    readonly RealSHT _sht;
    readonly InverseRealSHT _isht;
    readonly RealVectorSHT _vsht;
    readonly InverseRealVectorSHT _ivsht;

    public int NLat { get; }
    public int NLon { get; }
    public int LMax { get; }
    public int MMax { get; }
    public GridType Grid { get; }
    public PlanetConstants Planet { get; }
    /// <summary>Solver time step (s).</summary>
    public double Dt { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    /// <summary>Latitudes φ_k (rad), north → south, computed as −arcsin(x_k) from the ascending quadrature nodes (as the reference).</summary>
    public double[] Latitudes { get; }
    /// <summary>Longitudes λ_j = 2πj/nlon (rad).</summary>
    public double[] Longitudes { get; }
    /// <summary>Quadrature weights w_k (Σ = 2), in the reference's (ascending-node) order; the rules are symmetric.</summary>
    public double[] QuadratureWeights { get; }

    /// <summary>−l(l+1)/a², [lmax, mmax] real.</summary>
    public Tensor Lap { get; }
    /// <summary>−a²/(l(l+1)), 0 at l = 0, [lmax, mmax] real.</summary>
    public Tensor InvLap { get; }
    /// <summary>f = 2Ω sin φ, [nlat, 1] real.</summary>
    public Tensor Coriolis { get; }
    /// <summary>exp(−(dt/2/3600)·(lap/lap[lmax−1])⁴) scaled by <c>hyperdiffusionHours</c>, [lmax, mmax] real.</summary>
    public Tensor HyperDiff { get; }
    /// <summary>1 where m ≤ l, else 0, [lmax, mmax] real (the reference's `tril`).</summary>
    public Tensor TriangularMask { get; }

    readonly Tensor _lapRadius;   // lap · a, as the reference multiplies (lap · radius) · vsht
    readonly Tensor _cellWeights; // [nlat, 1] w_k · 2π/nlon / 4π: area weights of a global mean

    /// <param name="hyperdiffusionHours">E-folding time (hours) of the highest degree per unit ... the reference uses 2
    /// (factor exp(−dt/(2·3600)) per step at l = lmax−1).</param>
    public ShallowWaterSolver(int nlat, int nlon, int lmax, int mmax, double dt, GridType grid = GridType.LegendreGauss,
        PlanetConstants? planet = null, double hyperdiffusionHours = 2.0, ScalarType dtype = ScalarType.Float64, Device? device = null)
    {
        if (lmax < 2 || mmax < 1 || mmax > lmax) throw new EnsembleException($"shallow-water solver: need 2 ≤ lmax and 1 ≤ mmax ≤ lmax, got lmax {lmax}, mmax {mmax}");
        if (!(dt > 0)) throw new EnsembleException($"shallow-water solver: time step must be > 0 s, got {dt}");
        if (!(hyperdiffusionHours > 0)) throw new EnsembleException($"shallow-water solver: hyperdiffusion time must be > 0 h, got {hyperdiffusionHours}");
        if (dtype != ScalarType.Float64 && dtype != ScalarType.Float32) throw new EnsembleException($"shallow-water solver: dtype must be float32 or float64, got {dtype}");
        NLat = nlat; NLon = nlon; LMax = lmax; MMax = mmax; Dt = dt; Grid = grid; DType = dtype;
        Planet = planet ?? PlanetConstants.Earth;
        Device = device ?? CPU;
        _sht = new RealSHT(nlat, nlon, lmax, mmax, grid, SphericalNorm.Ortho, csphase: false, dtype, Device);
        _isht = new InverseRealSHT(nlat, nlon, lmax, mmax, grid, SphericalNorm.Ortho, csphase: false, dtype, Device);
        _vsht = new RealVectorSHT(nlat, nlon, lmax, mmax, grid, SphericalNorm.Ortho, csphase: false, dtype, Device);
        _ivsht = new InverseRealVectorSHT(nlat, nlon, lmax, mmax, grid, SphericalNorm.Ortho, csphase: false, dtype, Device);

        var (x, w) = Quadrature.Nodes(grid, nlat);
        QuadratureWeights = w;
        Latitudes = x.Select(c => -Math.Asin(c)).ToArray();
        Longitudes = Enumerable.Range(0, nlon).Select(j => 2 * Math.PI * j / nlon).ToArray();

        double a = Planet.Radius;
        var lap = new double[lmax * mmax];
        var invlap = new double[lmax * mmax];
        var hyper = new double[lmax * mmax];
        var tri = new double[lmax * mmax];
        double lapLast = -(double)(lmax - 1) * lmax / (a * a);
        for (int l = 0; l < lmax; l++)
        {
            double lp = -(double)l * (l + 1) / (a * a);
            double ilp = l == 0 ? 0.0 : -(a * a) / l / (l + 1);
            double ratio = lp / lapLast;
            double h = Math.Exp((-dt / hyperdiffusionHours / 3600.0) * Math.Pow(ratio, 4));
            for (int m = 0; m < mmax; m++)
            {
                lap[l * mmax + m] = lp;
                invlap[l * mmax + m] = ilp;
                hyper[l * mmax + m] = h;
                tri[l * mmax + m] = m <= l ? 1.0 : 0.0;
            }
        }
        Tensor T(double[] v, params long[] shape) => torch.tensor(v, dtype: ScalarType.Float64).reshape(shape).to(dtype, Device).detach();
        Lap = T(lap, lmax, mmax);
        InvLap = T(invlap, lmax, mmax);
        HyperDiff = T(hyper, lmax, mmax);
        TriangularMask = T(tri, lmax, mmax);
        _lapRadius = T(lap.Select(v => v * a).ToArray(), lmax, mmax);
        Coriolis = T(Latitudes.Select(p => 2 * Planet.Omega * Math.Sin(p)).ToArray(), nlat, 1);
        _cellWeights = T(w.Select(v => v * (2 * Math.PI / nlon) / (4 * Math.PI)).ToArray(), nlat, 1);
    }

    /// <summary>Complex dtype of spectral states.</summary>
    public ScalarType ComplexDType => DType == ScalarType.Float64 ? ScalarType.ComplexFloat64 : ScalarType.ComplexFloat32;

    /// <summary>Scalar SHT: [..., nlat, nlon] → [..., lmax, mmax].</summary>
    public Tensor Grid2Spec(Tensor grid) => _sht.forward(grid);

    /// <summary>Inverse scalar SHT: [..., lmax, mmax] → [..., nlat, nlon].</summary>
    public Tensor Spec2Grid(Tensor spec) => _isht.forward(spec);

    /// <summary>(u, v) grid [..., 2, nlat, nlon] → (ζ̂, δ̂) [..., 2, lmax, mmax]: lap · a · vsht(u, v).</summary>
    public Tensor VrtDivSpec(Tensor uv)
    {
        using var s = _vsht.forward(uv);
        return _lapRadius * s;
    }

    /// <summary>(ζ̂, δ̂) [..., 2, lmax, mmax] → (u, v) grid [..., 2, nlat, nlon]: ivsht(invlap · (ζ̂, δ̂) / a).</summary>
    public Tensor GetUV(Tensor vrtdiv)
    {
        using var scope = torch.NewDisposeScope();
        return _ivsht.forward((InvLap * vrtdiv).div(Scalars.Of(Planet.Radius))).MoveToOuterDisposeScope();
    }

    /// <summary>Zeroes all m &gt; l (the reference's `torch.tril` on the last two axes).</summary>
    public Tensor Tril(Tensor spec) => spec * TriangularMask;

    /// <summary>Time derivative of the unforced equations (reference `dudtspec`), [..., 3, lmax, mmax] → same shape.</summary>
    public Tensor Tendency(Tensor uspec)
    {
        CheckState(uspec);
        using var scope = torch.NewDisposeScope();
        var ugrid = Spec2Grid(uspec);                                   // [..., 3, nlat, nlon]
        var uv = GetUV(uspec.narrow(-3, 1, 2));                         // [..., 2, nlat, nlon]
        var phi = ugrid.narrow(-3, 0, 1);
        var vort = ugrid.narrow(-3, 1, 1);

        // Both flux transforms in one batched vector SHT call: (u, v)(ζ + f) and (u, v)Φ.
        var fluxes = VrtDivSpec(torch.stack([uv * vort.add(Coriolis, Scalars.One), uv * phi], -4));
        var tmpspec = fluxes.select(-4, 0);
        var dDiv = tmpspec.select(-3, 0);
        var dVort = tmpspec.select(-3, 1).neg();

        var dPhi = fluxes.select(-4, 1).select(-3, 1).neg();

        var u = uv.select(-3, 0);
        var v = uv.select(-3, 1);
        // Cached Scalars and add(…, One) instead of +: see Ensemble.Core.Scalars.
        var bern = Grid2Spec(phi.squeeze(-3).add(u.mul(u).add(v.mul(v), Scalars.One).mul(Scalars.Of(0.5)), Scalars.One));
        dDiv = dDiv - Lap * bern;
        return torch.stack([dPhi, dVort, dDiv], -3).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Integrates <paramref name="nsteps"/> steps exactly as the reference `timestep` (fresh AB3 start each call,
    /// no forcing): Euler, then the 7/3, −4/3 step, then AB3; hyperdiffusion on ζ̂, δ̂ after every step.
    /// </summary>
    public Tensor Timestep(Tensor uspec, int nsteps)
    {
        using var stepper = new AdamsBashforth3(this);
        var u = uspec.alias();
        for (int n = 0; n < nsteps; n++)
        {
            var next = stepper.Step(u, forcing: null);
            u.Dispose();
            u = next;
        }
        return u;
    }

    /// <summary>Grid fields [..., 3, nlat, nlon] = (Φ, ζ, δ) of a spectral state.</summary>
    public Tensor StateToGrid(Tensor uspec) => Spec2Grid(uspec);

    /// <summary>Geopotential Φ, wind u, v and vorticity/divergence on the grid, each [..., nlat, nlon].</summary>
    public (Tensor Phi, Tensor U, Tensor V, Tensor Vort, Tensor Div) Diagnose(Tensor uspec)
    {
        using var scope = torch.NewDisposeScope();
        var g = Spec2Grid(uspec);
        var uv = GetUV(uspec.narrow(-3, 1, 2));
        var r = (g.select(-3, 0), uv.select(-3, 0), uv.select(-3, 1), g.select(-3, 1), g.select(-3, 2));
        return (r.Item1.contiguous().MoveToOuterDisposeScope(), r.Item2.contiguous().MoveToOuterDisposeScope(),
            r.Item3.contiguous().MoveToOuterDisposeScope(), r.Item4.contiguous().MoveToOuterDisposeScope(),
            r.Item5.contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>Area-weighted global mean over the last two (lat, lon) axes: [..., nlat, nlon] → [...].</summary>
    public Tensor GlobalMean(Tensor grid) => (grid * _cellWeights).sum([-2L, -1L]);

    /// <summary>
    /// Spectral state from grid wind (u, v) [..., 2, nlat, nlon] and geopotential Φ [..., nlat, nlon]:
    /// (ζ̂, δ̂) = vrtdivspec(u, v), Φ̂ = SHT(Φ), truncated triangularly.
    /// </summary>
    public Tensor StateFromGrid(Tensor uv, Tensor phi)
    {
        using var scope = torch.NewDisposeScope();
        var vd = VrtDivSpec(uv);
        var p = Grid2Spec(phi).unsqueeze(-3);
        return Tril(torch.cat([p, vd], -3)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Geopotential (spectral, [..., lmax, mmax]) in nonlinear balance with a wind field (u, v) [..., 2, nlat, nlon],
    /// plus SHT(background): Φ̂ = invlap · curl((ζ+f)u)^ − SHT(½|u|²) + SHT(background), as the Galewsky setup does.
    /// </summary>
    public Tensor BalancedGeopotential(Tensor uv, Tensor backgroundPhi)
    {
        using var scope = torch.NewDisposeScope();
        var vrtdivspec = VrtDivSpec(uv);
        var vrtdivgrid = Spec2Grid(vrtdivspec);
        var tmpspec = VrtDivSpec(uv * (vrtdivgrid + Coriolis));
        var ke = Grid2Spec(0.5 * torch.sum(uv.pow(2), -3));
        return (InvLap * tmpspec.select(-3, 0) - ke + Grid2Spec(backgroundPhi)).MoveToOuterDisposeScope();
    }

    /// <summary>The Galewsky et al. (2004) barotropically unstable jet with a height bump (reference `galewsky_initial_condition`), [3, lmax, mmax].</summary>
    public Tensor GalewskyInitialCondition()
    {
        using var scope = torch.NewDisposeScope();
        // The reference builds φ0, φ1 and en as float32 tensors (torch.asarray of a Python float), so their values
        // carry float32 rounding into the float64 fields; reproduce that to match it beyond 1e-7.
        float phi0f = (float)(Math.PI / 7.0);
        float phi1f = (float)(0.5 * Math.PI) - phi0f;
        float dphi = phi1f - phi0f;
        float enf = MathF.Exp(-4.0f / (dphi * dphi));
        double phi0 = phi0f, phi1 = phi1f, phi2 = 0.25 * Math.PI;
        double ucoef = (float)(80.0f / enf);
        double alpha = 1.0 / 3.0, beta = 1.0 / 15.0;
        var u = new double[NLat * NLon];
        var bump = new double[NLat * NLon];
        for (int k = 0; k < NLat; k++)
        {
            double lat = Latitudes[k];
            double uk = lat < phi1 && lat > phi0 ? ucoef * Math.Exp(1.0 / ((lat - phi0) * (lat - phi1))) : 0.0;
            for (int j = 0; j < NLon; j++)
            {
                double lon = Longitudes[j];
                u[k * NLon + j] = uk;
                double dl = (lon - Math.PI) / alpha;
                bump[k * NLon + j] = Planet.BumpAmplitude * Math.Cos(lat) * Math.Exp(-dl * dl) * Math.Exp(-(phi2 - lat) * (phi2 - lat) / beta);
            }
        }
        var ugrid = torch.tensor(u, dtype: ScalarType.Float64).reshape(NLat, NLon).to(DType, Device);
        var uv = torch.stack([ugrid, torch.zeros_like(ugrid)]);
        var hb = torch.tensor(bump, dtype: ScalarType.Float64).reshape(NLat, NLon).to(DType, Device);
        var vrtdivspec = VrtDivSpec(uv);
        var phispec = BalancedGeopotential(uv, Planet.Gravity * (Planet.MeanDepth + hb));
        return Tril(torch.cat([phispec.unsqueeze(0), vrtdivspec], 0)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Random spectral initial condition (reference `random_initial_condition`): complex Gaussian coefficients for
    /// l, m &lt; <paramref name="limit"/> scaled by √(4π/(limit(limit+1))); Φ̂ × g·h_amp plus √(4π)·h_avg·g at (0, 0);
    /// ζ̂, δ̂ × mach·√(g·h_avg)/a; tril. The stream comes from <paramref name="generator"/> (not PyTorch's global one).
    /// </summary>
    public Tensor RandomInitialCondition(Generator generator, double mach = 0.1, int limit = 80, long[]? batch = null)
    {
        using var scope = torch.NewDisposeScope();
        int ll = Math.Min(limit, LMax), ml = Math.Min(limit, MMax);
        long[] lead = batch ?? [];
        var xi = torch.randn([.. lead, 3, ll, ml], dtype: ComplexDType, device: Device, generator: generator);
        var spec = torch.zeros([.. lead, 3, LMax, MMax], dtype: ComplexDType, device: Device);
        spec.narrow(-2, 0, ll).narrow(-1, 0, ml).copy_(xi * Math.Sqrt(4 * Math.PI / limit / (limit + 1)));
        double g = Planet.Gravity;
        var phi = spec.select(-3, 0) * (g * Planet.BumpAmplitude);
        var mean = torch.zeros([LMax, MMax], dtype: ComplexDType, device: Device);
        mean[0, 0] = torch.tensor(Math.Sqrt(4 * Math.PI) * Planet.MeanDepth * g, dtype: DType);
        var vd = spec.narrow(-3, 1, 2) * (mach * Math.Sqrt(g * Planet.MeanDepth) / Planet.Radius);
        return Tril(torch.cat([(phi + mean).unsqueeze(-3), vd], -3)).MoveToOuterDisposeScope();
    }

    internal void CheckState(Tensor uspec)
    {
        if (uspec.dim() < 3 || uspec.shape[^3] != 3 || uspec.shape[^2] != LMax || uspec.shape[^1] != MMax)
            throw new EnsembleException($"shallow-water state: expected [..., 3, {LMax}, {MMax}], got [{string.Join(", ", uspec.shape)}]");
        if (uspec.dtype != ComplexDType)
            throw new EnsembleException($"shallow-water state: expected dtype {ComplexDType}, got {uspec.dtype}");
    }

    public void Dispose()
    {
        _sht.Dispose(); _isht.Dispose(); _vsht.Dispose(); _ivsht.Dispose();
        Lap.Dispose(); InvLap.Dispose(); Coriolis.Dispose(); HyperDiff.Dispose(); TriangularMask.Dispose();
        _lapRadius.Dispose(); _cellWeights.Dispose();
    }
}
