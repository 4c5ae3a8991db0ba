namespace Ensemble.Spherical;

/// <summary>
/// Normalised associated Legendre tables, computed in float64 exactly as torch-harmonics `legendre.py`
/// (reference: docs sht-and-sfno §3).
/// </summary>
public static class Legendre
{
    /// <summary>
    /// The table P[m, l, k] (shape mmax × lmax × x.Length) of `legpoly(mmax, lmax, x, norm, inverse, csphase)`.
    /// Entries with m &gt; l are 0. With <paramref name="csphase"/> the Condon–Shortley phase (−1)^m is included.
    /// </summary>
    public static double[,,] Table(int mmax, int lmax, double[] x, SphericalNorm norm = SphericalNorm.Ortho, bool inverse = false, bool csphase = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(mmax);
        ArgumentOutOfRangeException.ThrowIfNegative(lmax);
        int nk = x.Length;
        var result = new double[mmax, lmax, nk];
        var rows = new LegendreRows(lmax, x, norm, inverse, csphase);
        for (int m = 0; m < Math.Min(mmax, lmax); m++)
        {
            double[] r = rows.Next();
            for (int l = m; l < lmax; l++)
                for (int k = 0; k < nk; k++) result[m, l, k] = r[(l - m) * nk + k];
        }
        return result;
    }

    /// <summary>
    /// The derivative table dP[d, m, l, k] of torch-harmonics `_precompute_dlegpoly` (§3.4): d = 0 is ∂P̄/∂θ,
    /// d = 1 is m P̄ / sin θ (with the factor −i stripped). Shape 2 × mmax × lmax × x.Length.
    /// </summary>
    public static double[,,,] DerivativeTable(int mmax, int lmax, double[] x, SphericalNorm norm = SphericalNorm.Ortho, bool inverse = false, bool csphase = true)
    {
        var pct = Table(mmax + 1, lmax + 1, x, norm, inverse, csphase: false);
        int nk = x.Length;
        var d = new double[2, mmax, lmax, nk];
        for (int l = 0; l < lmax; l++)
        {
            double f0 = Math.Sqrt((double)l * (l + 1));
            if (mmax > 0)
                for (int k = 0; k < nk; k++) d[0, 0, l, k] = -f0 * pct[1, l, k];
            for (int m = 1; m < Math.Min(l + 1, mmax); m++)
            {
                double a = Math.Sqrt((double)(l + m) * (l - m + 1));
                double b = Math.Sqrt((double)(l - m) * (l + m + 1));
                double c = 0.5 * Math.Sqrt((2.0 * l + 1) / (2.0 * l + 3));
                double c1 = Math.Sqrt((double)(l - m + 1) * (l - m + 2));
                double c2 = Math.Sqrt((double)(l + m + 1) * (l + m + 2));
                double schmidt = 1.0;
                if (norm == SphericalNorm.Schmidt)
                    schmidt = inverse ? Math.Sqrt((2.0 * l + 1) / (2.0 * l + 3)) : Math.Sqrt((2.0 * l + 3) / (2.0 * l + 1));
                for (int k = 0; k < nk; k++)
                {
                    d[0, m, l, k] = 0.5 * (a * pct[m - 1, l, k] - b * pct[m + 1, l, k]);
                    d[1, m, l, k] = c * (c1 * pct[m - 1, l + 1, k] + c2 * pct[m + 1, l + 1, k]) * schmidt;
                }
            }
        }
        if (csphase)
            for (int s = 0; s < 2; s++)
                for (int m = 1; m < mmax; m += 2)
                    for (int l = 0; l < lmax; l++)
                        for (int k = 0; k < nk; k++) d[s, m, l, k] = -d[s, m, l, k];
        return d;
    }
}

/// <summary>
/// Streams the rows of <see cref="Legendre.Table"/> one order m at a time (m = 0, 1, ...), so that large tables
/// (721 × 721 × 721) are never held in float64 at once. Every value is produced by the same operations, in the
/// same order, as the full-table recurrence of torch-harmonics, so the results are bitwise identical.
/// </summary>
internal sealed class LegendreRows
{
    readonly int _lmax;
    readonly double[] _x;
    readonly SphericalNorm _norm;
    readonly bool _inverse, _csphase;
    readonly double[] _diag;
    int _m;

    public LegendreRows(int lmax, double[] x, SphericalNorm norm, bool inverse, bool csphase)
    {
        _lmax = lmax;
        _x = x;
        _norm = norm;
        _inverse = inverse;
        _csphase = csphase;
        double nf = norm == SphericalNorm.Ortho ? 1.0 : Math.Sqrt(4 * Math.PI);
        if (inverse) nf = 1.0 / nf;
        _diag = new double[x.Length];
        Array.Fill(_diag, nf / Math.Sqrt(4 * Math.PI));
    }

    /// <summary>The next order m: values P[m, l, k] for l = m .. lmax−1, laid out [(l − m) · nk + k].</summary>
    public double[] Next()
    {
        int m = _m, nk = _x.Length;
        if (m >= _lmax) throw new InvalidOperationException("no Legendre rows left");
        int nl = _lmax - m;
        var r = new double[nl * nk];
        Array.Copy(_diag, r, nk);
        if (nl > 1)
        {
            double a1 = Math.Sqrt(2 * (m + 1) + 1);
            for (int k = 0; k < nk; k++) r[nk + k] = a1 * _x[k] * _diag[k];
        }
        for (int l = m + 2; l < _lmax; l++)
        {
            double a = Math.Sqrt((2.0 * l - 1) / (l - m) * (2.0 * l + 1) / (l + m));
            double b = Math.Sqrt((l + m - 1.0) / (l - m) * (2.0 * l + 1) / (2.0 * l - 3) * (l - m - 1.0) / (l + m));
            int o = (l - m) * nk, o1 = o - nk, o2 = o - 2 * nk;
            for (int k = 0; k < nk; k++) r[o + k] = a * _x[k] * r[o1 + k] - b * r[o2 + k];
        }
        // Same order as the reference: Schmidt scaling first (division / multiplication), then the phase.
        bool flip = _csphase && (m & 1) == 1;
        for (int l = m; l < _lmax; l++)
        {
            int o = (l - m) * nk;
            if (_norm == SphericalNorm.Schmidt)
            {
                double q = Math.Sqrt(2 * l + 1);
                if (_inverse) for (int k = 0; k < nk; k++) r[o + k] *= q;
                else for (int k = 0; k < nk; k++) r[o + k] /= q;
            }
            if (flip) for (int k = 0; k < nk; k++) r[o + k] = -r[o + k];
        }
        // Diagonal of the next order: vdm[m+1, m+1] = √((2l+1)(1+x)(1−x)/(2l)) · vdm[m, m] with l = m + 1.
        int ln = m + 1;
        for (int k = 0; k < nk; k++)
        {
            double xv = _x[k];
            _diag[k] = Math.Sqrt((2 * ln + 1) * (1 + xv) * (1 - xv) / (2 * ln)) * _diag[k];
        }
        _m++;
        return r;
    }
}
