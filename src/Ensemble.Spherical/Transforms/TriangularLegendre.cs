using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>
/// The Legendre stage of the SHT as batched matrix products over the order m, exploiting P_l^m = 0 for l &lt; m.
/// Orders are grouped into blocks [m0, m1); a block stores only degrees l ≥ m0, so the table and the FLOPs
/// shrink to about half of the dense mmax × lmax × nlat contraction while every block is one <c>bmm</c>.
/// <para>
/// The packed table is one flat tensor (a single buffer, so <c>Module.to</c> moves and casts it);
/// block b occupies [offset_b, offset_b + bs·D·L·nlat) with L = lmax − m0 and D stacked tables (1 scalar, 2 vector).
/// Analysis blocks are laid out [bs, D·L, nlat] (rows d·L + l − m0), synthesis blocks [bs, D·nlat, L].
/// </para>
/// </summary>
internal sealed class TriangularLegendre
{
    /// <summary>One block of orders and where its table starts in the flat buffer.</summary>
    public readonly record struct Block(int M0, int Count, int L, long Offset);

    public int MMax { get; }
    public int LMax { get; }
    public int NLat { get; }
    public int Stack { get; }
    public bool Synthesis { get; }
    public IReadOnlyList<Block> Blocks { get; }
    public long TotalElements { get; }

    /// <summary>Orders m ≥ min(mmax, lmax) have no degree l ≥ m and are identically zero.</summary>
    public int ActiveOrders => Math.Min(MMax, LMax);

    public TriangularLegendre(int mmax, int lmax, int nlat, int stack, bool synthesis, int? targetBlocks = null)
    {
        MMax = mmax; LMax = lmax; NLat = nlat; Stack = stack; Synthesis = synthesis;
        int active = ActiveOrders;
        // About targetBlocks blocks: each is a bmm plus a copy (a few ops and parallel regions), and the zero
        // upper-left corner of each block (≈ bs/2 extra rows per order) adds ≈ 1/(2·blocks) of the work and table.
        // Default: 8 below 256 orders (op count matters; 8 was the best or within noise of it among 1–32 for the
        // SFNO's 45–181-latitude transforms), 16 above (large transforms are table-bandwidth bound).
        int nb = targetBlocks ?? (active < 256 ? 8 : 16);
        int bs = Math.Max(1, (int)Math.Ceiling(active / (double)Math.Max(1, nb)));
        var blocks = new List<Block>();
        long offset = 0;
        for (int m0 = 0; m0 < active; m0 += bs)
        {
            int count = Math.Min(bs, active - m0);
            int l = lmax - m0;
            blocks.Add(new Block(m0, count, l, offset));
            offset += (long)count * stack * l * nlat;
        }
        Blocks = blocks;
        TotalElements = offset;
    }

    /// <summary>
    /// Builds the packed table from a per-order provider: <paramref name="rows"/>(m) returns, for each stacked
    /// table d, the float64 values T_d[m, l, k] for l = m .. lmax−1 laid out [(l − m)·nlat + k]. The provider is
    /// called for m = 0, 1, ... in order. Values are cast to <paramref name="dtype"/> block by block.
    /// </summary>
    public Tensor Pack(Func<int, double[][]> rows, ScalarType dtype, Device? device)
    {
        var flat = torch.zeros(TotalElements, dtype: dtype);
        int nk = NLat;
        foreach (var b in Blocks)
        {
            long n = (long)b.Count * Stack * b.L * nk;
            var host = new double[n];
            for (int i = 0; i < b.Count; i++)
            {
                int m = b.M0 + i;
                double[][] r = rows(m);
                for (int d = 0; d < Stack; d++)
                {
                    double[] src = r[d];
                    for (int l = m; l < LMax; l++)
                    {
                        int j = l - b.M0;
                        int so = (l - m) * nk;
                        if (!Synthesis)
                        {
                            long o = ((long)i * Stack * b.L + (long)d * b.L + j) * nk;
                            Array.Copy(src, so, host, o, nk);
                        }
                        else
                        {
                            long baseO = (long)i * Stack * nk * b.L + (long)d * nk * b.L + j;
                            for (int k = 0; k < nk; k++) host[baseO + (long)k * b.L] = src[so + k];
                        }
                    }
                }
            }
            // Copy into libtorch-owned memory (no tensor wrapping a pinned managed array).
            using var t = torch.empty(n, dtype: ScalarType.Float64);
            t.data<double>().CopyFrom(host);
            using var slot = flat.narrow(0, b.Offset, n);
            slot.copy_(t);
        }
        if (device is not null && device.type != DeviceType.CPU)
        {
            var moved = flat.to(device);
            flat.Dispose();
            return moved;
        }
        return flat;
    }

