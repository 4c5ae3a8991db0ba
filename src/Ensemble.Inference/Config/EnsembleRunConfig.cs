using System.Text.Json.Nodes;
using Ensemble.Core.Config;
using Ensemble.Perturbations;

namespace Ensemble.Inference.Config;

/// <summary>
/// An ensemble campaign (YAML, strict snake_case; see docs/ensembles.md): checkpoints × perturbation pairs × signs
/// (+ optional control) for a list of initial times and a number of 6-hour steps.
/// </summary>
public sealed record EnsembleRunConfig
{
    public string Name { get; init; } = "ensemble";
    /// <summary>Campaign seed: every pair seed is derived from (seed, checkpoint, initial time, pair).</summary>
    public long Seed { get; init; }
    /// <summary>Model package directories (makani layout), one per checkpoint, in checkpoint order.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
    public InitialConditionsConfig InitialConditions { get; init; } = new();
    /// <summary>Verifying analyses (Makani HDF5 folder); default: the initial-condition dataset.</summary>
    public string? Truth { get; init; }
    /// <summary>Number of model steps (6 h each for HENS-like models).</summary>
    public int Steps { get; init; } = 4;
    public MembersConfig Members { get; init; } = new();
    /// <summary>The perturbation method (<c>Ensemble.Perturbations</c>); default none (every member is the analysis).</summary>
    public PerturbationConfig Perturbation { get; init; } = new() { Method = "none" };
    /// <summary>Members per forward batch: an integer, or "auto" (fit <see cref="MemoryBudgetMb"/>).</summary>
    public JsonNode? BatchSize { get; init; }
    /// <summary>Memory budget for batch_size: auto (activations + buffered leads), in MB.</summary>
    public int MemoryBudgetMb { get; init; } = 1024;
    /// <summary>Pairs per work item (the unit of sharding, resume and merge); fixed by the plan, never by the world size.</summary>
    public int PairsPerItem { get; init; } = 8;
    /// <summary>cpu, cuda, cuda:N or auto (auto uses the rank-local GPU from SLURM_LOCALID / LOCAL_RANK).</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Torch intra-op threads per rank (pin it: CPU results depend on the count; default: the process default).</summary>
    public int? Threads { get; init; }
    public OutputConfig Output { get; init; } = new();
    public StatisticsConfig Statistics { get; init; } = new();

    public static EnsembleRunConfig Load(string path, IEnumerable<string>? overrides = null) =>
        YamlConfig.Load<EnsembleRunConfig>(path, overrides);

    public static EnsembleRunConfig Parse(string yaml, string source, IEnumerable<string>? overrides = null) =>
        YamlConfig.Parse<EnsembleRunConfig>(yaml, source, overrides);

    /// <summary>The resolved config as JSON text (hashed into the campaign state so a resume runs the same campaign).</summary>
    public string ToJson() => YamlConfig.Show(this);

}

public sealed record InitialConditionsConfig
{
    /// <summary>Makani HDF5 data folder (YYYY.h5 files and data.json).</summary>
    public string Path { get; init; } = "";
    /// <summary>Explicit initial times (ISO-8601, UTC).</summary>
    public IReadOnlyList<DateTime>? Times { get; init; }
    /// <summary>A range start … end (inclusive) every <see cref="IntervalHours"/>; combined with <see cref="Times"/>.</summary>
    public DateTime? Start { get; init; }
    public DateTime? End { get; init; }
    public int IntervalHours { get; init; } = 24;
}

public sealed record MembersConfig
{
    /// <summary>± pairs per checkpoint (default 1 unless count is given).</summary>
    public int? Pairs { get; init; }
    /// <summary>Alternative to pairs: total members per checkpoint (even, or odd with control).</summary>
    public int? Count { get; init; }
    /// <summary>One unperturbed member per checkpoint (the "deterministic" control), placed first.</summary>
    public bool Control { get; init; }
}

public sealed record OutputConfig
{
    /// <summary>The run directory (state, statistics, fields, summary).</summary>
    public string Path { get; init; } = "";
    /// <summary>zarr (default), netcdf (zarr while running, netCDF-4 written at merge) or none (statistics only).</summary>
    public string Format { get; init; } = "zarr";
    /// <summary>Variables to save (default: all model channels).</summary>
    public IReadOnlyList<string>? Variables { get; init; }
    /// <summary>Lead times to save in hours (default: every step, including 0).</summary>
    public IReadOnlyList<double>? LeadTimes { get; init; }
    /// <summary>Crop box [lat_min, lat_max, lon_min, lon_max] in degrees.</summary>
    public IReadOnlyList<double>? Crop { get; init; }
    /// <summary>Keep every stride-th grid point in both directions.</summary>
    public int Stride { get; init; } = 1;
}

public sealed record StatisticsConfig
{
    public bool Enabled { get; init; } = true;
    /// <summary>Variables scored (default: the output variables, else all channels).</summary>
    public IReadOnlyList<string>? Variables { get; init; }
    /// <summary>Exceedance thresholds per variable (physical units); variables without an entry never exceed.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<double>>? Thresholds { get; init; }
    /// <summary>Exact CRPS (fair and standard) from spilled member values, finalised in point blocks at merge.</summary>
    public bool Crps { get; init; } = true;
    /// <summary>Memory for one CRPS point block at merge (members × points × 8 B), in MB.</summary>
    public int CrpsBlockMb { get; init; } = 64;
    /// <summary>A member is flagged when |x − mean| > blowup_sigmas × std of a channel (package statistics), or non-finite.</summary>
    public double BlowupSigmas { get; init; } = 1000;
    /// <summary>Seed of the random rank tie break.</summary>
    public long RankSeed { get; init; }
}
