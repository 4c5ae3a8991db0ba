using System.Runtime.InteropServices;
using System.Text;
using Ensemble.TestSupport;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>Loads the torch-harmonics fixtures of shared/fixtures/sht (skips when absent).</summary>
internal static class Fixtures
{
    /// <summary>
    /// The fixture as a float64/complex128 tensor. The fixtures are little-endian C-order .npy files of dtype
    /// &lt;f8 or &lt;c16; this reader (instead of Ensemble.Data's) keeps the spherical tests independent of the
    /// data layer, which the spherical core must not depend on.
    /// </summary>
    public static Tensor Tensor(string name)
    {
        var (descr, shape, data) = ReadNpy(Shared.Require($"fixtures/sht/{name}"));
        var t = torch.empty(shape, dtype: descr == "<c16" ? ScalarType.ComplexFloat64 : ScalarType.Float64);
        t.bytes = data;
        return t;
    }

    public static double[] Doubles(string name)
    {
        var (descr, _, data) = ReadNpy(Shared.Require($"fixtures/sht/{name}"));
        Assert.Equal("<f8", descr);
        return MemoryMarshal.Cast<byte, double>(data).ToArray();
    }

    static (string Descr, long[] Shape, byte[] Data) ReadNpy(string path)
    {
        byte[] all = File.ReadAllBytes(path);
        Assert.True(all.Length > 10 && all[0] == 0x93 && Encoding.ASCII.GetString(all, 1, 5) == "NUMPY", $"{path}: not an npy file");
        int major = all[6];
        int headerLen = major == 1 ? BitConverter.ToUInt16(all, 8) : BitConverter.ToInt32(all, 8);
        int start = major == 1 ? 10 : 12;
        string header = Encoding.ASCII.GetString(all, start, headerLen);
        string descr = Between(header, "'descr': '", "'");
        Assert.True(descr is "<f8" or "<c16", $"{path}: dtype {descr}");
        Assert.Contains("'fortran_order': False", header);
        string dims = Between(header, "'shape': (", ")");
        long[] shape = dims.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return (descr, shape, all[(start + headerLen)..]);
    }

    static string Between(string s, string a, string b)
    {
        int i = s.IndexOf(a, StringComparison.Ordinal) + a.Length;
        return s[i..s.IndexOf(b, i, StringComparison.Ordinal)];
    }

    /// <summary>‖a − b‖/‖b‖ over all (real or complex) elements, in float64.</summary>
    public static double RelErr(Tensor actual, Tensor expected)
    {
        using var scope = torch.NewDisposeScope();
        var a = actual.is_complex() ? view_as_real(actual.to(ScalarType.ComplexFloat64)) : actual.to(ScalarType.Float64);
        var b = expected.is_complex() ? view_as_real(expected.to(ScalarType.ComplexFloat64)) : expected.to(ScalarType.Float64);
        Assert.Equal(b.shape, a.shape);
        return (a - b).norm().item<double>() / b.norm().item<double>();
    }

    /// <summary>max|a − b| / max|b|.</summary>
    public static double MaxRelErr(Tensor actual, Tensor expected)
    {
        using var scope = torch.NewDisposeScope();
        var a = actual.is_complex() ? view_as_real(actual.to(ScalarType.ComplexFloat64)) : actual.to(ScalarType.Float64);
        var b = expected.is_complex() ? view_as_real(expected.to(ScalarType.ComplexFloat64)) : expected.to(ScalarType.Float64);
        Assert.Equal(b.shape, a.shape);
        return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
    }
}
