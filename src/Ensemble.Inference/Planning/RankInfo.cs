using System.Collections;
using System.Globalization;
using Ensemble.Core;

namespace Ensemble.Inference.Planning;

/// <summary>
/// This process's place among the ranks of a campaign (hens-ensembles.md §12.1). <see cref="Source"/> names the
/// launcher the values came from; <see cref="LocalRank"/> picks the GPU when the device is auto.
/// </summary>
public sealed record RankInfo(int Rank, int WorldSize, int LocalRank, string Source)
{
    public static RankInfo Single { get; } = new(0, 1, 0, "single");

    /// <summary>Resolution order: RANK/WORLD_SIZE, SLURM_PROCID/SLURM_NTASKS, OMPI_COMM_WORLD_RANK/SIZE,
    /// a SLURM job array (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT), else one process.
    /// A launcher's pair is used only when both of its variables are set (srun does not set RANK).</summary>
    public static RankInfo Resolve(IDictionary env)
    {
        string? Get(string k) => env.Contains(k) ? env[k]?.ToString() is { Length: > 0 } v ? v : null : null;
        int Int(string k)
        {
            string v = Get(k)!;
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i)
                ? i : throw new EnsembleException($"environment {k}='{v}' is not an integer");
        }
        int Local(params string[] keys)
        {
            foreach (var k in keys) if (Get(k) != null) return Int(k);
            return 0;
        }
        RankInfo Make(int rank, int world, int local, string source)
        {
            if (world < 1) throw new EnsembleException($"{source}: world size {world} must be ≥ 1");
            if (rank < 0 || rank >= world) throw new EnsembleException($"{source}: rank {rank} outside 0 … {world - 1}");
            return new RankInfo(rank, world, local, source);
        }
        if (Get("RANK") != null && Get("WORLD_SIZE") != null)
            return Make(Int("RANK"), Int("WORLD_SIZE"), Local("LOCAL_RANK", "SLURM_LOCALID"), "RANK/WORLD_SIZE");
        if (Get("SLURM_PROCID") != null && Get("SLURM_NTASKS") != null)
            return Make(Int("SLURM_PROCID"), Int("SLURM_NTASKS"), Local("SLURM_LOCALID", "LOCAL_RANK"), "SLURM_PROCID/SLURM_NTASKS");
        if (Get("OMPI_COMM_WORLD_RANK") != null && Get("OMPI_COMM_WORLD_SIZE") != null)
            return Make(Int("OMPI_COMM_WORLD_RANK"), Int("OMPI_COMM_WORLD_SIZE"), Local("OMPI_COMM_WORLD_LOCAL_RANK"), "OMPI_COMM_WORLD_RANK/SIZE");
        if (Get("SLURM_ARRAY_TASK_ID") != null && Get("SLURM_ARRAY_TASK_COUNT") != null)
        {
            int min = Get("SLURM_ARRAY_TASK_MIN") != null ? Int("SLURM_ARRAY_TASK_MIN") : 0;
            return Make(Int("SLURM_ARRAY_TASK_ID") - min, Int("SLURM_ARRAY_TASK_COUNT"), Local("SLURM_LOCALID", "LOCAL_RANK"), "SLURM_ARRAY_TASK_ID/COUNT");
        }
        return Single with { LocalRank = Local("LOCAL_RANK", "SLURM_LOCALID") };
    }

    /// <summary>The process environment.</summary>
    public static RankInfo FromEnvironment() => Resolve(Environment.GetEnvironmentVariables());

    /// <summary>Rank r of W takes items [r·⌈N/W⌉, min(N, (r+1)·⌈N/W⌉)) — contiguous, no remainder dropped.</summary>
    public (int Start, int Count) Block(int items)
    {
        int per = (items + WorldSize - 1) / WorldSize;
        int start = Math.Min(items, Rank * per);
        return (start, Math.Min(items, start + per) - start);
    }
}
