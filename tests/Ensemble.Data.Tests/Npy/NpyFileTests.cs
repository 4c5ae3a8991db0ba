using Ensemble.Core;
using Ensemble.Data.Npy;
using Ensemble.TestSupport;
using TorchSharp;
using Xunit;

namespace Ensemble.Data.Tests.Npy;

public class NpyFileTests
{
    [Fact]
    public void Float64_round_trip_is_bit_exact_with_a_64_byte_aligned_header()
    {
        using var tmp = new TempDir();
        var values = Enumerable.Range(0, 24).Select(i => Math.Sin(i) * 1e-3).ToArray();
        NpyFile.Write(tmp.File("a.npy"), NpyArray.FromDoubles(values, 2, 3, 4));
        byte[] raw = File.ReadAllBytes(tmp.File("a.npy"));
        Assert.Equal(0, (raw.Length - 24 * 8) % 64);
        var back = NpyFile.Read(tmp.File("a.npy"));
        Assert.Equal("<f8", back.Descr);
        Assert.Equal(new long[] { 2, 3, 4 }, back.Shape);
        Assert.Equal(values, back.ToDoubles());
    }

    [Fact]
    public void Tensors_of_every_common_dtype_round_trip()
    {
        using var tmp = new TempDir();
        var dtypes = new[] { torch.float32, torch.float64, torch.int64, torch.int32, torch.complex64, torch.complex128 };
        foreach (var dt in dtypes)
        {
            using var t = (dt == torch.complex64 || dt == torch.complex128)
                ? torch.complex(torch.randn(3, 5, dtype: torch.float64), torch.randn(3, 5, dtype: torch.float64)).to(dt)
                : torch.arange(15, dtype: torch.float64).reshape(3, 5).mul(1.5).to(dt);
            string path = tmp.File($"{dt}.npy");
            NpyFile.Write(path, t);
            using var back = NpyFile.Read(path).ToTensor();
            Assert.Equal(dt, back.dtype);
            Assert.True(t.eq(back).all().item<bool>(), $"{dt} changed in the round trip");
        }
    }

    [Fact]
    public void Scalar_and_empty_shapes_are_written_like_numpy()
    {
        using var tmp = new TempDir();
        NpyFile.Write(tmp.File("s.npy"), NpyArray.FromDoubles([42.0]));
        var s = NpyFile.Read(tmp.File("s.npy"));
        Assert.Empty(s.Shape);
        Assert.Equal(42.0, s.ToDoubles()[0]);
        NpyFile.Write(tmp.File("e.npy"), NpyArray.FromDoubles([], 0, 3));
        Assert.Equal(new long[] { 0, 3 }, NpyFile.Read(tmp.File("e.npy")).Shape);
    }

    [Fact]
    public void Fortran_order_and_big_endian_arrays_are_converted()
    {
        using var tmp = new TempDir();
        // numpy: np.asfortranarray(np.arange(6, dtype='>f8').reshape(2, 3)) -> column-major big-endian bytes
        string header = "{'descr': '>f8', 'fortran_order': True, 'shape': (2, 3), }";
        header = header.PadRight(64 - 10 - 1) + "\n";
        using var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
        ms.Write(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (double v in new double[] { 0, 3, 1, 4, 2, 5 })
        {
            byte[] b = BitConverter.GetBytes(v);
            Array.Reverse(b);
            ms.Write(b);
        }
        File.WriteAllBytes(tmp.File("f.npy"), ms.ToArray());
        var a = NpyFile.Read(tmp.File("f.npy"));
        Assert.Equal(new long[] { 2, 3 }, a.Shape);
        Assert.Equal(new double[] { 0, 1, 2, 3, 4, 5 }, a.ToDoubles());
    }

    [Fact]
    public void Bad_files_give_one_line_errors_naming_the_file()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("bad.npy"), "hello");
        var e1 = Assert.Throws<EnsembleException>(() => NpyFile.Read(tmp.File("bad.npy")));
        Assert.Contains("bad.npy: not a .npy file", e1.Message);
        var e2 = Assert.Throws<EnsembleException>(() => NpyFile.Read(tmp.File("missing.npy")));
        Assert.Contains("file not found", e2.Message);
        NpyFile.Write(tmp.File("ok.npy"), NpyArray.FromDoubles(new double[100], 10, 10));
        byte[] b = File.ReadAllBytes(tmp.File("ok.npy"));
        File.WriteAllBytes(tmp.File("cut.npy"), b[..200]);
        var e3 = Assert.Throws<EnsembleException>(() => NpyFile.Read(tmp.File("cut.npy")));
        Assert.Contains("truncated", e3.Message);
        Assert.DoesNotContain('\n', e3.Message);
    }

    [SkippableFact]
    public void Reads_arrays_written_by_numpy()
    {
        string x = Shared.Require("fixtures/sht/quad_legendre-gauss_n33_x.npy");
        var a = NpyFile.Read(x);
        Assert.Equal("<f8", a.Descr);
        Assert.Equal(new long[] { 33 }, a.Shape);
        var v = a.ToDoubles();
        Assert.True(v.Zip(v.Skip(1)).All(p => p.First < p.Second), "Gauss nodes ascend");
        Assert.Equal(0.0, v[16], 15); // the middle node of an odd Gauss rule is 0
    }

    [SkippableFact]
    public void Reads_an_npz_written_by_numpy()
    {
        string path = Shared.Require("fixtures/sfno_small/state_dict.npz");
        var arrays = NpyFile.ReadNpz(path);
        Assert.NotEmpty(arrays);
        Assert.Contains(arrays.Keys, k => k.StartsWith("encoder", StringComparison.Ordinal));
    }
}
