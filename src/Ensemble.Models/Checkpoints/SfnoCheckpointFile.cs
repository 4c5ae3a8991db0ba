using System.Text.Json;
using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Checkpoints;

/// <summary>What our own checkpoints carry beside the weights (the JSON sidecar).</summary>
public sealed record SfnoCheckpointInfo
{
    public required SfnoConfig Config { get; init; }
    public required IReadOnlyList<string> ChannelNames { get; init; }
    public required double[] Means { get; init; }
    public required double[] Stds { get; init; }
    public long TrainingSeed { get; init; }
    public DateTime? DataStart { get; init; }
    public DateTime? DataEnd { get; init; }
    public Dictionary<string, double> Metrics { get; init; } = [];

    public ChannelNormalization Normalization => new(ChannelNames.ToArray(), Means, Stds);
}

/// <summary>
/// Our checkpoint format: TorchSharp's native state-dict file (<c>name.dat</c>, <c>module.save</c>) and a JSON
/// sidecar (<c>name.json</c>) with the config, channel names, normalisation, seed, data span and metrics.
/// </summary>
public static class SfnoCheckpointFile
{
    static readonly JsonSerializerOptions Options = new() { WriteIndented = true };

    public static string SidecarPath(string datPath) => Path.ChangeExtension(datPath, ".json");

    public static void Save(string datPath, SphericalFourierNeuralOperatorNet model, SfnoCheckpointInfo info)
    {
        if (!ReferenceEquals(info.Config, model.Config) && info.Config.ToJson() != model.Config.ToJson())
            throw new EnsembleException($"{datPath}: sidecar config differs from the model's config");
        if (info.Means.Length != info.ChannelNames.Count || info.Stds.Length != info.ChannelNames.Count)
            throw new EnsembleException($"{datPath}: normalisation has {info.Means.Length}/{info.Stds.Length} values for {info.ChannelNames.Count} channels");
        AtomicFile.Write(datPath, s => { using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true); model.save(w); });
        AtomicFile.WriteAllText(SidecarPath(datPath), JsonSerializer.Serialize(info, Options));
    }

    public static SfnoCheckpointInfo ReadInfo(string datPath)
    {
        string side = SidecarPath(datPath);
        if (!File.Exists(side)) throw new EnsembleException($"{side}: checkpoint sidecar not found");
        SfnoCheckpointInfo? info;
        try { info = JsonSerializer.Deserialize<SfnoCheckpointInfo>(File.ReadAllText(side), Options); }
        catch (JsonException e) { throw new EnsembleException($"{side}: invalid checkpoint sidecar ({e.Message})"); }
        if (info is null) throw new EnsembleException($"{side}: empty checkpoint sidecar");
        info.Config.Validate(side);
        return info;
    }

    /// <summary>Builds the model from the sidecar's config and loads the weights (strict: names and shapes must match).</summary>
    public static (SphericalFourierNeuralOperatorNet Model, SfnoCheckpointInfo Info) Load(string datPath, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var info = ReadInfo(datPath);
        if (!File.Exists(datPath)) throw new EnsembleException($"{datPath}: file not found");
        var model = new SphericalFourierNeuralOperatorNet(info.Config, dtype);
        try
        {
            using (var r = new BinaryReader(File.OpenRead(datPath))) model.load(r, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or EndOfStreamException or IOException)
        {
            model.Dispose();
            throw new EnsembleException($"{datPath}: weights do not match the sidecar config ({e.Message})");
        }
        if (device != null && device.type != DeviceType.CPU) model.to(device);
        model.eval();
        return (model, info);
    }
}
