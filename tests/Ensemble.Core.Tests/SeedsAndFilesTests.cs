using Ensemble.Core;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Core.Tests;

public class SeedsAndFilesTests
{
    [Fact]
    public void Derived_seeds_are_stable_and_sensitive_to_every_part()
    {
        // Pinned values: a change here silently changes every campaign's random draws.
        Assert.Equal(Seeds.Derive(1, 2, 3), Seeds.Derive(1, 2, 3));
        Assert.NotEqual(Seeds.Derive(1, 2, 3), Seeds.Derive(1, 3, 2));
        Assert.NotEqual(Seeds.Derive(1, 2, 3), Seeds.Derive(1, 2, 4));
        Assert.NotEqual(Seeds.Derive(0), Seeds.Derive(0, 0));
        Assert.True(Seeds.Derive(long.MaxValue, -1) >= 0);
        Assert.Equal(Seeds.Of("z500"), Seeds.Of("z500"));
        Assert.NotEqual(Seeds.Of("z500"), Seeds.Of("t850"));
        // FNV-1a of "a" (published constant).
        Assert.Equal(unchecked((long)0xaf63dc4c8601ec8cUL), Seeds.Of("a"));
    }

    [Fact]
    public void Derived_seeds_spread_over_the_range()
    {
        var seeds = Enumerable.Range(0, 10000).Select(i => Seeds.Derive(42, i)).ToArray();
        Assert.Equal(seeds.Length, seeds.Distinct().Count());
        double meanTopBit = seeds.Average(s => (s >> 61) & 1);
        Assert.InRange(meanTopBit, 0.45, 0.55);
    }

    [Fact]
    public void Atomic_writes_replace_whole_files_and_leave_no_temp_files()
    {
        using var tmp = new TempDir();
        string f = tmp.File("out.txt");
        AtomicFile.WriteAllText(f, "first");
        AtomicFile.WriteAllText(f, "second");
        Assert.Equal("second", File.ReadAllText(f));
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(f, s => { s.WriteByte(1); throw new InvalidOperationException("boom"); }));
        Assert.Equal("second", File.ReadAllText(f));
        Assert.Single(Directory.GetFiles(tmp.Path));
    }

    [Fact]
    public void Atomic_write_into_a_missing_folder_is_a_user_error()
    {
        using var tmp = new TempDir();
        Assert.Throws<EnsembleException>(() => AtomicFile.WriteAllText(Path.Combine(tmp.Path, "nope", "x"), "x"));
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("auto")]
    [InlineData(" CPU ")]
    public void Cpu_devices_parse(string name) => Assert.Equal(TorchSharp.DeviceType.CPU, Devices.Parse(name).type);

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    public void Unknown_devices_are_user_errors(string name) => Assert.Throws<EnsembleException>(() => Devices.Parse(name));

    [SkippableFact]
    public void Cuda_request_without_cuda_is_a_clear_error()
    {
        Skip.If(TorchSharp.torch.cuda.is_available(), "this host has CUDA");
        Assert.Contains("CUDA is not available", Assert.Throws<EnsembleException>(() => Devices.Parse("cuda:0")).Message);
        Assert.Equal(TorchSharp.DeviceType.CPU, Devices.ForLocalRank(3).type);
    }

    [Theory]
    [InlineData("fp32", TorchSharp.torch.ScalarType.Float32)]
    [InlineData("float64", TorchSharp.torch.ScalarType.Float64)]
    [InlineData("bf16", TorchSharp.torch.ScalarType.BFloat16)]
    public void Dtypes_parse(string name, TorchSharp.torch.ScalarType expected) => Assert.Equal(expected, Devices.ParseDType(name));
}
