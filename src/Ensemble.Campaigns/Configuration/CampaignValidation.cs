using System.Globalization;
using Ensemble.Core;

namespace Ensemble.Campaigns.Configuration;

/// <summary>
/// Up-front checks of a campaign config, before any stage writes: every error is one line naming the file
/// and the key, so a malformed config never leaves half a campaign behind.
/// </summary>
public static class CampaignValidation
{
    public static readonly string[] KnownMetrics = ["crps", "fair_crps", "rmse", "spread", "ssr", "rank", "spectra", "reliability", "roc", "brier", "twcrps", "efi", "sot"];
    public static readonly string[] OutputFormats = ["zarr", "netcdf", "none"];

    public static CampaignConfig Validate(CampaignConfig c)
    {
        string src = c.Source;
        EnsembleException Err(string key, string why) => new($"{src}: key '{key}': {why}");

        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || c.Name.Contains(' '))
            throw Err("name", $"'{c.Name}' must be a non-empty file-name-safe word");
        if (c.Threads is < 1) throw Err("threads", $"must be ≥ 1, got {c.Threads}");
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
        foreach (var climateMetric in new[] { "efi", "sot" })
            if (c.Scores.Metrics.Contains(climateMetric) && !c.Climate.Enabled)
                throw Err("scores.metrics", $"'{climateMetric}' needs the M-climate (climate.enabled: true)");
        ValidateChannels(c);
        return c;
    }

    /// <summary>
    /// Channel names the campaign will have (the world's, or the data root's data.json), so a misspelt variable
    /// fails now rather than after an hour of training; and the perturbation section bound and checked.
    /// </summary>
    static void ValidateChannels(CampaignConfig c)
    {
        string src = c.Source;
        IReadOnlyList<string>? channels = null;
        if (c.World is not null) channels = Ensemble.World.WorldChannels.Names;
        else if (c.Data is { } d && File.Exists(Path.Combine(c.Resolve(d.Path), "data.json")))
            channels = Ensemble.Data.Hdf5.MakaniMetadata.Read(Path.Combine(c.Resolve(d.Path), "data.json")).Channels;
        void Check(IEnumerable<string>? names, string key)
        {
            if (channels is null || names is null) return;
            foreach (var n in names)
                if (!channels.Contains(n)) throw new EnsembleException($"{src}: key '{key}': '{n}' is not a channel (channels: {string.Join(", ", channels)})");
        }
        Check(c.Ensemble.Output.Variables, "ensemble.output.variables");
        Check(c.Scores.Variables, "scores.variables");
        if (c.Ensemble.Perturbation is { } node)
        {
            var tree = (System.Text.Json.Nodes.JsonObject)node.DeepClone();
            if (tree["amplitudes"] is null && tree["skill_table"] is null) tree["skill_table"] = "skill";   // the campaign's own skill stage
            var p = Ensemble.Core.Config.YamlConfig.Bind<Ensemble.Perturbations.PerturbationConfig>(tree, $"{src}: ensemble.perturbation");
            p.Validate($"{src}: ensemble.perturbation");
            Check(p.SeedChannels, "ensemble.perturbation.seed_channels");
            Check(p.ClipNonNegative, "ensemble.perturbation.clip_non_negative");
            Check(p.Amplitudes?.Keys, "ensemble.perturbation.amplitudes");
            if (p.Amplitudes is null && p.SkillTable is null or "skill" && p.MethodKind != Ensemble.Perturbations.PerturbationMethod.None
                && p.SkillLeadHours > c.Skill.LeadHours)
                throw new EnsembleException($"{src}: key 'ensemble.perturbation.skill_lead_hours': {p.SkillLeadHours} h is beyond skill.lead_hours ({c.Skill.LeadHours} h), so the skill table has no such lead");
        }
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
