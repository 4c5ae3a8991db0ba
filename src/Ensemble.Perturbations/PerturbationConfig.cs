using System.Text.Json.Serialization;
using Ensemble.Core;
using Ensemble.Core.Config;

namespace Ensemble.Perturbations;

/// <summary>The initial-condition perturbation methods.</summary>
public enum PerturbationMethod { BredVector, SphericalGaussian, Gaussian, None }

/// <summary>Which breeding-cycle timing of docs hens-ensembles §5.3 the bred vector uses.</summary>
public enum BreedingTiming
{
    /// <summary>earth2studio HCBV: seed at t0 − S·Δ, cycles from the analyses t0 − S·Δ … t0 − Δ, final δ valid at t0.</summary>
    Earth2Studio,
    /// <summary>Original HENS: seed at t0 − (S−1)·Δ, cycles from t0 − (S−1)·Δ … t0 with the model clock at t0, final δ valid at t0 + Δ.</summary>
    Original,
}

/// <summary>
/// Parameters of the correlated spherical AR(1) seed field (docs hens-ensembles §3.1); defaults are the HENS values.
/// </summary>
public sealed record NoiseConfig
{
    /// <summary>Correlation length L in metres (HENS 5e5).</summary>
    public double LengthScale { get; init; } = 5.0e5;
    /// <summary>AR(1) time scale τ in hours (HENS 48).</summary>
    public double TimeScaleHours { get; init; } = 48.0;
    /// <summary>Grid-point standard deviation σ of the field (HENS 1).</summary>
    public double Sigma { get; init; } = 1.0;
    /// <summary>
    /// Degree count of the noise coefficients; null = the noise grid's nlat as in the original. The spectrum decays
    /// like e^{−kT l(l+1)/2}, so e.g. 128 gives the same statistics on large grids at a fraction of the setup cost
    /// (but a different realisation for a given seed).
    /// </summary>
    public int? Lmax { get; init; }
}

/// <summary>
/// Seeded relative Gaussian noise on chosen parameter groups of one checkpoint (<c>weights:</c>), a cheap stand-in
/// for independently trained checkpoints when only one model exists. See <see cref="WeightPerturbation"/>.
/// </summary>
public sealed record WeightPerturbationConfig
{
    /// <summary>Relative standard deviation σ_w: every selected weight w becomes w·(1 + σ_w·ε), ε ~ N(0, 1).</summary>
    public double RelativeStd { get; init; } = 0.01;
    /// <summary>
    /// State-dict name patterns selecting the perturbed parameters: dot-separated segments, <c>*</c> matches within
    /// one segment, a pattern matches any run of whole segments of a name (e.g. <c>blocks.*.filter</c>, <c>encoder</c>,
    /// <c>decoder</c>, <c>mlp</c>).
    /// </summary>
    public IReadOnlyList<string> Groups { get; init; } = ["blocks.*.filter"];
    /// <summary>Number of perturbed copies per checkpoint (variant 0 … variants − 1, each with its own seed).</summary>
    public int Variants { get; init; } = 1;
}

/// <summary>
/// The <c>perturbation:</c> section of a campaign (YAML, strict snake_case keys). Defaults follow HENS
/// (docs hens-ensembles §2–§6): bred vectors, amplitudes 0.35 × the 48-hour RMSE per channel, seed on z500 only,
/// three breeding cycles.
/// </summary>
public sealed record PerturbationConfig
{
    /// <summary>bred_vector | spherical_gaussian | gaussian | none.</summary>
    public string Method { get; init; } = "bred_vector";

    /// <summary>Explicit amplitude per channel (physical units); wins over the skill table for the channels it lists.</summary>
    public Dictionary<string, double>? Amplitudes { get; init; }

    /// <summary>Score table (Parquet or CSV from <c>ensemble score</c>) whose aggregated <c>rmse</c> rows give the amplitudes.</summary>
    public string? SkillTable { get; init; }
    /// <summary>Lead time (hours) of the RMSE used for the amplitudes (HENS 48).</summary>
    public double SkillLeadHours { get; init; } = 48.0;
    /// <summary>Factor on the RMSE (HENS 0.35).</summary>
    public double AmplitudeFactor { get; init; } = 0.35;
    /// <summary>Model name of the rows to use; needed when the table holds several models.</summary>
    public string? SkillModel { get; init; }
    /// <summary>Weighting of the rows to use (none, coslat, cellarea); needed when the table holds several.</summary>
    public string? SkillWeighting { get; init; }

    /// <summary>Channels seeded with correlated noise in the bred vector (HENS: z500 only).</summary>
    public IReadOnlyList<string> SeedChannels { get; init; } = ["z500"];
    /// <summary>Seed-field parameters (HENS defaults).</summary>
    public NoiseConfig Noise { get; init; } = new();

    /// <summary>Number of breeding cycles S (HENS 3).</summary>
    public int BreedingCycles { get; init; } = 3;
    /// <summary>earth2studio (default) | original — see <see cref="BreedingTiming"/> and docs/algorithms/perturbations.md.</summary>
    public string Timing { get; init; } = "earth2studio";

    /// <summary>
    /// Channels clipped to ≥ 0 after adding ±δ. Null = the earth2studio rule (names starting with <c>q</c>, <c>r</c>
    /// or <c>tp</c>, and <c>tcwv</c>); an empty list clips nothing.
    /// </summary>
    public IReadOnlyList<string>? ClipNonNegative { get; init; }

    /// <summary>Optional weight perturbation of the checkpoint(s).</summary>
    public WeightPerturbationConfig? Weights { get; init; }

