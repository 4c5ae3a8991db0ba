using System.Runtime.Intrinsics.X86;
using Ensemble.Core;
using Ensemble.Core.Native;
using Ensemble.Spherical;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// makani SpectralConvS2 (linear filter): x → SHT → per-degree complex mixing of channels → inverse SHT.
/// Weight "weight" is complex [E, E, lmax] for "dhconv" (shared over m) or [E, E, lmax, mmax] for "diagonal".
/// Returns the filtered field and the skip path: the input itself, or inverse(forward(x)) when the block
/// changes grid (first and last block).
/// </summary>
public sealed class SpectralConv : nn.Module<Tensor, (Tensor Output, Tensor Residual)>
{
    // Plain holder: TorchSharp registers Module/Parameter-typed fields by name; the transforms belong to the network.
    sealed class Parts { public required RealSHT Forward; public required InverseRealSHT Inverse; public required TorchSharp.Modules.Parameter Weight; }
    readonly Parts _p;
    readonly bool _scaleResidual;
    readonly bool _diagonal;

    public SpectralConv(RealSHT forwardTransform, InverseRealSHT inverseTransform, int embedDim, string operatorType, ScalarType dtype)
        : base("SpectralConvS2")
    {
        _scaleResidual = forwardTransform.NLat != inverseTransform.NLat || forwardTransform.NLon != inverseTransform.NLon
                         || forwardTransform.Grid != inverseTransform.Grid;
        _diagonal = operatorType == "diagonal";
        var complexType = dtype == ScalarType.Float64 ? ScalarType.ComplexFloat64 : ScalarType.ComplexFloat32;
        long[] shape = _diagonal ? [embedDim, embedDim, forwardTransform.LMax, forwardTransform.MMax] : [embedDim, embedDim, forwardTransform.LMax];
        _p = new Parts { Forward = forwardTransform, Inverse = inverseTransform, Weight = new TorchSharp.Modules.Parameter(torch.zeros(shape, dtype: complexType)) };
        register_parameter("weight", _p.Weight);
    }

    public TorchSharp.Modules.Parameter Weight => _p.Weight;
    internal RealSHT ForwardTransform => _p.Forward;
    internal InverseRealSHT InverseTransform => _p.Inverse;

    /// <summary>The skip path is inverse(forward(x)) (the block changes grid), not x itself.</summary>
    internal bool ScaleResidual => _scaleResidual;

    /// <summary>operator_type "diagonal" (weights per (l, m)); "dhconv" otherwise.</summary>
    internal bool Diagonal => _diagonal;

