using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>
/// The degree-major transforms (the SFNO's dhconv layout) against the standard ones, and their pieces (Fourier row
/// chunks, Legendre order blocks): run in any order or concurrently they must give the same bits as in order.
/// </summary>
public class DegreeMajorPiecesTests
{
    // 20 fields of 91×180 hold 327,600 values: above ShtShapes.FourierChunkFloats (65,536), so the FFTs run in 4 row chunks.
    const int B = 20, NLat = 91, NLon = 180, LMax = 45, MMax = 46;

    static readonly PieceRunner Reversed = (count, _, body) =>
    {
        for (int i = count - 1; i >= 0; i--)
        {
            using var scope = NewDisposeScope();
            body(i);
        }
    };

    /// <summary>Runs the pieces on up to 4 pool threads and records, per call, how often each piece ran.</summary>
    static PieceRunner Concurrent(ConcurrentQueue<int[]> calls) => (count, _, body) =>
    {
        var runs = new int[count];
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            using var scope = NewDisposeScope();
            Interlocked.Increment(ref runs[i]);
            body(i);
        });
        calls.Enqueue(runs);
    };

    [Fact]
    public void Fourier_chunks_are_cut_by_shape()
    {
        Assert.Single(ShtShapes.FourierChunks(B, 8, 16));
        var chunks = ShtShapes.FourierChunks(B, NLat, NLon);
        Assert.Equal(4, chunks.Length);
        Assert.Equal(B, chunks.Sum(c => c.Length));
        Assert.Equal(new (long, long)[] { (0, 5), (5, 5), (10, 5), (15, 5) }, chunks);
        Assert.Equal(new (long, long)[] { (0, 2), (2, 1) }, PieceRunners.Split(3, 2));
    }

    [Theory]
    [InlineData(NLat, NLon, LMax, MMax, GridType.Equiangular)]
    [InlineData(45, 90, 45, 46, GridType.LegendreGauss)]
    [InlineData(16, 20, 12, 12, GridType.Equiangular)]      // mmax above nlon/2 + 1 (dropped orders) and a Nyquist order
    [InlineData(17, 32, 20, 8, GridType.Equiangular)]       // mmax far below lmax
    public void Degree_major_forward_and_inverse_match_the_standard_transforms(int nlat, int nlon, int lmax, int mmax, GridType grid)
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(nlat, nlon, lmax, mmax, grid, dtype: ScalarType.Float64);
        using var isht = new InverseRealSHT(nlat, nlon, lmax, mmax, grid, dtype: ScalarType.Float64);
        var x = randn([4, 5, nlat, nlon], dtype: ScalarType.Float64, generator: new Generator(3));
        var standard = sht.forward(x);                                                  // [4, 5, l, m]
        var degreeMajor = sht.ForwardDegreeMajor(x);                                    // [l, m, 20]
        var reordered = degreeMajor.permute(2, 0, 1).reshape(4, 5, lmax, mmax);
        double err = (reordered - standard).abs().max().item<double>() / standard.abs().max().item<double>();
        Assert.True(err <= 1e-13, $"forward: {err:E3}");
        // Arbitrary coefficients (imaginary m = 0 and Nyquist parts included: both inverses must ignore them).
        var c = complex(randn([4, 5, lmax, mmax], dtype: ScalarType.Float64, generator: new Generator(4)),
            randn([4, 5, lmax, mmax], dtype: ScalarType.Float64, generator: new Generator(5)));
        var back = isht.InverseDegreeMajor(c.permute(2, 3, 0, 1).reshape(lmax, mmax, 20).contiguous(), [4, 5]);
        var backStandard = isht.forward(c.clone());
        double ierr = (back - backStandard).abs().max().item<double>() / backStandard.abs().max().item<double>();
        Assert.True(ierr <= 1e-13, $"inverse: {ierr:E3}");
    }

    [Theory]
    [InlineData(GridType.Equiangular)]
    [InlineData(GridType.LegendreGauss)]
    public void Pieces_in_any_order_or_concurrently_give_the_same_bits(GridType grid)
    {
        using var scope = NewDisposeScope();
        using var sht = new RealSHT(NLat, NLon, LMax, MMax, grid);
        using var isht = new InverseRealSHT(NLat, NLon, LMax, MMax, grid);
        var x = randn([B, NLat, NLon], generator: new Generator(5));
        var inOrder = sht.ForwardDegreeMajor(x);
        var back = isht.InverseDegreeMajor(inOrder, [B]);
        var calls = new ConcurrentQueue<int[]>();
        foreach (var (name, run) in new (string, PieceRunner)[] { ("reversed", Reversed), ("concurrent", Concurrent(calls)) })
        {
            var c = sht.ForwardDegreeMajor(x, run);
            Assert.True(view_as_real(c).contiguous().bytes.SequenceEqual(view_as_real(inOrder).contiguous().bytes), $"{name}: forward differs");
            var f = isht.InverseDegreeMajor(inOrder, [B], run);
            Assert.True(f.bytes.SequenceEqual(back.bytes), $"{name}: inverse differs");
        }
        // Forward: Fourier chunks then Legendre blocks; inverse: Legendre blocks then Fourier chunks; each piece once.
        Assert.Equal(4, calls.Count);
        Assert.All(calls, runs => Assert.All(runs, n => Assert.Equal(1, n)));
        Assert.Equal(new[] { 4, 8, 8, 4 }, calls.Select(r => r.Length).ToArray());
    }
}
