using Ensemble.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Ensemble.Models.Sfno;

/// <summary>
/// Precision policy shared by the layers: parameters live in <see cref="ParamDType"/> (float32 or float64);
/// convolutions, activations and norms run in <see cref="ComputeDType"/> (bf16/fp16 only on CUDA, like makani's
/// autocast); spherical transforms and the spectral contraction always run in the parameter dtype.
/// </summary>
public sealed class SfnoPrecision
{
    public SfnoPrecision(ScalarType paramDType, ScalarType computeDType)
    {
        ParamDType = paramDType;
        ComputeDType = computeDType;
    }

    public ScalarType ParamDType { get; }
    public ScalarType ComputeDType { get; set; }

    /// <summary>A 1×1 convolution in the compute dtype (weights cast per call, as autocast does).</summary>
    public Tensor Conv(Conv2d conv, Tensor x)
    {
        if (x.dtype == conv.weight!.dtype) return conv.forward(x);
        using var w = conv.weight.to(x.dtype);
        using var b = conv.bias?.to(x.dtype);
        return F.conv2d(x, w, b);
    }

    /// <summary>The activation; in place on <paramref name="x"/> when no gradient is recorded and <paramref name="owned"/>.</summary>
    public Tensor Activation(string name, Tensor x, bool owned)
    {
        if (!owned || torch.is_grad_enabled()) return Activation(name, x);
        switch (name)
        {
            case "gelu": x.gelu_(); break;
            case "relu": x.relu_(); break;
            case "silu": x.silu_(); break;
            default: throw new EnsembleException($"activation '{name}' is not supported");
        }
        return x.alias();
    }

    public Tensor Activation(string name, Tensor x) => name switch
    {
        "gelu" => F.gelu(x),
        "relu" => F.relu(x),
        "silu" => F.silu(x),
        _ => throw new EnsembleException($"activation '{name}' is not supported"),
    };

    /// <summary>InstanceNorm2d in the parameter dtype (statistics in full precision), result in the input dtype.</summary>
    public Tensor Norm(InstanceNorm2d? norm, Tensor x)
    {
        if (norm is null) return x.alias();
        if (x.dtype == ParamDType) return norm.forward(x);
        using var xp = x.to(ParamDType);
        using var y = norm.forward(xp);
        return y.to(x.dtype);
    }
}

/// <summary>makani EncoderDecoder with one hidden layer: <c>fwd = [Conv1x1(bias), act, Conv1x1(no bias)]</c> → keys fwd.0, fwd.2.</summary>
public sealed class EncoderDecoder : nn.Module<Tensor, Tensor>
{
    // Plain holder: TorchSharp registers Module-typed fields by name, and only makani's names may be registered.
    sealed class Parts { public required Conv2d Fc0, Fc2; }
    readonly Parts _p;
    readonly string _activation;
    readonly SfnoPrecision _precision;

    public EncoderDecoder(int input, int hidden, int output, string activation, SfnoPrecision precision, ScalarType dtype)
        : base(nameof(EncoderDecoder))
    {
        _p = new Parts { Fc0 = nn.Conv2d(input, hidden, 1, bias: true, dtype: dtype), Fc2 = nn.Conv2d(hidden, output, 1, bias: false, dtype: dtype) };
        _activation = activation;
        _precision = precision;
        var fwd = nn.Sequential(("0", _p.Fc0), ("1", nn.Identity()), ("2", _p.Fc2));
        register_module("fwd", fwd);
    }

    public Conv2d First => _p.Fc0;
    public Conv2d Last => _p.Fc2;

    public override Tensor forward(Tensor x) => Forward(x, null, null);

    /// <summary>last(act(first(x))) + skip(skipInput) (the network's residual_transform, when given).</summary>
    public Tensor Forward(Tensor x, Conv2d? skip, Tensor? skipInput)
    {
        if (PointwiseFusion.Applies(x, _precision, Math.Max(_p.Fc0.weight!.shape[0], _p.Fc2.weight!.shape[0])) && (skipInput is null || skipInput.dtype == x.dtype))
            return PointwiseFusion.EncoderDecoder(x, _p.Fc0, _p.Fc2, _activation, skip, skipInput);
        var y = Plain(x);
        if (skip is null || skipInput is null) return y;
        using (y)
        using (var s = _precision.Conv(skip, skipInput))
            return y + s;
    }

    Tensor Plain(Tensor x)
    {
        using var h = _precision.Conv(_p.Fc0, x);
        using var a = _precision.Activation(_activation, h, owned: true);
        return _precision.Conv(_p.Fc2, a);
    }
}

/// <summary>makani MLP: <c>fwd = [fc1(bias), act, drop, fc2(bias), drop]</c> → keys fwd.0, fwd.3 (dropout rate 0: identities).</summary>
public sealed class SfnoMlp : nn.Module<Tensor, Tensor>
{
    sealed class Parts { public required Conv2d Fc1, Fc2; }
    readonly Parts _p;
    readonly string _activation;
    readonly SfnoPrecision _precision;

    public SfnoMlp(int features, int hidden, string activation, SfnoPrecision precision, ScalarType dtype) : base(nameof(SfnoMlp))
    {
        _p = new Parts { Fc1 = nn.Conv2d(features, hidden, 1, bias: true, dtype: dtype), Fc2 = nn.Conv2d(hidden, features, 1, bias: true, dtype: dtype) };
        _activation = activation;
        _precision = precision;
        register_module("fwd", nn.Sequential(("0", _p.Fc1), ("1", nn.Identity()), ("2", nn.Identity()), ("3", _p.Fc2), ("4", nn.Identity())));
    }

    public Conv2d Fc1 => _p.Fc1;
    public Conv2d Fc2 => _p.Fc2;

    public override Tensor forward(Tensor x)
    {
        using var h = _precision.Conv(_p.Fc1, x);
        using var a = _precision.Activation(_activation, h, owned: true);
        return _precision.Conv(_p.Fc2, a);
    }
}
