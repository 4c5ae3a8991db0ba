using System.Text.Json;
using System.Text.Json.Serialization;
using Ensemble.Core;

namespace Ensemble.Models.Sfno;

/// <summary>
/// The makani v0.1.0 params dictionary (a package's <c>config.json</c>) as far as the SFNO and its inputs need it.
/// Property names are makani's keys; every other key is kept in <see cref="Extra"/> so that reading and writing a
/// config.json round-trips it. Defaults are the v0.1.0 constructor defaults (reference §7.1).
/// </summary>
public sealed record SfnoConfig
{
    [JsonPropertyName("nettype")] public string NetType { get; init; } = "SFNO";
    [JsonPropertyName("spectral_transform")] public string SpectralTransform { get; init; } = "sht";
    [JsonPropertyName("model_grid_type")] public string ModelGridType { get; init; } = "equiangular";
    [JsonPropertyName("sht_grid_type")] public string ShtGridType { get; init; } = "legendre-gauss";
    [JsonPropertyName("filter_type")] public string FilterType { get; init; } = "linear";
    [JsonPropertyName("operator_type")] public string OperatorType { get; init; } = "dhconv";
    [JsonPropertyName("img_shape_x")] public int ImgShapeX { get; init; } = 721;
    [JsonPropertyName("img_shape_y")] public int ImgShapeY { get; init; } = 1440;
    [JsonPropertyName("scale_factor")] public int ScaleFactor { get; init; } = 8;
    /// <summary>Data channels per time step (makani's N_in_channels; auxiliary channels are added on top, §8.2).</summary>
    [JsonPropertyName("N_in_channels")] public int NInChannels { get; init; } = 2;
    [JsonPropertyName("N_out_channels")] public int NOutChannels { get; init; } = 2;
    [JsonPropertyName("embed_dim")] public int EmbedDim { get; init; } = 32;
    [JsonPropertyName("num_layers")] public int NumLayers { get; init; } = 4;
    [JsonPropertyName("use_mlp")] public bool UseMlp { get; init; } = true;
    [JsonPropertyName("mlp_ratio")] public double MlpRatio { get; init; } = 2.0;
    [JsonPropertyName("encoder_ratio")] public double EncoderRatio { get; init; } = 1;
    [JsonPropertyName("decoder_ratio")] public double DecoderRatio { get; init; } = 1;
    [JsonPropertyName("encoder_layers")] public int EncoderLayers { get; init; } = 1;
    [JsonPropertyName("activation_function")] public string ActivationFunction { get; init; } = "gelu";
    [JsonPropertyName("normalization_layer")] public string NormalizationLayer { get; init; } = "instance_norm";
    [JsonPropertyName("hard_thresholding_fraction")] public double HardThresholdingFraction { get; init; } = 1.0;
    [JsonPropertyName("pos_embed")] public string PosEmbed { get; init; } = "none";
    [JsonPropertyName("big_skip")] public bool BigSkip { get; init; } = true;
    [JsonPropertyName("bias")] public bool Bias { get; init; }
    [JsonPropertyName("separable")] public bool Separable { get; init; }
    [JsonPropertyName("repeat_layers")] public int RepeatLayers { get; init; } = 1;

    [JsonPropertyName("channel_names")] public IReadOnlyList<string> ChannelNames { get; init; } = [];
    [JsonPropertyName("in_channels")] public IReadOnlyList<int>? InChannels { get; init; }
    [JsonPropertyName("out_channels")] public IReadOnlyList<int>? OutChannels { get; init; }
    [JsonPropertyName("n_history")] public int NHistory { get; init; }
    [JsonPropertyName("add_zenith")] public bool AddZenith { get; init; }
    [JsonPropertyName("add_grid")] public bool AddGrid { get; init; }
    [JsonPropertyName("gridtype")] public string GridType { get; init; } = "sinusoidal";
    [JsonPropertyName("grid_num_frequencies")] public int GridNumFrequencies { get; init; } = 16;
    [JsonPropertyName("add_orography")] public bool AddOrography { get; init; }
    [JsonPropertyName("add_landmask")] public bool AddLandmask { get; init; }
    [JsonPropertyName("normalization")] public string Normalization { get; init; } = "zscore";
    [JsonPropertyName("target")] public string Target { get; init; } = "default";
    [JsonPropertyName("dhours")] public int DHours { get; init; } = 6;
    [JsonPropertyName("dt")] public int Dt { get; init; } = 1;
    [JsonPropertyName("data_grid_type")] public string DataGridType { get; init; } = "equiangular";

    /// <summary>Every other config.json key, preserved verbatim.</summary>
    [JsonExtensionData] public Dictionary<string, JsonElement> Extra { get; init; } = new(StringComparer.Ordinal);

    // ---- derived sizes (reference §7.2) -------------------------------------------------------------

    /// <summary>Internal (Gauss) grid: nlat // scale_factor.</summary>
    [JsonIgnore] public int H => ImgShapeX / ScaleFactor;
    [JsonIgnore] public int W => ImgShapeY / ScaleFactor;
    [JsonIgnore] public int ModesLat => (int)(H * HardThresholdingFraction);
    [JsonIgnore] public int ModesLon => (int)((W / 2 + 1) * HardThresholdingFraction);
    [JsonIgnore] public int MlpHidden => (int)(EmbedDim * MlpRatio);
    [JsonIgnore] public int EncoderHidden => (int)(EncoderRatio * EmbedDim);
    [JsonIgnore] public int DecoderHidden => (int)(DecoderRatio * EmbedDim);

