using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>
/// Forward real vector SHT, conformant with torch-harmonics `RealVectorSHT` (docs sht-and-sfno §5):
/// v[..., 2, nlat, nlon] with components (v_θ, v_λ) → [..., 2, lmax, mmax] complex (spheroidal, toroidal).
/// Non-persistent buffer "weights"; tables built in float64 then cast.
/// </summary>
public sealed class RealVectorSHT : SphericalTransformModule
{
    public readonly int NLat, NLon, LMax, MMax;
    public readonly GridType Grid;
    public readonly SphericalNorm Norm;
    public readonly bool CsPhase;
    readonly TriangularLegendre _plan;
    internal TriangularLegendre Plan => _plan;

    public RealVectorSHT(int nlat, int nlon, int lmax, int mmax, GridType grid = GridType.LegendreGauss,
        SphericalNorm norm = SphericalNorm.Ortho, bool csphase = true, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(nameof(RealVectorSHT), "weights")
    {
        ShtShapes.CheckSizes(nlat, nlon, lmax, mmax, grid);
        NLat = nlat; NLon = nlon; LMax = lmax; MMax = mmax; Grid = grid; Norm = norm; CsPhase = csphase;
        var g = new SphericalGrid(grid, nlat, nlon);
        double[] x = g.CosColatitudes();
        double[] w = g.QuadratureWeights();
        var d = Legendre.DerivativeTable(mmax, lmax, x, norm, inverse: false, csphase);
        _plan = new TriangularLegendre(mmax, lmax, nlat, stack: 2, synthesis: false);
        // W[d, m, l, k] = 2π · dP[d, m, l, k] · w_k · n_l, n_l = 1/(l(l+1)) (1 at l = 0); W[1] *= −1.
        // torch-harmonics evaluates n_l as `1.0 / l / (l + 1)` on an int64 arange, i.e. in float32
        // (≈3e−8 relative off); we reproduce that to conform with its outputs (docs §5, vsht fixtures).
        var nl = new double[lmax];
        for (int l = 0; l < lmax; l++) nl[l] = l == 0 ? 1.0 : (double)(1.0f / l / (l + 1));
        var table = _plan.Pack(m =>
        {
            var r = new double[2][];
            for (int s = 0; s < 2; s++)
            {
                r[s] = new double[(lmax - m) * nlat];
                for (int l = m; l < lmax; l++)
                {
                    double sign = s == 1 ? -1.0 : 1.0;
                    for (int k = 0; k < nlat; k++) r[s][(l - m) * nlat + k] = sign * (d[s, m, l, k] * w[k] * nl[l]) * (2 * Math.PI);
                }
            }
            return r;
        }, dtype, device);
        RegisterTable(table);
    }

    /// <summary>v[..., 2, nlat, nlon] real → [..., 2, lmax, mmax] complex.</summary>
    public override Tensor forward(Tensor input)
    {
        var table = Table;
        long[] lead = ShtShapes.Lead(input, nameof(RealVectorSHT), 2, NLat, NLon);
        ShtShapes.CheckDType(input, table, complexInput: false, nameof(RealVectorSHT));
        long b = ShtShapes.Product(lead);
        using var scope = torch.NewDisposeScope();
        var f = ShtShapes.RfftOrders(input.reshape(b, 2, NLat, NLon), MMax);                // [B, 2, nlat, mmax]
        // columns (batch, component d, re/im)
        var xr = torch.view_as_real(f).permute(3, 2, 0, 1, 4).reshape(MMax, NLat, 4 * b);
        var y = _plan.Analyse(table, xr).view(MMax, 2, LMax, b, 2, 2);                    // [m, table, l, B, d, ri]
        Tensor A(int t, int comp, int ri) => y.select(5, ri).select(4, comp).select(1, t); // [m, l, B]
        var sRe = A(0, 0, 0) - A(1, 1, 1);
        var sIm = A(0, 0, 1) + A(1, 1, 0);
        var tRe = -A(1, 0, 1) - A(0, 1, 0);
        var tIm = A(1, 0, 0) - A(0, 1, 1);
        var st = torch.stack([torch.stack([sRe, sIm], -1), torch.stack([tRe, tIm], -1)], 0); // [2, m, l, B, ri]
        var c = st.permute(3, 0, 2, 1, 4).contiguous();                                     // [B, 2, l, m, ri]
        return torch.view_as_complex(c).reshape([.. lead, 2, LMax, MMax]).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Inverse real vector SHT, conformant with torch-harmonics `InverseRealVectorSHT` (§5):
/// [..., 2, lmax, mmax] complex (spheroidal, toroidal) → [..., 2, nlat, nlon] real (v_θ, v_λ).
/// Non-persistent buffer "dpct".
/// </summary>
public sealed class InverseRealVectorSHT : SphericalTransformModule
{
    public readonly int NLat, NLon, LMax, MMax;
    public readonly GridType Grid;
    public readonly SphericalNorm Norm;
    public readonly bool CsPhase;
    readonly TriangularLegendre _plan;
    internal TriangularLegendre Plan => _plan;

    public InverseRealVectorSHT(int nlat, int nlon, int lmax, int mmax, GridType grid = GridType.LegendreGauss,
        SphericalNorm norm = SphericalNorm.Ortho, bool csphase = true, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(nameof(InverseRealVectorSHT), "dpct")
    {
        ShtShapes.CheckSizes(nlat, nlon, lmax, mmax, grid);
        NLat = nlat; NLon = nlon; LMax = lmax; MMax = mmax; Grid = grid; Norm = norm; CsPhase = csphase;
        double[] x = new SphericalGrid(grid, nlat, nlon).CosColatitudes();
        var d = Legendre.DerivativeTable(mmax, lmax, x, norm, inverse: true, csphase);
        _plan = new TriangularLegendre(mmax, lmax, nlat, stack: 2, synthesis: true);
        var table = _plan.Pack(m =>
        {
            var r = new double[2][];
            for (int s = 0; s < 2; s++)
            {
                r[s] = new double[(lmax - m) * nlat];
                for (int l = m; l < lmax; l++)
                    for (int k = 0; k < nlat; k++) r[s][(l - m) * nlat + k] = d[s, m, l, k];
            }
            return r;
        }, dtype, device);
        RegisterTable(table);
    }

    /// <summary>[..., 2, lmax, mmax] complex → [..., 2, nlat, nlon] real.</summary>
    public override Tensor forward(Tensor input)
    {
        var table = Table;
        long[] lead = ShtShapes.Lead(input, nameof(InverseRealVectorSHT), 2, LMax, MMax);
        ShtShapes.CheckDType(input, table, complexInput: true, nameof(InverseRealVectorSHT));
        long b = ShtShapes.Product(lead);
        using var scope = torch.NewDisposeScope();
        // columns (batch, spheroidal/toroidal, re/im)
        var cr = torch.view_as_real(input.reshape(b, 2, LMax, MMax)).permute(3, 2, 0, 1, 4).reshape(MMax, LMax, 4 * b);
        var y = _plan.Synthesise(table, cr).view(MMax, 2, NLat, b, 2, 2);                   // [m, table, k, B, st, ri]
        Tensor Bf(int t, int st, int ri) => y.select(5, ri).select(4, st).select(1, t);     // [m, k, B]
        var v0Re = Bf(0, 0, 0) - Bf(1, 1, 1);
        var v0Im = Bf(0, 0, 1) + Bf(1, 1, 0);
        var v1Re = -Bf(1, 0, 1) - Bf(0, 1, 0);
        var v1Im = Bf(1, 0, 0) - Bf(0, 1, 1);
        var v = torch.stack([torch.stack([v0Re, v0Im], -1), torch.stack([v1Re, v1Im], -1)], 0); // [2, m, k, B, ri]
        var g = v.permute(3, 0, 2, 1, 4).contiguous();                                        // [B, 2, k, m, ri]
        var f = ShtShapes.IrfftOrders(g, MMax, NLon);
        return f.reshape([.. lead, 2, NLat, NLon]).MoveToOuterDisposeScope();
    }
}
