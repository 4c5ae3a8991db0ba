using System.Reflection;
using TorchSharp;

namespace Ensemble.Core;

/// <summary>What `ensemble doctor` reports about the native tensor runtime.</summary>
public sealed record TorchRuntimeInfo(
    string TorchSharpVersion,
    string LibTorchVersion,
    string Backend,
    bool CudaAvailable,
    int CudaDevices,
    int Threads,
    string NativeLibrary,
    string CompatibilityStep);

public static class TorchRuntime
{
    /// <summary>Loads libtorch (throws if it cannot) and describes it.</summary>
    public static TorchRuntimeInfo Describe()
    {
        // Forces the native load; a failure here is what `doctor` exists to diagnose.
        using var probe = torch.ones(2).sum();
        var asm = typeof(torch).Assembly;
        string tsVersion = asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
                           ?? asm.GetName().Version?.ToString() ?? "unknown";
        string native = FindNativeLibrary() ?? "not found next to TorchSharp.dll";
        return new TorchRuntimeInfo(
            tsVersion,
            torch.__version__,
            torch.cuda.is_available() ? "cuda" : "cpu",
            torch.cuda.is_available(),
            torch.cuda.is_available() ? torch.cuda.device_count() : 0,
            torch.get_num_threads(),
            native,
            native.EndsWith(".so", StringComparison.Ordinal) ? CompatibilityStatus(native) : "not applicable");
    }

    /// <summary>libLibTorchSharp.so in the application folder (flat or runtimes/RID/native layout).</summary>
    public static string? FindNativeLibrary()
    {
        string baseDir = AppContext.BaseDirectory;
        string flat = Path.Combine(baseDir, "libLibTorchSharp.so");
        if (File.Exists(flat)) return flat;
        string runtimes = Path.Combine(baseDir, "runtimes");
        if (!Directory.Exists(runtimes)) return null;
        return Directory.EnumerateFiles(runtimes, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault();
    }

    /// <summary>Whether the GLIBCXX_3.4.32 requirement of the loaded library is marked weak.</summary>
    public static string CompatibilityStatus(string soPath)
    {
        try
        {
            var flags = Ensemble.Build.ElfVersionPatcher.RequirementFlags(soPath, "GLIBCXX_3.4.32");
            if (flags.Count == 0) return "not needed (library does not require GLIBCXX_3.4.32)";
            return flags.All(f => (f & Ensemble.Build.ElfVersionPatcher.VerFlgWeak) != 0)
                ? "applied (GLIBCXX_3.4.32 requirement marked weak)"
                : "not applied (host libstdc++ provides GLIBCXX_3.4.32)";
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return $"unknown ({e.Message})";
        }
    }
}
