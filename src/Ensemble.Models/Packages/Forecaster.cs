using Ensemble.Core;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Packages;

/// <summary>
/// The autoregressive step of a packaged SFNO (reference §8.4): normalise (float64) → [zenith, static channels]
/// → network (inference mode) → denormalise. Inputs and outputs are physical [B, C, nlat, nlon] tensors in the
/// package's in/out channel order; B is any number of members batched together.
/// </summary>
public sealed class Forecaster
{
    readonly ModelPackage _package;
    readonly Tensor? _static;          // [1, S, H, W] grid/orography/land-mask features, model dtype
    readonly double[] _inCentre, _inScale, _outCentre, _outScale;

    /// <param name="computeDType">float32 (default) / float64 matching the parameters, or bfloat16/float16 on CUDA.</param>
    /// <param name="orography">Raw orography field [H, W] when the config has add_orography.</param>
    /// <param name="landMask">Raw land–sea mask [H, W] when the config has add_landmask.</param>
    public Forecaster(ModelPackage package, ScalarType? computeDType = null, Tensor? orography = null, Tensor? landMask = null)
    {
        _package = package;
        var c = package.Config;
        if (computeDType is { } cd) package.Model.ComputeDType = cd;
        var stats = package.Statistics;
        var inIdx = c.InChannels ?? Enumerable.Range(0, c.NInChannels).ToList();
        var outIdx = c.OutChannels ?? Enumerable.Range(0, c.NOutChannels).ToList();
        _inCentre = inIdx.Select(i => stats.Means[i]).ToArray();
        _inScale = inIdx.Select(i => stats.Stds[i]).ToArray();
        _outCentre = outIdx.Select(i => stats.Means[i]).ToArray();
        _outScale = outIdx.Select(i => stats.Stds[i]).ToArray();
        _static = StaticFeatures.Build(c, orography, landMask, package.Model.Precision.ParamDType, DeviceOf(package.Model));
    }

    public SfnoConfig Config => _package.Config;

    /// <summary>
    /// True (default): NaN/Inf in an input or output is an error. False: members are stepped as they are and the
    /// caller checks each one (the ensemble runner flags and excludes blown-up members instead of stopping the batch).
    /// </summary>
    public bool RejectNonFinite { get; set; } = true;

    /// <summary>Centre and scale per input channel (physical units), for blow-up checks in normalised units.</summary>
    public (IReadOnlyList<double> Centre, IReadOnlyList<double> Scale) InputNormalisation => (_inCentre, _inScale);
    public TimeSpan TimeStep => TimeSpan.FromHours(Config.DHours * Config.Dt);

    static Device DeviceOf(SphericalFourierNeuralOperatorNet m) => m.parameters().First().device;

    /// <summary>One step: x_phys valid at <paramref name="validTime"/> → state valid one time step later (float64 on the model's device).</summary>
    public Tensor Step(Tensor xPhys, DateTime? validTime = null)
    {
        var c = Config;
        Validate(xPhys);
        if (c.AddZenith && validTime is null) throw new EnsembleException("this model needs the valid time of the input (add_zenith is set)");
        var device = DeviceOf(_package.Model);
        var paramType = _package.Model.Precision.ParamDType;
        using var inference = torch.inference_mode();
        using var scope = torch.NewDisposeScope();
        var x64 = xPhys.to(ScalarType.Float64, device);
        var centre = torch.tensor(_inCentre, dtype: ScalarType.Float64, device: device).reshape(1, -1, 1, 1);
        var scale = torch.tensor(_inScale, dtype: ScalarType.Float64, device: device).reshape(1, -1, 1, 1);
        var parts = new List<Tensor> { ((x64 - centre) / scale).to(paramType) };
        long b = xPhys.shape[0];
        if (c.AddZenith)
        {
            var cz = torch.tensor(SolarZenith.CosZenith(validTime!.Value, c.ImgShapeX, c.ImgShapeY), dtype: ScalarType.Float32, device: device)
                .reshape(1, 1, c.ImgShapeX, c.ImgShapeY).to(paramType);
            parts.Add(cz.expand(b, 1, c.ImgShapeX, c.ImgShapeY));
        }
        if (_static is not null) parts.Add(_static.expand(b, -1, -1, -1));
        var inp = parts.Count == 1 ? parts[0] : torch.cat(parts.ToArray(), 1);
        var yn = _package.Model.forward(inp).to(ScalarType.Float64);
        var oc = torch.tensor(_outCentre, dtype: ScalarType.Float64, device: device).reshape(1, -1, 1, 1);
        var os = torch.tensor(_outScale, dtype: ScalarType.Float64, device: device).reshape(1, -1, 1, 1);
        var y = yn.mul(os).add(oc, Scalars.One);                     // not *, +: see Ensemble.Core.Scalars
        if (RejectNonFinite && !torch.isfinite(y).all().item<bool>()) throw new EnsembleException("the model produced NaN or infinite values");
        return y.clone().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The initial state (lead 0) followed by <paramref name="steps"/> autoregressive states, each one time step
    /// apart (as earth2studio yields them). Needs identical in/out channels. Callers own (and dispose) the tensors.
    /// </summary>
    public IEnumerable<Tensor> Rollout(Tensor x, int steps, DateTime? start = null)
    {
        if (steps < 0) throw new EnsembleException($"rollout steps must be ≥ 0, not {steps}");
        if (!Config.InChannelNames.SequenceEqual(Config.OutChannelNames))
            throw new EnsembleException($"this package maps {Config.NInChannels} input to {Config.NOutChannels} output channels; an autoregressive rollout needs identical channels");
        Validate(x);
        var state = x.to(ScalarType.Float64).clone();
        yield return state;
        var t = start;
        for (int s = 0; s < steps; s++)
        {
            state = Step(state, t);
            t = t + TimeStep;
            yield return state;
        }
    }

    void Validate(Tensor x)
    {
        var c = Config;
        if (x.dim() != 4) throw new EnsembleException($"input must be [batch, channel, lat, lon], got shape [{string.Join(", ", x.shape)}]");
        if (x.shape[1] != c.NInChannels)
            throw new EnsembleException($"input has {x.shape[1]} channels, the model needs {c.NInChannels} ({string.Join(" ", c.InChannelNames)})");
        if (x.shape[2] != c.ImgShapeX || x.shape[3] != c.ImgShapeY)
            throw new EnsembleException($"input grid {x.shape[2]}x{x.shape[3]} does not match the model grid {c.ImgShapeX}x{c.ImgShapeY}");
        if (!x.is_floating_point()) throw new EnsembleException($"input must be floating point, not {x.dtype}");
        if (!RejectNonFinite) return;
        using var finite = torch.isfinite(x).all();
        if (!finite.item<bool>()) throw new EnsembleException("input contains NaN or infinite values");
    }
}
