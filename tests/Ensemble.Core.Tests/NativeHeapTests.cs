using Ensemble.Core;
using Xunit;

namespace Ensemble.Core.Tests;

public class NativeHeapTests
{
    [Fact]
    public void Malloc_tuning_applies_once_on_linux()
    {
        bool first = NativeHeap.TuneForTensors();
        Assert.Equal(first, NativeHeap.TuneForTensors());
        Assert.Equal(first, NativeHeap.Tuned);
        // Debian's glibc accepts all three settings; elsewhere (macOS, musl) nothing is applied.
        if (OperatingSystem.IsLinux() && File.Exists("/lib/x86_64-linux-gnu/libc.so.6")
            && Environment.GetEnvironmentVariable("ENSEMBLE_MALLOC_TUNING") != "0")
            Assert.True(first, "mallopt refused the settings on glibc");
        using var big = TorchSharp.torch.ones(16L << 20);                        // 64 MB: above the mmap threshold, still fine
        Assert.Equal(16L << 20, big.sum().item<float>());
    }
}
