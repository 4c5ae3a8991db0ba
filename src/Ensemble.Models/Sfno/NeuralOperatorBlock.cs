using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// One SFNO block (makani v0.1.0 FourierNeuralOperatorBlock with inner_skip none, outer_skip linear):
/// filter → norm0 → act → MLP → norm1 → + outer_skip(residual).
/// </summary>
public sealed class NeuralOperatorBlock : nn.Module<Tensor, Tensor>
{
    // Plain holder: TorchSharp registers Module-typed fields by name; registration below uses makani's names.
    sealed class Parts
    {
        public InstanceNorm2d? Norm0, Norm1;
        public required SpectralFilterLayer Filter;
        public required Conv2d OuterSkip;
        public SfnoMlp? Mlp;
    }
    readonly Parts _p;
    readonly string _activation;
    readonly SfnoPrecision _precision;

    public NeuralOperatorBlock(SpectralConv conv, SfnoConfig c, SfnoPrecision precision, ScalarType dtype) : base(nameof(NeuralOperatorBlock))
    {
        _precision = precision;
        _activation = c.ActivationFunction;
        // Registration order = makani's attribute order = state_dict key order.
        bool norm = c.NormalizationLayer == "instance_norm";
        _p = new Parts
        {
            Norm0 = norm ? nn.InstanceNorm2d(c.EmbedDim, eps: 1e-6, affine: true, track_running_stats: false, dtype: dtype) : null,
            Filter = new SpectralFilterLayer(conv),
            Norm1 = norm ? nn.InstanceNorm2d(c.EmbedDim, eps: 1e-6, affine: true, track_running_stats: false, dtype: dtype) : null,
            OuterSkip = nn.Conv2d(c.EmbedDim, c.EmbedDim, 1, bias: false, dtype: dtype),
            Mlp = c.UseMlp ? new SfnoMlp(c.EmbedDim, c.MlpHidden, c.ActivationFunction, precision, dtype) : null,
        };
        if (_p.Norm0 != null) register_module("norm0", _p.Norm0);
        register_module("filter", _p.Filter);
        if (_p.Norm1 != null) register_module("norm1", _p.Norm1);
        register_module("outer_skip", _p.OuterSkip);
        if (_p.Mlp != null) register_module("mlp", _p.Mlp);
    }

    public SpectralFilterLayer Filter => _p.Filter;
    public InstanceNorm2d? Norm0 => _p.Norm0;
    public InstanceNorm2d? Norm1 => _p.Norm1;
    public Conv2d OuterSkip => _p.OuterSkip;
    public SfnoMlp? Mlp => _p.Mlp;

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <summary>The block; <paramref name="filterTap"/> (if given) sees the spectral filter's output.</summary>
    public Tensor Forward(Tensor x, Action<Tensor>? filterTap)
    {
        using var scope = torch.NewDisposeScope();
        var (z, residual) = _p.Filter.forward(x);
        filterTap?.Invoke(z);
        if (PointwiseFusion.Applies(z, _precision, Math.Max(z.shape[1], _p.Mlp?.Fc1.weight!.shape[0] ?? 0)) && residual.dtype == z.dtype)
            return PointwiseFusion.BlockRest(z, residual, _p.Norm0, _p.Norm1, _activation, _p.Mlp, _p.OuterSkip).MoveToOuterDisposeScope();
        z = _precision.Norm(_p.Norm0, z);
        z = _precision.Activation(_activation, z, owned: _p.Norm0 is not null);
        if (_p.Mlp != null) z = _p.Mlp.forward(z);
        z = _precision.Norm(_p.Norm1, z);
        var y = z + _precision.Conv(_p.OuterSkip, residual);
        return y.MoveToOuterDisposeScope();
    }
}