    public override (Tensor Output, Tensor Residual) forward(Tensor x)
    {
        var inputType = x.dtype;
        var paramType = _p.Weight.dtype == ScalarType.ComplexFloat64 ? ScalarType.Float64 : ScalarType.Float32;
        if (!_diagonal) return DegreeMajor(x, paramType);
        using var scope = torch.NewDisposeScope();
        var xf = x.to(paramType);
        var xs = _p.Forward.forward(xf);                                            // [B, E, lmax, mmax] complex
        var residual = _scaleResidual ? _p.Inverse.forward(xs).to(inputType) : x.alias();
        var zs = _diagonal
            ? torch.einsum("bixy,ioxy->boxy", xs, _p.Weight)
            : torch.einsum("bixy,iox->boxy", xs, _p.Weight);
        var y = _p.Inverse.forward(zs.contiguous()).to(inputType);
        return (y.MoveToOuterDisposeScope(), residual.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// zs[l, m, b, o] = Σ_i xs[l, m, b, i] · w[l, i, o] for m ≤ l (the coefficients with m &gt; l are zero): degrees in
    /// groups, each one bmm over its degrees (at lmax ≥ 64 only on the orders m ≤ its last degree, which skips most of
    /// the zero triangle). The groups are pieces for <paramref name="run"/>; their number depends on lmax only.
    /// </summary>
    static Tensor DegreeGroups(Tensor xs, Tensor w, long b, long o, PieceRunner run)
    {
        if (NativeDhconv && NativeKernels.Active && xs.device_type == DeviceType.CPU && !(torch.is_grad_enabled() && (xs.requires_grad || w.requires_grad)))
            return DegreeGroupsNative(xs, w, b, o, run);
        long lmax = xs.shape[0], mmax = xs.shape[1], e = xs.shape[3];
        // Measured (docs/benchmarks.md): 8 triangle-trimmed groups 15 % faster than the dense bmm at lmax 90; at lmax 45
        // the trimming costs more than the skipped corner saves, so the groups there are plain halves of the dense bmm.
        bool trim = lmax >= 64;
        int groups = trim ? 8 : (int)Math.Min(2, lmax);
        var zs = torch.empty([lmax, mmax, b * o], dtype: xs.dtype);
        long size = (lmax + groups - 1) / groups;
        int count = (int)((lmax + size - 1) / size);
        run(count, g => Math.Min(size, lmax - g * size) * (trim ? Math.Min(mmax, (g + 1) * size) : mmax), g =>
        {
            long l0 = g * size, n = Math.Min(size, lmax - l0);
            long rows = trim ? Math.Min(mmax, l0 + n) : mmax;                        // orders m ≤ last degree of the group
            var slot = zs.narrow(0, l0, n);
            if (rows < mmax) slot.narrow(1, rows, mmax - rows).fill_(Scalars.Of(0));
            var xg = xs.narrow(0, l0, n).narrow(1, 0, rows).reshape(n, rows * b, e);
            slot.narrow(1, 0, rows).copy_(torch.bmm(xg, w.narrow(0, l0, n)).view(n, rows, b * o));
        });
        return zs;
    }

    /// <summary>
    /// <see cref="DegreeGroups"/> with one complex gemm per degree l (MKL through <see cref="Mkl"/>) over the orders
    /// m ≤ l only, reading xs and writing zs in place (no copies of the weights per group or of the products); the same
    /// degree groups are the pieces.
    /// </summary>
    /// <summary>Whether dhconv uses <see cref="DegreeGroupsNative"/> when the native kernels are on (benchmarks compare both).</summary>
    internal static bool NativeDhconv { get; set; } = true;

    static unsafe Tensor DegreeGroupsNative(Tensor xs, Tensor w, long b, long o, PieceRunner run)
    {
        long lmax = xs.shape[0], mmax = xs.shape[1], e = xs.shape[3];
        bool dbl = xs.dtype == ScalarType.ComplexFloat64;
        var x = xs.contiguous();
        // w [lmax, E_in, E_out] is a permuted view of the [E_in, E_out, lmax] weight: each piece copies its own degrees'
        // matrices (in parallel, where one whole-tensor copy was a serial step of the shared forward).
        var source = w.permute(1, 2, 0);
        bool gather = source.is_contiguous();
        var wl = gather ? torch.empty([lmax, e, o], dtype: xs.dtype) : w.contiguous();
        var zs = torch.empty([lmax, mmax, b * o], dtype: xs.dtype);
        byte* xp = (byte*)Mkl.Data(x), wp = (byte*)Mkl.Data(wl), zp = (byte*)Mkl.Data(zs), sp = gather ? (byte*)Mkl.Data(source) : null;
        DegreeGroupsInto(xp, sp, wp, zp, lmax, mmax, b, e, o, dbl, run);
        GC.KeepAlive(x);
        GC.KeepAlive(wl);
        GC.KeepAlive(source);
        return zs;
    }

    /// <summary>
    /// <see cref="DegreeGroupsNative"/> on raw memory: zs [lmax, mmax, B·o] = xs [lmax, mmax, B, e] · w[l] per degree (complex
    /// elements, complex128 when <paramref name="dbl"/>). The weights are read from <paramref name="wp"/> [lmax, e, o];
    /// with <paramref name="sp"/> (the parameter's own [e, o, lmax] memory) each piece first gathers its degrees' matrices
    /// there.
    /// </summary>
    internal static unsafe void DegreeGroupsInto(byte* xp, byte* sp, byte* wp, byte* zp, long lmax, long mmax, long b, long e, long o, bool dbl, PieceRunner run) =>
        DegreeGroupPieces(xp, sp, wp, zp, lmax, mmax, b, e, o, dbl).Run(run);

    /// <summary><see cref="DegreeGroupsInto"/> as a set of pieces (costed in flops: 8 per complex multiply-add).</summary>
    internal static unsafe PieceSet DegreeGroupPieces(byte* xp, byte* sp, byte* wp, byte* zp, long lmax, long mmax, long b, long e, long o, bool dbl)
    {
        int size = dbl ? 16 : 8;                                                     // bytes per complex value
        // Each degree is its own gemm, so the grouping only sets the pieces: 8 groups (at most one per degree), costed by
        // their orders m ≤ l, so that two workers balance the triangle (2 equal-degree halves put 3× the work in the upper).
        int groups = (int)Math.Min(8, lmax);
        long size0 = (lmax + groups - 1) / groups;
        int count = (int)((lmax + size0 - 1) / size0);
        return new PieceSet(count, g =>
        {
            double work = 0;
            for (long l = g * size0; l < Math.Min(lmax, (g + 1) * size0); l++) work += Math.Min(mmax, l + 1);
            return work * 8.0 * b * e * o;
        }, g =>
        {
            long l0 = g * size0, n = Math.Min(size0, lmax - l0);
            if (sp is not null)
            {
                if (dbl) GatherDegrees((System.Numerics.Complex*)sp, (System.Numerics.Complex*)wp, e * o, lmax, l0, n);
                else GatherDegrees64((double*)sp, (double*)wp, e * o, lmax, l0, n);
            }
            for (long l = l0; l < l0 + n; l++)
            {
                long rows = Math.Min(mmax, l + 1);                                   // orders m ≤ l; the rest are zero
                byte* zl = zp + l * mmax * b * o * size;
                if (rows < mmax) new Span<byte>(zl + rows * b * o * size, (int)((mmax - rows) * b * o * size)).Clear();
                // Row-major zs[l] (rows·b × o) = xs[l] (rows·b × e) · w[l] (e × o): column-major zsᵀ = w[l]ᵀ · xs[l]ᵀ.
                Mkl.ComplexGemm(dbl, wp + l * e * o * size, (int)o, xp + l * mmax * b * e * size, (int)e, zl, (int)o,
                    (int)o, (int)(rows * b), (int)e);
            }
        });
    }

    /// <summary>A complex64 dhconv weight [E_in, E_out, lmax] → [lmax, E_in, E_out] (every degree; see <see cref="DegreeGroupsInto"/>).</summary>
    internal static unsafe void GatherWeights(byte* source, byte* destination, int lmax, int e, int o) =>
        GatherDegrees64((double*)source, (double*)destination, (long)e * o, lmax, 0, lmax);

    /// <summary>
    /// <see cref="GatherDegrees{T}"/> for 8-byte elements (complex64) in 4×4 register transposes: the scalar form wrote
    /// each element to its own cache line (rows·8 bytes apart) and took ≈ 3 % of (b)'s forward.
    /// </summary>
    static unsafe void GatherDegrees64(double* src, double* dst, long rows, long lmax, long l0, long n)
    {
        if (!Avx.IsSupported)
        {
            GatherDegrees((long*)src, (long*)dst, rows, lmax, l0, n);
            return;
        }
        long r = 0, l1 = l0 + n - (n % 4);
        for (; r + 4 <= rows; r += 4)
        {
            for (long l = l0; l < l1; l += 4) RegisterTranspose.Transpose4(src + r * lmax + l, lmax, dst + l * rows + r, rows);
            for (long l = l1; l < l0 + n; l++)
                for (long q = 0; q < 4; q++) dst[l * rows + r + q] = src[(r + q) * lmax + l];
        }
        for (; r < rows; r++)
            for (long l = l0; l < l0 + n; l++) dst[l * rows + r] = src[r * lmax + l];
    }

    /// <summary>dst[l, r] = src[r, l] for r &lt; rows and the degrees l0 ≤ l &lt; l0 + n (complex elements T).</summary>
    static unsafe void GatherDegrees<T>(T* src, T* dst, long rows, long lmax, long l0, long n) where T : unmanaged
    {
        for (long r = 0; r < rows; r++)
        {
            T* s = src + r * lmax;
            for (long l = l0; l < l0 + n; l++) dst[l * rows + r] = s[l];
        }
    }

    /// <summary>
    /// dhconv on degree-major coefficients [l, m, (b, i)]: the per-degree channel mixing is one complex bmm over l,
    /// and neither transform reorders its coefficients (the einsum form needs three reordering copies). The transforms'
    /// and the mixing's pieces go to the SFNO workers when a member's forward is shared among them (<see cref="SfnoWorkers"/>).
    /// </summary>
    (Tensor Output, Tensor Residual) DegreeMajor(Tensor x, ScalarType paramType)
    {
        var inputType = x.dtype;
        using var scope = torch.NewDisposeScope();
        PieceRunner run = SfnoWorkers.SpectralPieces;
        var xf = x.to(paramType);
        long b = xf.shape[0], e = xf.shape[1];
        int lmax = _p.Forward.LMax, mmax = _p.Forward.MMax;
        var xs = _p.Forward.ForwardDegreeMajor(xf, run);                             // [lmax, mmax, B·E] complex
        var residual = _scaleResidual ? _p.Inverse.InverseDegreeMajor(xs, [b, e], run).to(inputType) : x.alias();
        var w = _p.Weight.permute(2, 0, 1);                                          // [lmax, E_in, E_out]
        long o = w.shape[2];
        var zs = DegreeGroups(xs.view(lmax, mmax, b, e), w, b, o, run);
        var y = _p.Inverse.InverseDegreeMajor(zs, [b, o], run).to(inputType);
        return (y.MoveToOuterDisposeScope(), residual.MoveToOuterDisposeScope());
    }
}

/// <summary>makani SpectralFilterLayer: a wrapper whose only child is "filter" (hence the key blocks.i.filter.filter.weight).</summary>
public sealed class SpectralFilterLayer : nn.Module<Tensor, (Tensor Output, Tensor Residual)>
{
    sealed class Parts { public required SpectralConv Filter; }
    readonly Parts _p;

    public SpectralFilterLayer(SpectralConv filter) : base(nameof(SpectralFilterLayer))
    {
        _p = new Parts { Filter = filter };
        register_module("filter", filter);
    }

    public SpectralConv Filter => _p.Filter;

    public override (Tensor Output, Tensor Residual) forward(Tensor x) => _p.Filter.forward(x);
}
