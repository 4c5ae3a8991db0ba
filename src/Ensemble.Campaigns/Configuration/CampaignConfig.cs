using System.Globalization;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Core.Config;

namespace Ensemble.Campaigns.Configuration;

/// <summary>
/// One hindcast campaign: what world or data, which checkpoints, which perturbations, which initial dates,
/// how many members and steps, what to save and score, and where (configs/demo.yaml documents every key).
/// Relative paths are relative to the config file; <see cref="Output"/> is relative to the working directory.
/// </summary>
public sealed record CampaignConfig
{
    public required string Name { get; init; }
    /// <summary>Campaign seed: every random draw derives from it (training seeds, perturbations, baseline).</summary>
    public long Seed { get; init; }
    /// <summary>Campaign folder; defaults to runs/NAME.</summary>
    public string? Output { get; init; }
    public string Device { get; init; } = "auto";
    /// <summary>Torch intra-op threads for the whole campaign (pin it for bit-reproducible CPU results; 1 suits small grids).</summary>
    public int? Threads { get; init; }

    /// <summary>The built-in world as truth and training data (exclusive with <see cref="Data"/>).</summary>
    public WorldSection? World { get; init; }
    /// <summary>A Makani-layout data root (ERA5) as truth and analyses (exclusive with <see cref="World"/>).</summary>
    public DataSection? Data { get; init; }
    public CheckpointsSection Checkpoints { get; init; } = new();
    public SkillSection Skill { get; init; } = new();
    public EnsembleSection Ensemble { get; init; } = new();
    public BaselineSection Baseline { get; init; } = new();
    public ClimateSection Climate { get; init; } = new();
    public ScoresSection Scores { get; init; } = new();
    public ReportSection Report { get; init; } = new();

    /// <summary>Where the config came from (for messages and relative paths); not a YAML key.</summary>
    [System.Text.Json.Serialization.JsonIgnore] public string Source { get; init; } = "campaign config";
    [System.Text.Json.Serialization.JsonIgnore] public string BaseDirectory { get; init; } = ".";

    public string OutputDirectory => Path.GetFullPath(Output ?? Path.Combine("runs", Name));

    /// <summary>A path from the config, resolved against the config file's folder.</summary>
    public string Resolve(string path) => Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(BaseDirectory, path));

    public static CampaignConfig Load(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: config file not found");
        var cfg = YamlConfig.Load<CampaignConfig>(path, overrides) with
        {
            Source = path,
            BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path))!,
        };
        return CampaignValidation.Validate(cfg);
    }

    public static CampaignConfig Parse(string yaml, string source, string baseDirectory, IEnumerable<string>? overrides = null) =>
        CampaignValidation.Validate(YamlConfig.Parse<CampaignConfig>(yaml, source, overrides) with { Source = source, BaseDirectory = baseDirectory });

    /// <summary>The resolved config as YAML-equivalent JSON (for `ensemble config show` and stage hashes).</summary>
    public string Show() => YamlConfig.Show(this);

    public JsonNode ToJsonNode() => JsonNode.Parse(Show())!;
}

public sealed record WorldSection
{
    /// <summary>World YAML (configs/world-demo.yaml …).</summary>
    public required string Config { get; init; }
    /// <summary>Overrides of world keys, e.g. "days=730", "forcing.drag_days=20".</summary>
    public List<string> Overrides { get; init; } = [];
    /// <summary>Years from this one on are the validation/hindcast period; earlier years train the checkpoints.</summary>
    public int? ValidationFromYear { get; init; }
}

public sealed record DataSection
{
    /// <summary>Makani root with train/ and valid/ (or test/) folders of YYYY.h5 and data.json.</summary>
    public required string Path { get; init; }
    /// <summary>Subfolder holding the hindcast truth (default: the validation folder).</summary>
    public string? Truth { get; init; }
}

public sealed record CheckpointsSection
{
    /// <summary>Train this many checkpoints with seeds derived from the campaign seed.</summary>
    public TrainSection? Train { get; init; }
    /// <summary>Existing makani model packages (folders) used as further checkpoints.</summary>
    public List<string> Packages { get; init; } = [];
}

public sealed record TrainSection
{
    public required string Config { get; init; }
    public int Count { get; init; } = 1;
    /// <summary>Hydra-style overrides applied to the training config (e.g. "training.batch_size=8").</summary>
    public List<string> Overrides { get; init; } = [];
}

public sealed record TimesSection
{
    public List<DateTime>? List { get; init; }
    public DateTime? Start { get; init; }
    public DateTime? End { get; init; }
    public double IntervalHours { get; init; } = 24;
    /// <summary>Keep only these days of the week from start/end (e.g. [monday, thursday] as the HENS M-climate).</summary>
    public List<string>? Weekdays { get; init; }

