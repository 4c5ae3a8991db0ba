using System.Globalization;
using Ensemble.Core;

namespace Ensemble.Campaigns.Configuration;

/// <summary>
/// Up-front checks of a campaign config, before any stage writes: every error is one line naming the file
/// and the key, so a malformed config never leaves half a campaign behind.
/// </summary>
public static class CampaignValidation
{
    public static readonly string[] KnownMetrics = ["crps", "fair_crps", "rmse", "spread", "ssr", "rank", "spectra", "reliability", "roc", "brier", "efi"];
    public static readonly string[] OutputFormats = ["zarr", "netcdf", "none"];

    public static CampaignConfig Validate(CampaignConfig c)
    {
        string src = c.Source;
        EnsembleException Err(string key, string why) => new($"{src}: key '{key}': {why}");

        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || c.Name.Contains(' '))
            throw Err("name", $"'{c.Name}' must be a non-empty file-name-safe word");
        if ((c.World is null) == (c.Data is null))
            throw new EnsembleException($"{src}: exactly one of 'world' (the built-in world) or 'data' (a Makani data root) must be given");
        if (c.World is { } w)
        {
            RequireFile(c, "world.config", w.Config);
            foreach (var o in w.Overrides)
                if (!o.Contains('=')) throw Err("world.overrides", $"'{o}' is not key=value");
        }
        if (c.Data is { } d && !Directory.Exists(c.Resolve(d.Path)))
            throw Err("data.path", $"folder {c.Resolve(d.Path)} does not exist");

        int trained = c.Checkpoints.Train?.Count ?? 0;
        if (c.Checkpoints.Train is { } t)
        {
            RequireFile(c, "checkpoints.train.config", t.Config);
            if (t.Count < 1) throw Err("checkpoints.train.count", $"must be ≥ 1, got {t.Count}");
            if (c.Data is not null) throw Err("checkpoints.train", "training inside a campaign is supported with the built-in world; train on your data with `ensemble train` and list the packages");
        }
        for (int i = 0; i < c.Checkpoints.Packages.Count; i++)
            if (!Directory.Exists(c.Resolve(c.Checkpoints.Packages[i])))
                throw Err($"checkpoints.packages[{i}]", $"model package folder {c.Resolve(c.Checkpoints.Packages[i])} does not exist");
        int checkpoints = trained + c.Checkpoints.Packages.Count;
        if (checkpoints == 0) throw Err("checkpoints", "no checkpoints: give checkpoints.train and/or checkpoints.packages");

        var e = c.Ensemble;
        if (e.Steps < 1) throw Err("ensemble.steps", $"must be ≥ 1, got {e.Steps}");
        if (e.Pairs < 0) throw Err("ensemble.pairs", $"must be ≥ 0, got {e.Pairs}");
        int perCheckpoint = 2 * e.Pairs + (e.Control ? 1 : 0);
        if (perCheckpoint == 0) throw Err("ensemble.pairs", "no members: set pairs ≥ 1 or control: true");
        if (e.Members is { } m)
        {
            if (!e.Control && m % 2 != 0)
                throw Err("ensemble.members", $"{m} is odd, but members come in ± pairs (set control: true for an odd count)");
            if (m != checkpoints * perCheckpoint)
                throw Err("ensemble.members", $"{m} ≠ {checkpoints} checkpoints × (2 × {e.Pairs} pairs{(e.Control ? " + control" : "")}) = {checkpoints * perCheckpoint}");
        }
        if (Times(c, e.InitTimes, "ensemble.init_times").Count == 0) throw Err("ensemble.init_times", "no initial times (give list or start/end/interval_hours)");
        if (e.BatchSize != "auto" && (!int.TryParse(e.BatchSize, NumberStyles.Integer, CultureInfo.InvariantCulture, out int b) || b < 1))
            throw Err("ensemble.batch_size", $"'{e.BatchSize}' is neither 'auto' nor a positive integer");
        if (!OutputFormats.Contains(e.Output.Format)) throw Err("ensemble.output.format", $"'{e.Output.Format}' is not one of {string.Join(", ", OutputFormats)}");
        if (e.Output.Stride < 1) throw Err("ensemble.output.stride", $"must be ≥ 1, got {e.Output.Stride}");
        if (e.Output.Crop is { } crop && crop.Count != 4) throw Err("ensemble.output.crop", "must be [lat_min, lat_max, lon_min, lon_max]");

        if (c.Skill.LeadHours <= 0 || c.Skill.LeadHours % 6 != 0) throw Err("skill.lead_hours", $"must be a positive multiple of 6, got {c.Skill.LeadHours.ToString(CultureInfo.InvariantCulture)}");
        if (Times(c, c.Skill.InitTimes, "skill.init_times").Count == 0) throw Err("skill.init_times", "no initial times");
        if (c.Climate.Enabled && Times(c, c.Climate.InitTimes, "climate.init_times").Count == 0) throw Err("climate.init_times", "no initial times (or set climate.enabled: false)");
        if (c.Climate.WindowDays < 0) throw Err("climate.window_days", $"must be ≥ 0, got {c.Climate.WindowDays}");

        if (c.Baseline.Physics && c.World is null) throw Err("baseline.physics", "the physics baseline needs the built-in world (set baseline.physics: false with data)");
        if (c.Baseline.Members is < 1) throw Err("baseline.members", $"must be ≥ 1, got {c.Baseline.Members}");
        if (c.Baseline.PerturbationScale <= 0) throw Err("baseline.perturbation_scale", "must be > 0");
        for (int i = 0; i < c.Baseline.Files.Count; i++)
            if (!File.Exists(c.Resolve(c.Baseline.Files[i])) && !Directory.Exists(c.Resolve(c.Baseline.Files[i])))
                throw Err($"baseline.files[{i}]", $"{c.Resolve(c.Baseline.Files[i])} does not exist");

        foreach (var metric in c.Scores.Metrics)
            if (!KnownMetrics.Contains(metric)) throw Err("scores.metrics", $"unknown metric '{metric}' (known: {string.Join(", ", KnownMetrics)})");
        if (c.Scores.ExtremePercentile is <= 0 or >= 100) throw Err("scores.extreme_percentile", "must be in (0, 100)");
        if (c.Scores.Metrics.Contains("efi") && !c.Climate.Enabled) throw Err("scores.metrics", "'efi' needs the M-climate (climate.enabled: true)");
        return c;
    }

    static IReadOnlyList<DateTime> Times(CampaignConfig c, TimesSection t, string key)
    {
        try
        {
            return t.Expand(key);
        }
        catch (EnsembleException e)
        {
            throw new EnsembleException($"{c.Source}: {e.Message}");
        }
    }

    static void RequireFile(CampaignConfig c, string key, string path)
    {
        if (!File.Exists(c.Resolve(path))) throw new EnsembleException($"{c.Source}: key '{key}': file {c.Resolve(path)} does not exist");
    }
}
