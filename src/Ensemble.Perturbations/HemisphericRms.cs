using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations;

/// <summary>
/// The HENS hemispheric RMS norm and rescaling (earth2mip-fork <c>hemispheric_rms</c> = earth2studio
/// <c>HemisphericCentredBredVector.hemispheric_norm</c>; docs hens-ensembles §4). For dx[c, i, j] on an nlat-row grid
/// (row 0 = north pole):
/// <code>
/// w_i = sin(π i/(nlat−1)) / mean(w),   ex = ⌊70/180 · nlat⌋
/// NH[c] = √(mean_{i &lt; ex, j} dx² w_i),   SH[c] = √(mean_{i ≥ nlat−ex, j} dx² w_i)      (w not renormalised to the band)
/// HRMS[c, i] = NH (i &lt; ex), linspace(NH, SH, nlat − 2ex) across the tropics, SH (i ≥ nlat − ex)
/// dx ← dx · A[c] / HRMS[c, i]            (0 where HRMS = 0: a channel that does not change stays unperturbed)
/// </code>
/// All arithmetic is float64.
/// </summary>
public static class HemisphericRms
{
    /// <summary>Rows of each extratropical band: ⌊70/180 · nlat⌋ (280 of 721).</summary>
    public static int ExtratropicsRows(int nlat) => (int)(70.0 / 180.0 * nlat);

    /// <summary>w_i = sin(linspace(0, π, nlat)) divided by its mean.</summary>
    public static double[] LatitudeWeights(int nlat)
    {
        var w = new double[nlat];
        for (int i = 0; i < nlat; i++) w[i] = Math.Sin(nlat == 1 ? 0 : Math.PI * i / (nlat - 1));
        double mean = w.Average();
        for (int i = 0; i < nlat; i++) w[i] /= mean;
        return w;
    }

    /// <summary>(NH, SH) of dx [..., C, H, W]: two float64 tensors [..., C]. Caller disposes.</summary>
    public static (Tensor North, Tensor South) Hemispheres(Tensor dx)
    {
        int nlat = CheckGrid(dx);
        int ex = ExtratropicsRows(nlat);
        using var scope = torch.NewDisposeScope();
        var w = torch.tensor(LatitudeWeights(nlat), dtype: ScalarType.Float64, device: dx.device).reshape(nlat, 1);
        var d = dx.to(ScalarType.Float64);
        var sq = d.mul(d) * w;
        var nh = sq.narrow(-2, 0, ex).mean([-2, -1]).sqrt();
        var sh = sq.narrow(-2, nlat - ex, ex).mean([-2, -1]).sqrt();
        return (nh.MoveToOuterDisposeScope(), sh.MoveToOuterDisposeScope());
    }

    /// <summary>HRMS[..., C, H, 1] (constant in longitude), float64. Caller disposes.</summary>
    public static Tensor Norm(Tensor dx)
    {
        int nlat = CheckGrid(dx);
        int ex = ExtratropicsRows(nlat);
        int nt = nlat - 2 * ex;
        using var scope = torch.NewDisposeScope();
        var (nhRaw, shRaw) = Hemispheres(dx);
        var nh = nhRaw.unsqueeze(-1).unsqueeze(-1);   // [..., C, 1, 1]
        var sh = shRaw.unsqueeze(-1).unsqueeze(-1);
        var parts = new List<Tensor> { nh.expand(Shape(nh, ex)) };
        if (nt > 0) parts.Add(Tropics(nh, sh, nt));
        parts.Add(sh.expand(Shape(sh, ex)));
        return torch.cat(parts, -2).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>dx · A[c] / HRMS[c, i] for dx [..., C, H, W] (float64 result; zero where the norm is zero). Caller disposes.</summary>
    public static Tensor Rescale(Tensor dx, IReadOnlyList<double> amplitudes)
    {
        CheckGrid(dx);
        long c = dx.shape[^3];
        if (amplitudes.Count != c) throw new EnsembleException($"hemispheric rescaling: {amplitudes.Count} amplitudes for {c} channels");
        using var scope = torch.NewDisposeScope();
        var hrms = Norm(dx);
        var a = torch.tensor(amplitudes.ToArray(), dtype: ScalarType.Float64, device: dx.device).reshape(c, 1, 1);
        var factor = torch.where(hrms > 0, a / hrms, torch.zeros_like(hrms));
        return (dx.to(ScalarType.Float64) * factor).MoveToOuterDisposeScope();
    }

    // torch.linspace(NH, SH, n) per channel: the first half counts up from NH, the second down from SH, so both
    // endpoints are exact (row ex = NH, row nlat − ex − 1 = SH).
    static Tensor Tropics(Tensor nh, Tensor sh, int n)
    {
        if (n == 1) return nh.clone();
        var step = (sh - nh) / (double)(n - 1);
        var idx = torch.arange(n, dtype: ScalarType.Float64, device: nh.device).reshape(n, 1);
        var up = nh + step * idx;
        var down = sh - step * ((double)(n - 1) - idx);
        var lower = idx < (double)(n / 2);
        return torch.where(lower, up, down);
    }

    static long[] Shape(Tensor t, int rows)
    {
        var s = t.shape.ToArray();
        s[^2] = rows;
        return s;
    }

    static int CheckGrid(Tensor dx)
    {
        if (dx.dim() < 3) throw new EnsembleException($"hemispheric RMS: expected [..., C, H, W], got [{string.Join(", ", dx.shape)}]");
        int nlat = (int)dx.shape[^2];
        if (ExtratropicsRows(nlat) < 1) throw new EnsembleException($"hemispheric RMS: {nlat} latitude rows are too few (need ≥ 3)");
        return nlat;
    }
}
