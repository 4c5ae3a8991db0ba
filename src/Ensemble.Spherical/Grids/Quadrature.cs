using Ensemble.Core;

namespace Ensemble.Spherical;

/// <summary>
/// Quadrature rules on [−1, 1] in x = cos θ, exactly as torch-harmonics `quadrature.py` computes them
/// (reference: docs sht-and-sfno §2). Nodes are ascending (south → north), weights sum to 2.
/// </summary>
public static class Quadrature
{
    /// <summary>Nodes (ascending) and weights of the rule used by <paramref name="grid"/> with <paramref name="n"/> points.</summary>
    public static (double[] X, double[] W) Nodes(GridType grid, int n) => grid switch
    {
        GridType.LegendreGauss => LegendreGauss(n),
        GridType.Lobatto => Lobatto(n),
        GridType.Equiangular => ClenshawCurtis(n),
        _ => throw new ArgumentOutOfRangeException(nameof(grid)),
    };

    /// <summary>Gauss–Legendre: Newton on the three-term recurrence, exact for degree ≤ 2n−1.</summary>
    public static (double[] X, double[] W) LegendreGauss(int n)
    {
        if (n < 1) throw new EnsembleException($"legendre-gauss quadrature needs n ≥ 1, got {n}");
        var x = new double[n];
        var w = new double[n];
        for (int k = 0; k < n; k++)
        {
            double z = Math.Cos(Math.PI * (k + 0.75) / (n + 0.5));
            double dp = 0;
            for (int it = 0; it < 100; it++)
            {
                (double p, double d) = LegendreAndDerivative(n, z);
                dp = d;
                double dz = p / d;
                z -= dz;
                if (Math.Abs(dz) < 1e-15) break;
            }
            (_, dp) = LegendreAndDerivative(n, z);
            x[k] = z;
            w[k] = 2.0 / ((1.0 - z * z) * dp * dp);
        }
        // The initial guesses are descending; the reference order is ascending.
        Array.Reverse(x);
        Array.Reverse(w);
        return (x, w);
    }

    static (double P, double dP) LegendreAndDerivative(int n, double x)
    {
        double p0 = 1, p1 = x;
        if (n == 0) return (1, 0);
        for (int k = 2; k <= n; k++)
        {
            double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
            p0 = p1;
            p1 = p2;
        }
        // P_n'(x) = n (x P_n − P_{n−1}) / (x² − 1)
        double dp = n * (x * p1 - p0) / (x * x - 1.0);
        return (p1, dp);
    }

    /// <summary>Gauss–Lobatto with the torch-harmonics fixed-point iteration (§2.2); includes ±1.</summary>
    public static (double[] X, double[] W) Lobatto(int n)
    {
        if (n < 2) throw new EnsembleException($"lobatto quadrature needs n ≥ 2, got {n}");
        var x = new double[n];
        for (int i = 0; i < n; i++) x[i] = -Math.Cos(Math.PI * i / (n - 1));
        var pNm1 = new double[n];
        var xNew = new double[n];
        for (int iter = 0; iter < 100; iter++)
        {
            double maxDiff = 0;
            for (int i = 0; i < n; i++)
            {
                double xi = x[i];
                double pkm2 = 1, pkm1 = xi;
                // P_{n−1} and P_{n−2} at x_i.
                for (int k = 2; k <= n - 1; k++)
                {
                    double pk = ((2 * k - 1) * xi * pkm1 - (k - 1) * pkm2) / k;
                    pkm2 = pkm1;
                    pkm1 = pk;
                }
                double pn1 = n - 1 >= 1 ? pkm1 : 1;
                double pn2 = n - 1 >= 1 ? pkm2 : 0;
                pNm1[i] = pn1;
                xNew[i] = xi - (xi * pn1 - pn2) / (n * pn1);
                maxDiff = Math.Max(maxDiff, Math.Abs(xNew[i] - xi));
            }
            Array.Copy(xNew, x, n);
            if (maxDiff < 1e-16) break;
        }
        var w = new double[n];
        // As in the reference, the weights use P_{n−1} from the last iteration (evaluated at the previous x).
        for (int i = 0; i < n; i++) w[i] = 2.0 / (n * (n - 1) * pNm1[i] * pNm1[i]);
        return (x, w);
    }

    /// <summary>Clenshaw–Curtis with Waldvogel's FFT construction (§2.3), evaluated as an explicit real DFT.</summary>
    public static (double[] X, double[] W) ClenshawCurtis(int n)
    {
        if (n <= 1) throw new EnsembleException($"equiangular (Clenshaw–Curtis) quadrature needs n ≥ 2, got {n}");
        var x = new double[n];
        for (int k = 0; k < n; k++) x[k] = Math.Cos(Math.PI - Math.PI * k / (n - 1));
        if (n == 2) return (x, [1.0, 1.0]);

        int n1 = n - 1;
        var odd = new List<int>();
        for (int j = 1; j < n1; j += 2) odd.Add(j);
        int l = odd.Count;
        int m = n1 - l;
        var v = new double[n1 + 1];
        for (int j = 0; j < l; j++) v[j] = 2.0 / (odd[j] * (odd[j] - 2.0));
        v[l] = 1.0 / odd[l - 1];
        // remaining m entries are zero
        var vv = new double[n1];
        for (int j = 0; j < n1; j++) vv[j] = -v[j] - v[n1 - j];
        var g = new double[n1];
        for (int j = 0; j < n1; j++) g[j] = -1;
        g[l] += n1;
        g[m] += n1;
        double denom = (double)n1 * n1 - 1 + (n1 % 2);
        var s = new double[n1];
        for (int j = 0; j < n1; j++) s[j] = vv[j] + g[j] / denom;
        // w = Re(ifft(s)): s is real, so Re = (1/n1) Σ_j s_j cos(2π jk/n1).
        var w = new double[n];
        for (int k = 0; k < n1; k++)
        {
            double acc = 0;
            for (int j = 0; j < n1; j++)
            {
                long jk = (long)j * k % n1;
                acc += s[j] * Math.Cos(2.0 * Math.PI * jk / n1);
            }
            w[k] = acc / n1;
        }
        w[n1] = w[0];
        return (x, w);
    }
}