    [JsonIgnore]
    public PerturbationMethod MethodKind => ParseMethod("perturbation config");

    [JsonIgnore]
    public BreedingTiming TimingKind => ParseTiming("perturbation config");

    PerturbationMethod ParseMethod(string source) => Method.Trim().ToLowerInvariant() switch
    {
        "bred_vector" => PerturbationMethod.BredVector,
        "spherical_gaussian" => PerturbationMethod.SphericalGaussian,
        "gaussian" => PerturbationMethod.Gaussian,
        "none" => PerturbationMethod.None,
        _ => throw new EnsembleException($"{source}: key 'method': '{Method}' is not one of bred_vector, spherical_gaussian, gaussian, none"),
    };

    BreedingTiming ParseTiming(string source) => Timing.Trim().ToLowerInvariant() switch
    {
        "earth2studio" => BreedingTiming.Earth2Studio,
        "original" => BreedingTiming.Original,
        _ => throw new EnsembleException($"{source}: key 'timing': '{Timing}' is not one of earth2studio, original"),
    };

    /// <summary>Parses and validates YAML text whose root is this section.</summary>
    public static PerturbationConfig Parse(string yaml, string source = "perturbation config") =>
        YamlConfig.Parse<PerturbationConfig>(yaml, source).Validate(source);

    /// <summary>Loads and validates a YAML file whose root is this section.</summary>
    public static PerturbationConfig Load(string path) => YamlConfig.Load<PerturbationConfig>(path).Validate(path);

    /// <summary>
    /// Checks values that do not depend on the model's channels (those are checked by <see cref="PerturbationFactory"/>);
    /// throws an <see cref="EnsembleException"/> naming the key.
    /// </summary>
    public PerturbationConfig Validate(string source = "perturbation config")
    {
        void Fail(string key, string why) => throw new EnsembleException($"{source}: key '{key}': {why}");
        var method = ParseMethod(source);
        _ = ParseTiming(source);
        if (method != PerturbationMethod.None && Amplitudes is null && SkillTable is null)
            Fail("amplitudes", $"method {Method} needs amplitudes (a map channel → value) or skill_table");
        foreach (var (name, a) in Amplitudes ?? [])
            if (!double.IsFinite(a) || a < 0) Fail($"amplitudes.{name}", $"must be a finite value ≥ 0, got {a}");
        if (SkillTable is { } t && string.IsNullOrWhiteSpace(t)) Fail("skill_table", "is empty");
        if (!(SkillLeadHours > 0)) Fail("skill_lead_hours", $"must be > 0, got {SkillLeadHours}");
        if (!double.IsFinite(AmplitudeFactor) || AmplitudeFactor < 0) Fail("amplitude_factor", $"must be a finite value ≥ 0, got {AmplitudeFactor}");
        if (method == PerturbationMethod.BredVector && SeedChannels.Count == 0) Fail("seed_channels", "lists no channel");
        if (!(Noise.LengthScale > 0)) Fail("noise.length_scale", $"must be > 0 m, got {Noise.LengthScale}");
        if (!(Noise.TimeScaleHours > 0)) Fail("noise.time_scale_hours", $"must be > 0 h, got {Noise.TimeScaleHours}");
        if (!(Noise.Sigma > 0) || !double.IsFinite(Noise.Sigma)) Fail("noise.sigma", $"must be > 0, got {Noise.Sigma}");
        if (Noise.Lmax is < 1) Fail("noise.lmax", $"must be ≥ 1, got {Noise.Lmax}");
        if (BreedingCycles < 1) Fail("breeding_cycles", $"must be ≥ 1, got {BreedingCycles}");
        if (Weights is { } w)
        {
            if (!double.IsFinite(w.RelativeStd) || w.RelativeStd < 0) Fail("weights.relative_std", $"must be a finite value ≥ 0, got {w.RelativeStd}");
            if (w.Groups.Count == 0) Fail("weights.groups", "lists no parameter group");
            foreach (var g in w.Groups)
                if (string.IsNullOrWhiteSpace(g) || g.Split('.').Any(s => s.Length == 0)) Fail("weights.groups", $"'{g}' is not a dot-separated name pattern");
            if (w.Variants < 1) Fail("weights.variants", $"must be ≥ 1, got {w.Variants}");
        }
        return this;
    }

    /// <summary>
    /// Indices (in <paramref name="channelNames"/>) of the channels clipped to ≥ 0: <see cref="ClipNonNegative"/>, or the
    /// earth2studio rule when it is null. A configured name that is not a channel is an error naming the key.
    /// </summary>
    public IReadOnlyList<int> NonNegativeChannels(IReadOnlyList<string> channelNames, string source = "perturbation config")
    {
        if (ClipNonNegative is null)
            return channelNames.Select((n, i) => (n, i)).Where(t => IsHumidityLike(t.n)).Select(t => t.i).ToList();
        return ClipNonNegative.Select(n => IndexOf(channelNames, n, "clip_non_negative", source)).Distinct().Order().ToList();
    }

    /// <summary>earth2studio's clipping rule: names starting with q, r or tp, and tcwv.</summary>
    public static bool IsHumidityLike(string name) =>
        name.StartsWith('q') || name.StartsWith('r') || name.StartsWith("tp", StringComparison.Ordinal) || name == "tcwv";

    internal static int IndexOf(IReadOnlyList<string> channelNames, string name, string key, string source)
    {
        for (int i = 0; i < channelNames.Count; i++)
            if (channelNames[i] == name) return i;
        throw new EnsembleException($"{source}: key '{key}': '{name}' is not a model channel (channels: {string.Join(", ", channelNames)})");
    }
}
