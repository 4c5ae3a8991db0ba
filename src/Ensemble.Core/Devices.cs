using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Core;

/// <summary>Device and precision selection shared by every tensor workload.</summary>
public static class Devices
{
    /// <summary>
    /// Parses "cpu", "cuda", "cuda:N" or "auto" (cuda:0 when available, else cpu). Unknown names and
    /// CUDA requests on a host without CUDA are user errors.
    /// </summary>
    public static Device Parse(string? name)
    {
        string n = (name ?? "auto").Trim().ToLowerInvariant();
        if (n == "auto") return cuda.is_available() ? new Device(DeviceType.CUDA, 0) : CPU;
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            int index = 0;
            if (n.Length > 4 && !int.TryParse(n.AsSpan(5), out index))
                throw new EnsembleException($"device '{name}': expected cuda:N with an integer N");
            if (!cuda.is_available())
                throw new EnsembleException($"device '{name}': CUDA is not available (build with -p:TorchBackend=cuda on a GPU host)");
            int count = cuda.device_count();
            if (index < 0 || index >= count)
                throw new EnsembleException($"device '{name}': only {count} CUDA device(s) present");
            return new Device(DeviceType.CUDA, index);
        }
        throw new EnsembleException($"device '{name}': expected cpu, cuda, cuda:N or auto");
    }

    /// <summary>The device for a SLURM/MPI local rank: cuda:(localRank mod count) when CUDA exists, else cpu.</summary>
    public static Device ForLocalRank(int localRank)
    {
        if (!cuda.is_available()) return CPU;
        return new Device(DeviceType.CUDA, localRank % Math.Max(1, cuda.device_count()));
    }

    /// <summary>Parses "float32"/"fp32", "float64"/"fp64", "bfloat16"/"bf16", "float16"/"fp16".</summary>
    public static ScalarType ParseDType(string? name) => (name ?? "float32").Trim().ToLowerInvariant() switch
    {
        "float32" or "fp32" or "single" => ScalarType.Float32,
        "float64" or "fp64" or "double" => ScalarType.Float64,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "half" => ScalarType.Float16,
        _ => throw new EnsembleException($"dtype '{name}': expected float32, float64, bfloat16 or float16"),
    };
}
