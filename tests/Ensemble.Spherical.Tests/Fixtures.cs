using Ensemble.Data.Npy;
using Ensemble.TestSupport;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace Ensemble.Spherical.Tests;

/// <summary>Loads the torch-harmonics fixtures of shared/fixtures/sht (skips when absent).</summary>
internal static class Fixtures
{
    /// <summary>The fixture as a float64/complex128 tensor (read with the project's NPY reader).</summary>
    public static Tensor Tensor(string name)
    {
        var a = NpyFile.Read(Shared.Require($"fixtures/sht/{name}"));
        Assert.True(a.Descr is "<f8" or "<c16", $"{name}: dtype {a.Descr}");
        return a.ToTensor();
    }

    public static double[] Doubles(string name)
    {
        var a = NpyFile.Read(Shared.Require($"fixtures/sht/{name}"));
        Assert.Equal("<f8", a.Descr);
        return a.ToDoubles();
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
