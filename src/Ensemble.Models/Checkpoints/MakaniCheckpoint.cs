using Ensemble.Core;
using Ensemble.Models.Checkpoints.Pickle;
using static TorchSharp.torch;

namespace Ensemble.Models.Checkpoints;

/// <summary>The model weights of a makani <c>best_ckpt_mp0.tar</c> (or of a plain torch.save'd state dict).</summary>
public static class MakaniCheckpoint
{
    /// <summary>
    /// Reads <c>model_state</c> (keys as stored, e.g. <c>module.model.encoder.fwd.0.weight</c>). The <c>params</c>
    /// entry, if present, is parsed into inert placeholders only and ignored.
    /// </summary>
    public static Dictionary<string, Tensor> ReadModelState(string path)
    {
        var root = TorchCheckpoint.Read(path);
        PyDict state = root switch
        {
            PyDict d when d.TryGet("model_state", out var ms) => ms as PyDict
                ?? throw new EnsembleException($"{path}: 'model_state' is not a dictionary"),
            PyDict d when d.TryGet("state_dict", out var sd) => sd as PyDict
                ?? throw new EnsembleException($"{path}: 'state_dict' is not a dictionary"),
            PyDict d when d.Items.All(kv => kv.Value is Tensor) => d,
            _ => throw new EnsembleException($"{path}: no 'model_state' dictionary in the checkpoint"),
        };
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in state.Items)
        {
            if (k is not string key) throw new EnsembleException($"{path}: model_state has a non-string key");
            if (v is not Tensor t) throw new EnsembleException($"{path}: model_state['{key}'] is not a tensor");
            result[key] = t;
        }
        if (result.Count == 0) throw new EnsembleException($"{path}: model_state is empty");
        return result;
    }
}
