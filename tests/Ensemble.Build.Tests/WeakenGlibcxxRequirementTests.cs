using System.Collections;
using Ensemble.Build;
using Ensemble.TestSupport;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using TorchSharp;
using Xunit;

namespace Ensemble.Build.Tests;

public class WeakenGlibcxxRequirementTests
{
    const string Version = "GLIBCXX_3.4.32";

    /// <summary>The pristine library in the NuGet cache (never modified by the build).</summary>
    static string CacheLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p
            ? p
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string dir = Path.Combine(root, "torchsharp");
        Skip.IfNot(Directory.Exists(dir), $"torchsharp not in the NuGet cache at {root}");
        return Directory.EnumerateFiles(dir, "libLibTorchSharp.so", SearchOption.AllDirectories).First();
    }

    static string OutputLibrary() =>
        Directory.EnumerateFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).First();

    [SkippableFact]
    public void Patching_sets_the_weak_flag_only_on_the_target_version_and_is_idempotent()
    {
        using var tmp = new TempDir();
        string copy = tmp.File("libLibTorchSharp.so");
        File.Copy(CacheLibrary(), copy);
        byte[] before = File.ReadAllBytes(copy);
        Assert.All(ElfVersionPatcher.RequirementFlags(copy, Version), f => Assert.Equal(0, f & ElfVersionPatcher.VerFlgWeak));

        Assert.Equal(PatchResult.Patched, ElfVersionPatcher.WeakenInPlace(copy, Version));
        byte[] after = File.ReadAllBytes(copy);
        Assert.Equal(before.Length, after.Length);
        // Exactly one byte (the low byte of vna_flags) changes.
        Assert.Equal(1, before.Zip(after).Count(p => p.First != p.Second));
        Assert.All(ElfVersionPatcher.RequirementFlags(copy, Version), f => Assert.NotEqual(0, f & ElfVersionPatcher.VerFlgWeak));
        // Other requirements keep their flags.
        Assert.All(ElfVersionPatcher.RequirementFlags(copy, "GLIBCXX_3.4.30"), f => Assert.Equal(0, f));

        Assert.Equal(PatchResult.AlreadyWeak, ElfVersionPatcher.WeakenInPlace(copy, Version));
        Assert.Equal(after, File.ReadAllBytes(copy));
        Assert.Equal(PatchResult.NoSuchRequirement, ElfVersionPatcher.WeakenInPlace(copy, "GLIBCXX_9.9.9"));
    }

    [SkippableFact]
    public void Patching_replaces_a_hard_link_instead_of_writing_through_it()
    {
        using var tmp = new TempDir();
        string original = tmp.File("original.so");
        string linked = tmp.File("linked.so");
        File.Copy(CacheLibrary(), original);
        using (var ln = System.Diagnostics.Process.Start("ln", [original, linked]))
            ln.WaitForExit();
        Skip.IfNot(File.Exists(linked), "ln could not create a hard link here");
        ElfVersionPatcher.WeakenInPlace(linked, Version);
        Assert.All(ElfVersionPatcher.RequirementFlags(original, Version), f => Assert.Equal(0, f));
        Assert.All(ElfVersionPatcher.RequirementFlags(linked, Version), f => Assert.Equal(ElfVersionPatcher.VerFlgWeak, f));
    }

    [SkippableFact]
    public void The_build_patched_the_output_copy_and_left_the_NuGet_cache_alone()
    {
        string host = ElfVersionPatcher.FindHostLibStdCxx() ?? "";
        Skip.If(host == "", "no libstdc++.so.6 on this host");
        bool hostHasIt = ElfVersionPatcher.DefinesVersion(host, Version);
        var outputFlags = ElfVersionPatcher.RequirementFlags(OutputLibrary(), Version);
        Assert.NotEmpty(outputFlags);
        if (hostHasIt)
            Assert.All(outputFlags, f => Assert.Equal(0, f & ElfVersionPatcher.VerFlgWeak));
        else
            Assert.All(outputFlags, f => Assert.NotEqual(0, f & ElfVersionPatcher.VerFlgWeak));
        Assert.All(ElfVersionPatcher.RequirementFlags(CacheLibrary(), Version), f => Assert.Equal(0, f));
    }

    [SkippableFact]
    public void Host_libstdcxx_version_definitions_are_read()
    {
        string? host = ElfVersionPatcher.FindHostLibStdCxx();
        Skip.If(host == null, "no libstdc++.so.6 on this host");
        Assert.True(ElfVersionPatcher.DefinesVersion(host!, "GLIBCXX_3.4"));
        Assert.True(ElfVersionPatcher.DefinesVersion(host!, "CXXABI_1.3"));
        Assert.False(ElfVersionPatcher.DefinesVersion(host!, "GLIBCXX_99.0"));
    }

    [SkippableFact]
    public void Task_is_a_no_op_when_the_host_defines_the_version()
    {
        string? host = ElfVersionPatcher.FindHostLibStdCxx();
        Skip.If(host == null, "no libstdc++.so.6 on this host");
        using var tmp = new TempDir();
        string copy = tmp.File("libLibTorchSharp.so");
        File.Copy(CacheLibrary(), copy);
        byte[] before = File.ReadAllBytes(copy);
        // Every glibc-era libstdc++ defines GLIBCXX_3.4: the host "has" it, so nothing may change.
        var task = new WeakenGlibcxxRequirement { BuildEngine = new FakeEngine(), Files = [new TaskItem(copy)], Version = "GLIBCXX_3.4" };
        Assert.True(task.Execute());
        Assert.Equal("host-has-version", task.Outcome);
        Assert.Equal(before, File.ReadAllBytes(copy));
    }

    [SkippableFact]
    public void Task_patches_when_the_host_lacks_the_version()
    {
        using var tmp = new TempDir();
        string copy = tmp.File("libLibTorchSharp.so");
        File.Copy(CacheLibrary(), copy);
        var engine = new FakeEngine();
        var task = new WeakenGlibcxxRequirement { BuildEngine = engine, Files = [new TaskItem(copy)], Force = true };
        Assert.True(task.Execute());
        Assert.Equal("Patched", task.Outcome);
        task = new WeakenGlibcxxRequirement { BuildEngine = engine, Files = [new TaskItem(copy)], Force = true };
        Assert.True(task.Execute());
        Assert.Equal("AlreadyWeak", task.Outcome);
        Assert.Empty(engine.Errors);
    }

    [Fact]
    public void Task_reports_a_non_ELF_file_as_a_build_error()
    {
        using var tmp = new TempDir();
        string bogus = tmp.File("libLibTorchSharp.so");
        File.WriteAllText(bogus, "not an elf file");
        var engine = new FakeEngine();
        var task = new WeakenGlibcxxRequirement { BuildEngine = engine, Files = [new TaskItem(bogus)], Force = true };
        Assert.False(task.Execute());
        Assert.Contains(engine.Errors, e => e.Contains("not an ELF file", StringComparison.Ordinal));
    }

    [Fact]
    public void TorchSharp_loads_and_computes_in_the_test_host()
    {
        using var a = torch.arange(6, dtype: torch.float64).reshape(2, 3);
        using var b = torch.ones(3, 2, dtype: torch.float64);
        using var c = torch.mm(a, b);
        Assert.Equal(new double[] { 3, 3, 12, 12 }, c.data<double>().ToArray());
        using var f = torch.fft.rfft(torch.ones(8, dtype: torch.float64));
        Assert.Equal(8.0, f[0].real.item<double>(), 12);
    }

    sealed class FakeEngine : IBuildEngine
    {
        public List<string> Errors { get; } = [];
        public bool ContinueOnError => false;
        public int LineNumberOfTaskNode => 0;
        public int ColumnNumberOfTaskNode => 0;
        public string ProjectFileOfTaskNode => "test.proj";
        public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => true;
        public void LogCustomEvent(CustomBuildEventArgs e) { }
        public void LogErrorEvent(BuildErrorEventArgs e) => Errors.Add(e.Message ?? "");
        public void LogMessageEvent(BuildMessageEventArgs e) { }
        public void LogWarningEvent(BuildWarningEventArgs e) { }
    }
}