    /// <summary>The grid-feature channel count of makani's preprocessor: 2F for sinusoidal grids, else 2.</summary>
    [JsonIgnore] public int GridChannels => !AddGrid ? 0 : GridType == "sinusoidal" ? 2 * GridNumFrequencies : 2;

    /// <summary>Channels the network sees: data × (history + 1), zenith, grid, orography, land mask (§8.2).</summary>
    [JsonIgnore]
    public int ModelInputChannels =>
        NInChannels * (NHistory + 1) + (AddZenith ? 1 : 0) + GridChannels + (AddOrography ? 1 : 0) + (AddLandmask ? 2 : 0);

    /// <summary>Names of the network's input data channels (channel_names[in_channels]).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> InChannelNames => InChannels is null ? ChannelNames.Take(NInChannels).ToList() : InChannels.Select(i => ChannelNames[i]).ToList();

    [JsonIgnore]
    public IReadOnlyList<string> OutChannelNames => OutChannels is null ? ChannelNames.Take(NOutChannels).ToList() : OutChannels.Select(i => ChannelNames[i]).ToList();

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static SfnoConfig FromJson(string json, string source = "config.json")
    {
        SfnoConfig? c;
        try { c = JsonSerializer.Deserialize<SfnoConfig>(json, Options); }
        catch (JsonException e) { throw new EnsembleException($"{source}: invalid SFNO config ({e.Message})"); }
        if (c is null) throw new EnsembleException($"{source}: empty SFNO config");
        c.Validate(source);
        return c;
    }

    public static SfnoConfig Load(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        return FromJson(File.ReadAllText(path), path);
    }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Rejects what this port does not implement, with the offending key named.</summary>
    public void Validate(string source = "config")
    {
        void Fail(string what) => throw new EnsembleException($"{source}: {what}");
        if (NetType is not ("SFNO" or "sfno")) Fail($"nettype '{NetType}' is not supported (only SFNO)");
        if (SpectralTransform != "sht") Fail($"spectral_transform '{SpectralTransform}' is not supported (only sht)");
        if (FilterType != "linear") Fail($"filter_type '{FilterType}' is not supported (only linear)");
        if (OperatorType is not ("dhconv" or "diagonal")) Fail($"operator_type '{OperatorType}' is not supported (dhconv or diagonal)");
        if (ActivationFunction is not ("gelu" or "relu" or "silu")) Fail($"activation_function '{ActivationFunction}' is not supported");
        if (NormalizationLayer is not ("instance_norm" or "none")) Fail($"normalization_layer '{NormalizationLayer}' is not supported (instance_norm or none)");
        if (PosEmbed is not ("none" or "None" or "direct" or "frequency")) Fail($"pos_embed '{PosEmbed}' is not supported");
        if (EncoderLayers != 1) Fail($"encoder_layers {EncoderLayers} is not supported (only 1)");
        if (Separable) Fail("separable filters are not supported");
        if (Bias) Fail("spectral bias is not supported");
        if (RepeatLayers != 1) Fail($"repeat_layers {RepeatLayers} is not supported (only 1)");
        if (NHistory != 0) Fail($"n_history {NHistory} is not supported (only 0)");
        if (ScaleFactor < 1 || ImgShapeX < 2 || ImgShapeY < 2 || H < 2 || W < 2) Fail($"grid {ImgShapeX}x{ImgShapeY} with scale_factor {ScaleFactor} is too small");
        if (EmbedDim < 1 || NumLayers < 1 || NInChannels < 1 || NOutChannels < 1) Fail("embed_dim, num_layers and channel counts must be positive");
        if (HardThresholdingFraction <= 0 || HardThresholdingFraction > 1) Fail($"hard_thresholding_fraction {HardThresholdingFraction} must be in (0, 1]");
        foreach (var g in new[] { ModelGridType, ShtGridType })
            if (g is not ("equiangular" or "legendre-gauss" or "lobatto")) Fail($"grid type '{g}' is not supported");
        if (ChannelNames.Count > 0)
        {
            if (InChannels is { } ic && ic.Any(i => i < 0 || i >= ChannelNames.Count)) Fail("in_channels index outside channel_names");
            if (OutChannels is { } oc && oc.Any(i => i < 0 || i >= ChannelNames.Count)) Fail("out_channels index outside channel_names");
            if (InChannels is { } ic2 && ic2.Count != NInChannels) Fail($"in_channels has {ic2.Count} entries, N_in_channels is {NInChannels}");
            if (OutChannels is { } oc2 && oc2.Count != NOutChannels) Fail($"out_channels has {oc2.Count} entries, N_out_channels is {NOutChannels}");
        }
    }

    /// <summary>The HENS configuration (reference §9.4): 74 channels, 721×1440, E 620, 8 layers, scale 2, 110 inputs.</summary>
    public static SfnoConfig Hens() => new()
    {
        ImgShapeX = 721, ImgShapeY = 1440, ScaleFactor = 2, EmbedDim = 620, NumLayers = 8,
        NInChannels = 74, NOutChannels = 74, AddZenith = true, AddGrid = true, GridNumFrequencies = 16,
        AddOrography = true, AddLandmask = true,
    };
}
