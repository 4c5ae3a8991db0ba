using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>
/// Forward real scalar SHT, conformant with torch-harmonics `RealSHT` (docs sht-and-sfno §4.1):
/// f[..., nlat, nlon] (real) → c[..., lmax, mmax] (complex), c_l^m ≈ ∫ f conj(Y_l^m) dΩ.
/// <para>
/// lmax and mmax are counts (l &lt; lmax, m &lt; mmax) and are used exactly as given — no implicit triangular
/// truncation (torch-harmonics ≥ 0.9 would use min(lmax, mmax) for both; pass that yourself to match it).
/// The table is a NON-persistent buffer "weights" (so state dicts match makani), built in float64 and cast to
/// <c>dtype</c>; the module follows <c>.to(device)</c>/<c>.to(dtype)</c>.
/// </para>
/// </summary>
public sealed class RealSHT : SphericalTransformModule
{
    /// <summary>Grid rows, grid columns, degree count and order count.</summary>
    public readonly int NLat, NLon, LMax, MMax;
    /// <summary>The quadrature grid and the Legendre normalisation.</summary>
    public readonly GridType Grid;
    public readonly SphericalNorm Norm;
    public readonly bool CsPhase;
    readonly TriangularLegendre _plan;
    internal TriangularLegendre Plan => _plan;