    /// <summary>The times, sorted and unique; errors name <paramref name="key"/>.</summary>
    public IReadOnlyList<DateTime> Expand(string key)
    {
        var times = new List<DateTime>();
        if (List is { } l) times.AddRange(l.Select(Utc));
        var days = (Weekdays ?? []).Select(d => Enum.TryParse<DayOfWeek>(d, ignoreCase: true, out var w) && !int.TryParse(d, out _) ? w
            : throw new EnsembleException($"key '{key}.weekdays': '{d}' is not a day of the week")).ToHashSet();
        if (Start is { } s)
        {
            var e = End ?? throw new EnsembleException($"key '{key}.end' is required with {key}.start");
            if (IntervalHours <= 0) throw new EnsembleException($"key '{key}.interval_hours': must be > 0, got {IntervalHours.ToString(CultureInfo.InvariantCulture)}");
            if (e < s) throw new EnsembleException($"key '{key}.end': {e:O} is before start {s:O}");
            for (var t = Utc(s); t <= Utc(e); t = t.AddHours(IntervalHours))
                if (days.Count == 0 || days.Contains(t.DayOfWeek)) times.Add(t);
        }
        return times.Distinct().Order().ToList();
    }

    static DateTime Utc(DateTime t) => t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t.ToUniversalTime();
}

public sealed record SkillSection
{
    /// <summary>Lead of the per-channel RMSE that sets bred-vector amplitudes (HENS: 48 h).</summary>
    public double LeadHours { get; init; } = 48;
    public TimesSection InitTimes { get; init; } = new();
}

public sealed record EnsembleSection
{
    public TimesSection InitTimes { get; init; } = new();
    /// <summary>Number of 6-hour (model time step) steps.</summary>
    public int Steps { get; init; } = 20;
    /// <summary>Bred-vector (or other) ± pairs per checkpoint: members = checkpoints × (2·pairs + control).</summary>
    public int Pairs { get; init; } = 2;
    public bool Control { get; init; }
    /// <summary>Total members, optional: must equal checkpoints × (2·pairs + control) when given.</summary>
    public int? Members { get; init; }
    /// <summary>The perturbation section (see docs/algorithms/perturbations.md), passed to Ensemble.Perturbations.</summary>
    public JsonObject? Perturbation { get; init; }
    public string BatchSize { get; init; } = "auto";
    public OutputSection Output { get; init; } = new();
}

public sealed record OutputSection
{
    /// <summary>zarr (default), netcdf, or none (scores are still computed).</summary>
    public string Format { get; init; } = "zarr";
    public List<string>? Variables { get; init; }
    public List<double>? LeadTimes { get; init; }
    public List<double>? Crop { get; init; }
    public int Stride { get; init; } = 1;
}

public sealed record BaselineSection
{
    /// <summary>Run the world's physics ensemble as the baseline (only with a world).</summary>
    public bool Physics { get; init; } = true;
    /// <summary>Physics members per initial time (default: the ML member count per checkpoint).</summary>
    public int? Members { get; init; }
    /// <summary>Initial-state perturbation size as a fraction of the climate standard deviation.</summary>
    public double PerturbationScale { get; init; } = 0.05;
    /// <summary>Extra baseline forecasts (zarr / netCDF / GRIB in the ensemble layout) scored like the ML ensemble.</summary>
    public List<string> Files { get; init; } = [];
}

public sealed record ClimateSection
{
    public bool Enabled { get; init; } = true;
    /// <summary>Hindcast initial times whose forecasts form the M-climate (model climate) for EFI.</summary>
    public TimesSection InitTimes { get; init; } = new();
    /// <summary>Day-of-year window half width in days.</summary>
    public int WindowDays { get; init; } = 15;
}

public sealed record ScoresSection
{
    public List<string> Metrics { get; init; } = ["crps", "rmse", "spread", "ssr", "rank", "spectra", "reliability", "roc", "efi"];
    public List<string>? Variables { get; init; }
    public string Weighting { get; init; } = "cos-lat";
    /// <summary>Truth percentile defining extreme events (reliability, ROC, threshold-weighted CRPS).</summary>
    public double ExtremePercentile { get; init; } = 95;
    /// <summary>Leads (hours) of the EFI maps kept for the report (first initial time); all leads when null.</summary>
    public List<double>? MapLeadHours { get; init; } = [24, 72, 120, 240];
}

public sealed record ReportSection
{
    public bool Enabled { get; init; } = true;
    public string Title { get; init; } = "";
}
