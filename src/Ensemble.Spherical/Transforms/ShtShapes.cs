using Ensemble.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Spherical;

/// <summary>Argument checks and the Fourier steps shared by the four transform modules.</summary>
internal static class ShtShapes
{
    public static void CheckSizes(int nlat, int nlon, int lmax, int mmax, GridType grid)
    {
        if (nlat < 1 || nlon < 1) throw new EnsembleException($"SHT grid {nlat}×{nlon}: nlat and nlon must be positive");
        if (grid != GridType.LegendreGauss && nlat < 2) throw new EnsembleException($"SHT grid {nlat}×{nlon}: {GridTypes.Name(grid)} needs nlat ≥ 2");
        if (lmax < 1 || mmax < 1) throw new EnsembleException($"SHT lmax={lmax}, mmax={mmax}: both must be ≥ 1");
    }

    /// <summary>The leading (batch) dimensions of <paramref name="x"/> after checking its trailing ones.</summary>
    public static long[] Lead(Tensor x, string module, params long[] trailing)
    {
        var shape = x.shape;
        bool ok = shape.Length >= trailing.Length;
        for (int i = 0; ok && i < trailing.Length; i++) ok = shape[shape.Length - trailing.Length + i] == trailing[i];
        if (!ok)
            throw new ArgumentException($"{module}: input shape [{string.Join(", ", shape)}] must end in [{string.Join(", ", trailing)}]");
        return shape[..^trailing.Length];
    }

    public static void CheckDType(Tensor x, Tensor table, bool complexInput, string module)
    {
        var expected = complexInput
            ? (table.dtype == ScalarType.Float64 ? ScalarType.ComplexFloat64 : table.dtype == ScalarType.Float32 ? ScalarType.ComplexFloat32 : ScalarType.ComplexFloat32)
            : table.dtype;
        if (complexInput && table.dtype != ScalarType.Float32 && table.dtype != ScalarType.Float64)
            throw new ArgumentException($"{module}: tables of dtype {table.dtype} are not supported (float32 or float64)");
        if (x.dtype != expected)
            throw new ArgumentException($"{module}: input dtype {x.dtype} does not match the transform's {expected} (build the module for this dtype or call .to())");
        if (x.device_type != table.device_type || x.device_index != table.device_index)
            throw new ArgumentException($"{module}: input on {x.device} but the tables are on {table.device}");
    }

    public static long Product(long[] dims) => dims.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Row chunks of a Fourier step over B fields of nlat × nlon: 4 (at most B) when the fields hold at least
    /// <see cref="FourierChunkFloats"/> values, else 1. Depends on the shape only, so a chunk's FFT is the same
    /// operation on one thread or shared among workers.
    /// </summary>
    public static (long Start, long Length)[] FourierChunks(long b, long nlat, long nlon) =>
        PieceRunners.Split(b, b * nlat * nlon >= FourierChunkFloats ? 4 : 1);

    /// <summary>
    /// Fields smaller than this (256 KB of float32) are transformed in one call. 1 MB left (b)'s 45×90 transforms (32
    /// fields) in one piece, a serial step of its shared batch-1 forward; 256 KB: 11 % faster there, (a) unchanged
    /// (`-- sfno --batch1`, docs/benchmarks.md).
    /// </summary>
    public const long FourierChunkFloats = 1L << 16;

    /// <summary>rfft over the last axis (norm "forward"), truncated or zero-padded to mmax orders.</summary>
    public static Tensor RfftOrders(Tensor x, int mmax)
    {
        var f = torch.fft.rfft(x, dim: -1, norm: FFTNormType.Forward);
        long nf = f.shape[^1];
        if (nf == mmax) return f;
        if (nf > mmax)
        {
            var s = f.narrow(-1, 0, mmax);
            return s;
        }
        var shape = f.shape.ToArray();
        shape[^1] = mmax - nf;
        using var pad = torch.zeros(shape, dtype: f.dtype, device: f.device);
        return torch.cat([f, pad], -1);
    }

    /// <summary>
    /// Real-and-imaginary Fourier coefficients g[..., m, 2] (last axis re/im, m &lt; mmax) to the grid:
    /// zeroes the imaginary DC and (even nlon) Nyquist parts explicitly, then irfft with norm "forward".
    /// </summary>
    public static Tensor IrfftOrders(Tensor g, int mmax, int nlon)
    {
        int nfreq = nlon / 2 + 1;
        // fill_(0), not zero_(): TorchSharp 0.107's zero_() has no autograd derivative
        // ("derivative for aten::zeros is not implemented"), which would break training through the ISHT.
        g.select(-1, 1).select(-1, 0).fill_(Scalars.Of(0));
        if (nlon % 2 == 0 && nlon / 2 < mmax) g.select(-1, 1).select(-1, nlon / 2).fill_(Scalars.Of(0));
        var gc = mmax > nfreq ? g.narrow(-2, 0, nfreq).contiguous() : g;
        var c = torch.view_as_complex(gc);
        return torch.fft.irfft(c, n: nlon, dim: -1, norm: FFTNormType.Forward);
    }
}