    /// <summary>out[m, d, l, n] = Σ_k T_d[m, l, k] · x[m, k, n]; x is [mmax, nlat, N], result [mmax, D, lmax, N].</summary>
    public Tensor Analyse(Tensor table, Tensor x)
    {
        long n = x.shape[2];
        var result = torch.zeros([MMax, Stack, LMax, n], dtype: x.dtype, device: x.device);
        foreach (var b in Blocks)
        {
            using var scope = torch.NewDisposeScope();
            var tb = table.narrow(0, b.Offset, (long)b.Count * Stack * b.L * NLat).view(b.Count, Stack * b.L, NLat);
            var xb = x.narrow(0, b.M0, b.Count);
            var y = torch.bmm(tb, xb).view(b.Count, Stack, b.L, n);
            result.narrow(0, b.M0, b.Count).narrow(2, b.M0, b.L).copy_(y);
        }
        return result;
    }

    /// <summary>
    /// Scalar analysis (D = 1) with the result in degree-major order: out[l, m, n] = Σ_k T[m, l, k] · x[m, k, n];
    /// x is [mmax, nlat, N], result [lmax, mmax, N]. Each block's product is copied into its strided slot, so the
    /// order costs no extra pass (a per-degree channel mixing then runs as one bmm over l). The blocks are the pieces
    /// given to <paramref name="run"/>; each also zeroes its own l &lt; m corner.
    /// </summary>
    public Tensor AnalyseDegreeMajor(Tensor table, Tensor x, PieceRunner run)
    {
        if (Stack != 1) throw new InvalidOperationException("degree-major analysis is for scalar transforms");
        long n = x.shape[2];
        var result = torch.empty([LMax, MMax, n], dtype: x.dtype, device: x.device);
        if (ActiveOrders < MMax) result.narrow(1, ActiveOrders, MMax - ActiveOrders).fill_(Scalars.Of(0));
        run(Blocks.Count, i => (double)Blocks[i].Count * Blocks[i].L, i =>
        {
            var b = Blocks[i];
            var slot = result.narrow(1, b.M0, b.Count);
            if (b.M0 > 0) slot.narrow(0, 0, b.M0).fill_(Scalars.Of(0));
            var tb = table.narrow(0, b.Offset, (long)b.Count * b.L * NLat).view(b.Count, b.L, NLat);
            var y = torch.bmm(tb, x.narrow(0, b.M0, b.Count));                       // [count, L, N]
            slot.narrow(0, b.M0, b.L).copy_(y.permute(1, 0, 2));
        });
        return result;
    }

    /// <summary>
    /// Scalar synthesis (D = 1) from degree-major coefficients c [lmax, mmax, N]; result [mmax, 1, nlat, N]. The
    /// blocks are the pieces given to <paramref name="run"/>.
    /// </summary>
    public Tensor SynthesiseDegreeMajor(Tensor table, Tensor c, PieceRunner run)
    {
        if (Stack != 1) throw new InvalidOperationException("degree-major synthesis is for scalar transforms");
        long n = c.shape[2];
        var result = torch.empty([MMax, 1, NLat, n], dtype: c.dtype, device: c.device);
        if (ActiveOrders < MMax) result.narrow(0, ActiveOrders, MMax - ActiveOrders).fill_(Scalars.Of(0));
        run(Blocks.Count, i => (double)Blocks[i].Count * Blocks[i].L, i =>
        {
            var b = Blocks[i];
            var tb = table.narrow(0, b.Offset, (long)b.Count * b.L * NLat).view(b.Count, NLat, b.L);
            // The block's contiguous copy (needed anyway for the BLAS path) also reorders it to [m, l, N].
            var cb = c.narrow(1, b.M0, b.Count).narrow(0, b.M0, b.L).permute(1, 0, 2).contiguous();
            result.narrow(0, b.M0, b.Count).copy_(torch.bmm(tb, cb).view(b.Count, 1, NLat, n));
        });
        return result;
    }

    /// <summary>out[m, d, k, n] = Σ_l T_d[m, l, k] · c[m, l, n]; c is [mmax, lmax, N], result [mmax, D, nlat, N].</summary>
    public Tensor Synthesise(Tensor table, Tensor c)
    {
        long n = c.shape[2];
        var result = torch.zeros([MMax, Stack, NLat, n], dtype: c.dtype, device: c.device);
        foreach (var b in Blocks)
        {
            using var scope = torch.NewDisposeScope();
            var tb = table.narrow(0, b.Offset, (long)b.Count * Stack * b.L * NLat).view(b.Count, Stack * NLat, b.L);
            // Contiguous block: strided batches push CPU bmm off its BLAS path.
            var cb = c.narrow(0, b.M0, b.Count).narrow(1, b.M0, b.L).contiguous();
            var y = torch.bmm(tb, cb).view(b.Count, Stack, NLat, n);
            result.narrow(0, b.M0, b.Count).copy_(y);
        }
        return result;
    }
}