    public RealSHT(int nlat, int nlon, int lmax, int mmax, GridType grid = GridType.LegendreGauss,
        SphericalNorm norm = SphericalNorm.Ortho, bool csphase = true, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(nameof(RealSHT), "weights")
    {
        ShtShapes.CheckSizes(nlat, nlon, lmax, mmax, grid);
        NLat = nlat; NLon = nlon; LMax = lmax; MMax = mmax; Grid = grid; Norm = norm; CsPhase = csphase;
        var g = new SphericalGrid(grid, nlat, nlon);
        double[] x = g.CosColatitudes();
        double[] w = g.QuadratureWeights();
        _plan = new TriangularLegendre(mmax, lmax, nlat, stack: 1, synthesis: false);
        var rows = new LegendreRows(lmax, x, norm, inverse: false, csphase);
        // W[m, l, k] = 2π · P[m, l, k] · w_k: the 2π of the longitude integral is folded into the float64 table.
        var table = _plan.Pack(m =>
        {
            double[] r = rows.Next();
            for (int i = 0; i < r.Length; i++) r[i] = r[i] * w[i % nlat] * (2 * Math.PI);
            return [r];
        }, dtype, device);
        RegisterTable(table);
    }

    /// <summary>f[..., nlat, nlon] real → c[..., lmax, mmax] complex.</summary>
    public override Tensor forward(Tensor input)
    {
        var table = Table;
        using var scope = torch.NewDisposeScope();
        var (lead, b, xr) = Orders(input, table, PieceRunners.Sequential);
        var y = _plan.Analyse(table, xr);                                           // [mmax, 1, lmax, 2B]
        var c = y.view(MMax, LMax, b, 2).permute(2, 1, 0, 3).contiguous();
        return torch.view_as_complex(c).reshape([.. lead, LMax, MMax]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The same coefficients in degree-major order: f[..., nlat, nlon] real → c[lmax, mmax, B] complex with
    /// B = the product of the leading dimensions (row-major), i.e. c[l, m, b] = forward(f)[b, l, m]. Saves the
    /// reordering copy when the next step works per degree (SFNO's dhconv: one bmm over l);
    /// <see cref="InverseRealSHT.InverseDegreeMajor"/> takes this layout back. The Fourier row chunks and the Legendre
    /// order blocks are handed to <paramref name="run"/> (default: in order on this thread).
    /// </summary>
    public Tensor ForwardDegreeMajor(Tensor input, PieceRunner? run = null)
    {
        var table = Table;
        run ??= PieceRunners.Sequential;
        using var scope = torch.NewDisposeScope();
        if (Native.NativeSht.Applies(input, table))
        {
            long[] lead = ShtShapes.Lead(input, nameof(RealSHT), NLat, NLon);
            ShtShapes.CheckDType(input, table, complexInput: false, nameof(RealSHT));
            return Native.NativeSht.Forward(input, ShtShapes.Product(lead), NLat, NLon, LMax, MMax, _plan, table, run).MoveToOuterDisposeScope();
        }
        var (_, b, xr) = Orders(input, table, run);
        var y = _plan.AnalyseDegreeMajor(table, xr, run);                           // [lmax, mmax, 2B]
        return torch.view_as_complex(y.view(LMax, MMax, b, 2)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Checks the input and returns its leading dims, their product B and the Fourier orders as [mmax, nlat, 2B] real
    /// (rfft in row chunks, <see cref="ShtShapes.FourierChunks"/>, each reordered straight into its columns).
    /// </summary>
    (long[] Lead, long B, Tensor Orders) Orders(Tensor input, Tensor table, PieceRunner run)
    {
        long[] lead = ShtShapes.Lead(input, nameof(RealSHT), NLat, NLon);
        ShtShapes.CheckDType(input, table, complexInput: false, nameof(RealSHT));
        long b = ShtShapes.Product(lead);
        var x = input.reshape(b, NLat, NLon);
        var orders = torch.empty([MMax, NLat, 2 * b], dtype: input.dtype, device: input.device);
        int nf = Math.Min(NLon / 2 + 1, MMax);
        if (nf < MMax) orders.narrow(0, nf, MMax - nf).fill_(Scalars.Of(0));
        var chunks = ShtShapes.FourierChunks(b, NLat, NLon);
        run(chunks.Length, k => chunks[k].Length, k =>
        {
            var (s, n) = chunks[k];
            var f = torch.fft.rfft(x.narrow(0, s, n), dim: -1, norm: FFTNormType.Forward);  // [n, nlat, nlon/2 + 1]
            orders.narrow(2, 2 * s, 2 * n).view(MMax, NLat, n, 2).narrow(0, 0, nf)
                .copy_(torch.view_as_real(f.narrow(-1, 0, nf)).permute(2, 1, 0, 3));
        });
        return (lead, b, orders);
    }
}

/// <summary>
/// Inverse real scalar SHT, conformant with torch-harmonics `InverseRealSHT` (§4.2):
/// c[..., lmax, mmax] (complex) → f[..., nlat, nlon] (real). The imaginary parts of the m = 0 (and, for even
/// nlon with nlon/2 &lt; mmax, the Nyquist) column are ignored (zeroed before the irfft). Non-persistent buffer "pct".
/// </summary>
public sealed class InverseRealSHT : SphericalTransformModule
{
    public readonly int NLat, NLon, LMax, MMax;
    public readonly GridType Grid;
    public readonly SphericalNorm Norm;
    public readonly bool CsPhase;
    readonly TriangularLegendre _plan;
    internal TriangularLegendre Plan => _plan;

    public InverseRealSHT(int nlat, int nlon, int lmax, int mmax, GridType grid = GridType.LegendreGauss,
        SphericalNorm norm = SphericalNorm.Ortho, bool csphase = true, ScalarType dtype = ScalarType.Float32, Device? device = null)
        : base(nameof(InverseRealSHT), "pct")
    {
        ShtShapes.CheckSizes(nlat, nlon, lmax, mmax, grid);
        NLat = nlat; NLon = nlon; LMax = lmax; MMax = mmax; Grid = grid; Norm = norm; CsPhase = csphase;
        double[] x = new SphericalGrid(grid, nlat, nlon).CosColatitudes();
        _plan = new TriangularLegendre(mmax, lmax, nlat, stack: 1, synthesis: true);
        var rows = new LegendreRows(lmax, x, norm, inverse: true, csphase);
        var table = _plan.Pack(_ => [rows.Next()], dtype, device);
        RegisterTable(table);
    }

    /// <summary>c[..., lmax, mmax] complex → f[..., nlat, nlon] real.</summary>
    public override Tensor forward(Tensor input)
    {
        var table = Table;
        long[] lead = ShtShapes.Lead(input, nameof(InverseRealSHT), LMax, MMax);
        ShtShapes.CheckDType(input, table, complexInput: true, nameof(InverseRealSHT));
        long b = ShtShapes.Product(lead);
        using var scope = torch.NewDisposeScope();
        var cr = torch.view_as_real(input.reshape(b, LMax, MMax)).permute(2, 1, 0, 3).reshape(MMax, LMax, 2 * b);
        var g = _plan.Synthesise(table, cr);                                         // [mmax, 1, nlat, 2B]
        // A strided view: the irfft's own zero-padding copy to nlon/2 + 1 orders gathers it (no separate permute copy).
        var gr = g.view(MMax, NLat, b, 2).permute(2, 1, 0, 3);                       // [B, nlat, mmax, 2]
        var f = ShtShapes.IrfftOrders(gr, MMax, NLon);
        return f.reshape([.. lead, NLat, NLon]).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The inverse of degree-major coefficients c[lmax, mmax, B] complex (the layout of
    /// <see cref="RealSHT.ForwardDegreeMajor"/>; B = the product of <paramref name="lead"/>) → f[..lead, nlat, nlon].
    /// </summary>
    /// <remarks>The Legendre order blocks and the Fourier row chunks are handed to <paramref name="run"/> (default: in
    /// order on this thread).</remarks>
    public Tensor InverseDegreeMajor(Tensor coefficients, long[] lead, PieceRunner? run = null)
    {
        run ??= PieceRunners.Sequential;
        var table = Table;
        long b = ShtShapes.Product(lead);
        if (coefficients.dim() != 3 || coefficients.shape[0] != LMax || coefficients.shape[1] != MMax || coefficients.shape[2] != b)
            throw new ArgumentException($"{nameof(InverseRealSHT)}: degree-major input has shape [{string.Join(", ", coefficients.shape)}], expected [{LMax}, {MMax}, {b}]");
        ShtShapes.CheckDType(coefficients, table, complexInput: true, nameof(InverseRealSHT));
        using var scope = torch.NewDisposeScope();
        if (Native.NativeSht.Applies(coefficients, table))
            return Native.NativeSht.Inverse(coefficients, b, NLat, NLon, LMax, MMax, _plan, table, run).reshape([.. lead, NLat, NLon]).MoveToOuterDisposeScope();
        var cr = torch.view_as_real(coefficients).view(LMax, MMax, 2 * b);
        var g = _plan.SynthesiseDegreeMajor(table, cr, run);                         // [mmax, 1, nlat, 2B]
        var gr = g.view(MMax, NLat, b, 2).permute(2, 1, 0, 3);                       // [B, nlat, mmax, 2]
        var chunks = ShtShapes.FourierChunks(b, NLat, NLon);
        if (chunks.Length == 1) return ShtShapes.IrfftOrders(gr, MMax, NLon).reshape([.. lead, NLat, NLon]).MoveToOuterDisposeScope();
        var f = torch.empty([b, NLat, NLon], dtype: g.dtype, device: g.device);
        run(chunks.Length, k => chunks[k].Length, k =>
        {
            var (s, n) = chunks[k];
            f.narrow(0, s, n).copy_(ShtShapes.IrfftOrders(gr.narrow(0, s, n), MMax, NLon));
        });
        return f.reshape([.. lead, NLat, NLon]).MoveToOuterDisposeScope();
    }
}
