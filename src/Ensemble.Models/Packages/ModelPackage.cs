using System.Text.Json;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Data.Datasets;
using Ensemble.Data.Npy;
using Ensemble.Models.Checkpoints;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Packages;

/// <summary>
/// A makani model package directory (reference §9.1): config.json, global_means.npy / global_stds.npy (1, C, 1, 1)
/// (or mins.npy / maxs.npy for "minmax"), metadata.json and training_checkpoints/best_ckpt_mp0.tar.
/// </summary>
public sealed class ModelPackage : IDisposable
{
    public const string CheckpointPath = "training_checkpoints/best_ckpt_mp0.tar";

    ModelPackage(string directory, SfnoConfig config, SphericalFourierNeuralOperatorNet model, ChannelNormalization stats)
    {
        Directory = directory; Config = config; Model = model; Statistics = stats;
    }

    public string Directory { get; }
    public SfnoConfig Config { get; }
    public SphericalFourierNeuralOperatorNet Model { get; }

    /// <summary>Centre and scale per entry of <c>channel_names</c> (z-score: mean/std; minmax: (max+min)/2, (max−min)/2).</summary>
    public ChannelNormalization Statistics { get; }

    /// <summary>Loads config, statistics and weights; the model is built on <paramref name="device"/> in eval mode.</summary>
    public static ModelPackage Load(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (!System.IO.Directory.Exists(directory)) throw new EnsembleException($"{directory}: model package directory not found");
        var config = SfnoConfig.Load(Path.Combine(directory, "config.json"));
        if (config.ChannelNames.Count == 0) throw new EnsembleException($"{Path.Combine(directory, "config.json")}: channel_names is missing");
        string meta = Path.Combine(directory, "metadata.json");
        if (File.Exists(meta))
        {
            try { JsonNode.Parse(File.ReadAllText(meta)); }
            catch (JsonException e) { throw new EnsembleException($"{meta}: invalid JSON ({e.Message})"); }
        }
        var stats = ReadStatistics(directory, config);
        var model = new SphericalFourierNeuralOperatorNet(config, dtype);
        try
        {
            string ckpt = Path.Combine(directory, CheckpointPath);
            var state = MakaniCheckpoint.ReadModelState(ckpt);
            try { model.LoadStateDict(state, ckpt); }
            finally { foreach (var t in state.Values) t.Dispose(); }
            if (device != null && device.type != DeviceType.CPU) model.to(device);
            model.eval();
            return new ModelPackage(directory, config, model, stats);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static ChannelNormalization ReadStatistics(string dir, SfnoConfig c)
    {
        int n = c.ChannelNames.Count;
        double[] Read(string name)
        {
            string p = Path.Combine(dir, name);
            var a = NpyFile.Read(p);
            if (a.ElementCount != n || a.Shape.Length != 4 || a.Shape[1] != n)
                throw new EnsembleException($"{p}: shape ({string.Join(", ", a.Shape)}), expected (1, {n}, 1, 1) for {n} channel_names");
            var v = a.ToDoubles();
            if (v.Any(x => !double.IsFinite(x))) throw new EnsembleException($"{p}: contains NaN or infinite values");
            return v;
        }
        double[] centre, scale;
        switch (c.Normalization)
        {
            case "zscore":
                centre = Read("global_means.npy");
                scale = Read("global_stds.npy");
                break;
            case "minmax":
            {
                var min = Read("mins.npy");
                var max = Read("maxs.npy");
                centre = min.Zip(max, (a, b) => (a + b) / 2).ToArray();
                scale = min.Zip(max, (a, b) => (b - a) / 2).ToArray();
                break;
            }
            default: throw new EnsembleException($"{Path.Combine(dir, "config.json")}: normalization '{c.Normalization}' is not supported (zscore or minmax)");
        }
        if (scale.Any(s => s <= 0)) throw new EnsembleException($"{dir}: a channel has a non-positive normalisation scale");
        return new ChannelNormalization(c.ChannelNames.ToArray(), centre, scale);
    }

    /// <summary>
    /// Writes a makani-layout package (config.json, global_means/stds.npy, metadata.json, best_ckpt_mp0.tar with
    /// <c>module.model.</c> keys and only allowlisted pickle globals) so Python tools can read what we train.
    /// </summary>
    public static void Export(string directory, SphericalFourierNeuralOperatorNet model, ChannelNormalization stats, long epoch = 0, long iters = 0)
    {
        var c = model.Config;
        if (c.ChannelNames.Count == 0 || !stats.Channels.SequenceEqual(c.ChannelNames))
            throw new EnsembleException($"{directory}: normalisation channels do not match the config's channel_names");
        if (c.Normalization != "zscore") throw new EnsembleException($"{directory}: export writes z-score statistics; config says '{c.Normalization}'");
        System.IO.Directory.CreateDirectory(Path.Combine(directory, "training_checkpoints"));
        AtomicFile.WriteAllText(Path.Combine(directory, "config.json"), c.ToJson());
        int n = c.ChannelNames.Count;
        NpyFile.Write(Path.Combine(directory, "global_means.npy"), NpyArray.FromFloats(stats.Means.Select(x => (float)x).ToArray(), 1, n, 1, 1));
        NpyFile.Write(Path.Combine(directory, "global_stds.npy"), NpyArray.FromFloats(stats.Stds.Select(x => (float)x).ToArray(), 1, n, 1, 1));
        var meta = new JsonObject
        {
            ["entrypoint"] = new JsonObject { ["name"] = "networks.model_package:load_time_loop" },
            ["architecture"] = "SFNO",
            ["grid"] = $"{c.ImgShapeX}x{c.ImgShapeY}",
            ["in_channels_names"] = new JsonArray(c.InChannelNames.Select(s => (JsonNode)s!).ToArray()),
            ["out_channels_names"] = new JsonArray(c.OutChannelNames.Select(s => (JsonNode)s!).ToArray()),
            ["time_step"] = c.DHours * c.Dt * 3600,
            ["time_step_hours"] = c.DHours * c.Dt,
            ["exported_by"] = "Ensemble",
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "metadata.json"), meta.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var state = model.state_dict().Select(kv => new KeyValuePair<string, Tensor>("module.model." + kv.Key, kv.Value)).ToList();
        TorchCheckpoint.WriteStateDict(Path.Combine(directory, CheckpointPath), state, iters, epoch);
    }

    public void Dispose() => Model.Dispose();
}
