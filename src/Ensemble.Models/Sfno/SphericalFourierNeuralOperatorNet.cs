using Ensemble.Core;
using Ensemble.Spherical;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// The makani v0.1.0 SFNO (reference §7): encoder → [pos_embed] → L spectral blocks (block 0 maps the input grid
/// onto the internal Gauss grid, the last block maps back) → decoder → + residual_transform(input).
/// State-dict keys and shapes equal makani's; the four spherical transforms are submodules whose tables are
/// non-persistent buffers, so they never appear in a state dict.
/// </summary>
public sealed class SphericalFourierNeuralOperatorNet : nn.Module<Tensor, Tensor>
{
    // Plain holder: TorchSharp registers Module/Parameter-typed fields by name; registration below uses makani's names.
    sealed class Parts
    {
        public required EncoderDecoder Encoder, Decoder;
        public required List<NeuralOperatorBlock> Blocks;
        public Conv2d? ResidualTransform;
        public Parameter? PosEmbedDirect;
        public FrequencyPositionEmbedding? PosEmbedFrequency;
        public required InverseRealSHT ItransUp;
    }
    readonly Parts _p;

    /// <param name="config">The makani config (validated here).</param>
    /// <param name="dtype">Parameter dtype: float32 (default, as published) or float64.</param>
    /// <param name="device">Where to place the model (default CPU).</param>
    /// <param name="seed">Seed of the §7.5 initialisation (only matters when no checkpoint is loaded afterwards).</param>
    public SphericalFourierNeuralOperatorNet(SfnoConfig config, ScalarType dtype = ScalarType.Float32, Device? device = null, long seed = 0)
        : base(nameof(SphericalFourierNeuralOperatorNet))
    {
        config.Validate();
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new EnsembleException($"SFNO parameters must be float32 or float64, not {dtype} (use the compute dtype for bf16/fp16)");
        Config = config;
        Precision = new SfnoPrecision(dtype, dtype);
        int lmax = config.ModesLat, mmax = config.ModesLon;
        var modelGrid = GridTypes.Parse(config.ModelGridType);
        var shtGrid = GridTypes.Parse(config.ShtGridType);
        int nlat = config.ImgShapeX, nlon = config.ImgShapeY;

        // Tables are built in float64 by the transforms and cast to the parameter dtype (§7.2).
        var transDown = new RealSHT(nlat, nlon, lmax, mmax, modelGrid, SphericalNorm.Ortho, csphase: true, dtype);
        var itransUp = new InverseRealSHT(nlat, nlon, lmax, mmax, modelGrid, SphericalNorm.Ortho, csphase: true, dtype);
        register_module("trans_down", transDown);
        register_module("itrans_up", itransUp);
        RealSHT? trans = null;
        InverseRealSHT? itrans = null;
        if (config.NumLayers > 1)
        {
            trans = new RealSHT(config.H, config.W, lmax, mmax, shtGrid, SphericalNorm.Ortho, csphase: true, dtype);
            itrans = new InverseRealSHT(config.H, config.W, lmax, mmax, shtGrid, SphericalNorm.Ortho, csphase: true, dtype);
            register_module("trans", trans);
            register_module("itrans", itrans);
        }

        int cin = config.ModelInputChannels, cout = config.NOutChannels, e = config.EmbedDim;
        var blocks = new List<NeuralOperatorBlock>();
        for (int i = 0; i < config.NumLayers; i++)
        {
            RealSHT fwd = i == 0 ? transDown : trans!;
            InverseRealSHT inv = i == config.NumLayers - 1 ? itransUp : itrans!;
            blocks.Add(new NeuralOperatorBlock(new SpectralConv(fwd, inv, e, config.OperatorType, dtype), config, Precision, dtype));
        }
        _p = new Parts
        {
            Encoder = new EncoderDecoder(cin, config.EncoderHidden, e, config.ActivationFunction, Precision, dtype),
            Blocks = blocks,
            Decoder = new EncoderDecoder(e, config.DecoderHidden, cout, config.ActivationFunction, Precision, dtype),
            ResidualTransform = config.BigSkip ? nn.Conv2d(cin, cout, 1, bias: false, dtype: dtype) : null,
            PosEmbedDirect = config.PosEmbed == "direct" ? new Parameter(torch.zeros([1, e, nlat, nlon], dtype: dtype)) : null,
            PosEmbedFrequency = config.PosEmbed == "frequency" ? new FrequencyPositionEmbedding(e, lmax, mmax, dtype) : null,
            ItransUp = itransUp,
        };
        register_module("encoder", _p.Encoder);
        register_module("blocks", new ModuleList<NeuralOperatorBlock>(blocks.ToArray()));
        register_module("decoder", _p.Decoder);
        if (_p.ResidualTransform != null) register_module("residual_transform", _p.ResidualTransform);
        if (_p.PosEmbedDirect is { } pos) register_parameter("pos_embed", pos);
        if (_p.PosEmbedFrequency != null) register_module("pos_embed", _p.PosEmbedFrequency);

        SfnoInitialisation.Apply(this, seed);
        if (device != null && device.type != DeviceType.CPU) this.to(device);
    }

    public SfnoConfig Config { get; }

    /// <summary>Parameter and compute dtypes; set <see cref="ComputeDType"/> for mixed precision.</summary>
    public SfnoPrecision Precision { get; }

    public EncoderDecoder Encoder => _p.Encoder;
    public EncoderDecoder Decoder => _p.Decoder;
    public IReadOnlyList<NeuralOperatorBlock> Blocks => _p.Blocks;
    public Conv2d? ResidualTransform => _p.ResidualTransform;
    public Parameter? PosEmbedDirect => _p.PosEmbedDirect;
    public FrequencyPositionEmbedding? PosEmbedFrequency => _p.PosEmbedFrequency;

    /// <summary>
    /// The dtype activations run in: the parameter dtype, or bfloat16/float16 on CUDA (autocast-like; transforms,
    /// spectral contraction and norms stay in the parameter dtype). CPU accepts only float32/float64.
    /// </summary>
    public ScalarType ComputeDType
    {
        get => Precision.ComputeDType;
        set
        {
            bool onCuda = parameters().First().device_type == DeviceType.CUDA;
            if (value is ScalarType.BFloat16 or ScalarType.Float16)
            {
                if (!onCuda) throw new EnsembleException($"mixed precision {value} needs a CUDA device; on CPU use float32 or float64");
                if (Precision.ParamDType != ScalarType.Float32) throw new EnsembleException("mixed precision needs float32 parameters");
            }
            else if (value != Precision.ParamDType)
                throw new EnsembleException($"compute dtype {value} differs from the parameter dtype {Precision.ParamDType}; load the model in that dtype instead");
            Precision.ComputeDType = value;
        }
    }

    public override Tensor forward(Tensor x) => Forward(x, null);

    /// <summary>
    /// The network; <paramref name="tap"/> (if given) receives the named intermediate activations
    /// "encoder", "block{i}_filter", "block{i}", "decoder" (borrowed and disposed with the call: to keep one,
    /// <c>clone().DetachFromDisposeScope()</c> it).
    /// </summary>
    public Tensor Forward(Tensor x, Action<string, Tensor>? tap)
    {
        CheckInput(x);
        int workers = tap is null ? SfnoWorkers.For(x) : 1;
        if (workers <= 1) return ForwardChunks(x, tap);
        // One member with tiny fields (the test and smoke models): handing out its pieces costs more than it saves, so
        // the caller runs the one-thread path alone. From (b)'s size up it pays (measured with `-- sfno --batch1`).
        bool share = x.shape[0] > 1 || MemberActivationBytes() >= ShareBytes;
        using var section = SfnoWorkers.Enter(workers, share ? workers : 1);
        return ForwardOnWorkers(x, workers);
    }

    /// <summary>At batch 1 the member's forward is shared among the workers when its widest activation has this many bytes.</summary>
    public const long ShareBytes = 1L << 20;

    /// <summary>Bytes of one member's widest activation on the full grid.</summary>
    long MemberActivationBytes()
    {
        long widest = new[] { Config.EmbedDim, Config.MlpHidden, Config.EncoderHidden, Config.DecoderHidden }.Max();
        return widest * Config.ImgShapeX * Config.ImgShapeY * (Precision.ParamDType == ScalarType.Float64 ? 8 : 4);
    }

    /// <summary>
    /// Inference on CPU with W ≥ 2 workers (<see cref="SfnoWorkers"/>): at batch ≥ 2 one member's one-thread forward per
    /// piece; at batch 1 the layers hand out the pieces of the member's forward themselves. Either way a member's result
    /// is its one-thread forward bit for bit.
    /// </summary>
    Tensor ForwardOnWorkers(Tensor x, int workers)
    {
        long batch = x.shape[0];
        if (batch == 1) return ForwardChunks(x, null);
        var outputs = new Tensor?[batch];
        try
        {
            // One member per piece: a member's result is then the one-thread forward of that member alone, whatever the
            // batch (batch-size-dependent kernels made members forwarded together round differently).
            // The dhconv weights in the native forward's degree-major layout once for all members (else each gathers them).
            using var prepared = NativeForward.AppliesTo(this) ? NativeForward.Prepare(this) : null;
            SfnoWorkers.ForEach((int)batch, null, m => outputs[m] = ForwardBatch(x.narrow(0, m, 1), null, prepared).DetachFromDisposeScope());
            return torch.cat(outputs!, 0);
        }
        finally
        {
            foreach (var t in outputs) t?.Dispose();
        }
    }

    Tensor ForwardChunks(Tensor x, Action<string, Tensor>? tap)
    {
        long batch = x.shape[0];
        long chunk = tap is null ? ChunkFor(x) : batch;
        if (batch <= chunk) return ForwardBatch(x, tap);
        // Cache blocking over members: on CPU a whole batch of full-grid activations streams from memory at every
        // pointwise layer, while one member's stays cache-resident (measured: docs/benchmarks.md, SFNO inference).
        using var scope = torch.NewDisposeScope();
        var parts = new List<Tensor>();
        for (long s = 0; s < batch; s += chunk)
            parts.Add(ForwardBatch(x.narrow(0, s, Math.Min(chunk, batch - s)), null));
        return torch.cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Members run through the network together; null (default) picks, on CPU, as many as keep the widest activation
    /// of the full grid within <see cref="ChunkBytes"/> (at least one), and the whole batch on other devices.
    /// The result does not depend on it (members never interact).
    /// </summary>
    public int? MembersPerChunk { get; set; }

    /// <summary>Activation budget per chunk for the automatic <see cref="MembersPerChunk"/>.</summary>
    public const long ChunkBytes = 32L << 20;

    long ChunkFor(Tensor x)
    {
        if (MembersPerChunk is { } n) return Math.Max(1, n);
        if (x.device_type != DeviceType.CPU) return x.shape[0];
        return Math.Max(1, ChunkBytes / MemberActivationBytes());
    }

    Tensor ForwardBatch(Tensor x, Action<string, Tensor>? tap, NativeForward.Prepared? prepared = null)
    {
        using var scope = torch.NewDisposeScope();
        var compute = Precision.ComputeDType;
        var xc = x.to(compute);
        if (tap is null && NativeForward.Applies(this, xc)) return NativeForward.Run(this, xc, prepared).to(Precision.ParamDType).MoveToOuterDisposeScope();
        var y = _p.Encoder.forward(xc);
        tap?.Invoke("encoder", y);
        // add(…, cached alpha), not +: this runs on the SFNO workers (see Ensemble.Core.Scalars).
        if (_p.PosEmbedDirect is not null) y = y.add(_p.PosEmbedDirect.to(compute), Scalars.Of(1));
        else if (_p.PosEmbedFrequency is not null) y = y.add(_p.PosEmbedFrequency.Embedding(_p.ItransUp).to(compute), Scalars.Of(1));
        for (int i = 0; i < _p.Blocks.Count; i++)
        {
            string name = $"block{i}";
            y = _p.Blocks[i].Forward(y, tap is null ? null : f => tap(name + "_filter", f));
            tap?.Invoke(name, y);
        }
        if (tap is null)
            y = _p.Decoder.Forward(y, _p.ResidualTransform, _p.ResidualTransform is null ? null : xc);
        else
        {
            y = _p.Decoder.forward(y);
            tap("decoder", y);
            if (_p.ResidualTransform is not null) y = y + Precision.Conv(_p.ResidualTransform, xc);
        }
        return y.to(Precision.ParamDType).MoveToOuterDisposeScope();
    }

    void CheckInput(Tensor x)
    {
        long[] want = [Config.ModelInputChannels, Config.ImgShapeX, Config.ImgShapeY];
        if (x.dim() != 4 || x.shape[1] != want[0] || x.shape[2] != want[1] || x.shape[3] != want[2])
            throw new EnsembleException($"SFNO input has shape [{string.Join(", ", x.shape)}], expected [batch, {string.Join(", ", want)}]");
        if (!x.is_floating_point()) throw new EnsembleException($"SFNO input must be floating point, not {x.dtype}");
    }

    /// <summary>Parameter names in state-dict order (what makani's model.state_dict().keys() lists).</summary>
    public IReadOnlyList<string> StateDictKeys() => state_dict().Keys.ToList();

    /// <summary>
    /// Copies a state dict into the model (shapes must match; dtype is converted, complex filters stay complex).
    /// Keys may carry makani's <c>module.model.</c> or <c>module.</c> prefix. Missing or extra keys are an error.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        var own = state_dict();
        var stripped = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in source)
        {
            string key = k.StartsWith("module.model.", StringComparison.Ordinal) ? k["module.model.".Length..]
                : k.StartsWith("module.", StringComparison.Ordinal) ? k["module.".Length..] : k;
            stripped[key] = v;
        }
        var missing = own.Keys.Where(k => !stripped.ContainsKey(k)).ToList();
        var extra = stripped.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new EnsembleException($"{origin}: state dict does not match the config (missing: {Short(missing)}; unexpected: {Short(extra)})");
        using var noGrad = torch.no_grad();
        foreach (var (key, target) in own)
        {
            var src = stripped[key];
            // Complex weights exported as a trailing real/imaginary axis (npz, §9.2) are rebuilt as complex.
            using var complexView = target.is_complex() && !src.is_complex() && src.dim() == target.dim() + 1 && src.shape[^1] == 2
                ? torch.view_as_complex(src.contiguous().clone()) : null;
            if (complexView is not null) src = complexView;
            if (!src.shape.SequenceEqual(target.shape))
                throw new EnsembleException($"{origin}: '{key}' has shape [{string.Join(", ", src.shape)}], the config needs [{string.Join(", ", target.shape)}]");
            if (src.is_complex() != target.is_complex())
                throw new EnsembleException($"{origin}: '{key}' is {src.dtype}, the model expects {target.dtype}");
            target.copy_(src.to(target.dtype, target.device));
        }
    }

    static string Short(List<string> keys) => keys.Count == 0 ? "none" : string.Join(", ", keys.Take(5)) + (keys.Count > 5 ? $", … ({keys.Count})" : "");
}

/// <summary>pos_embed "frequency": real parts [1,E,lmax,mmax] ("pos_embed.0") and imaginary parts for m ≥ 1 ("pos_embed.1"), synthesised with itrans_up.</summary>
public sealed class FrequencyPositionEmbedding : nn.Module
{
    sealed class Parts { public required Parameter Real, Imag; }
    readonly Parts _p;

    public FrequencyPositionEmbedding(int embedDim, int lmax, int mmax, ScalarType dtype) : base("pos_embed")
    {
        _p = new Parts
        {
            Real = new Parameter(torch.zeros([1, embedDim, lmax, mmax], dtype: dtype)),
            Imag = new Parameter(torch.zeros([1, embedDim, lmax, mmax - 1], dtype: dtype)),
        };
        register_parameter("0", _p.Real);
        register_parameter("1", _p.Imag);
    }

    public Parameter Real => _p.Real;
    public Parameter Imag => _p.Imag;

    /// <summary>itrans_up(complex(real, pad(imag, (1, 0)))): the m = 0 imaginary part is zero.</summary>
    public Tensor Embedding(InverseRealSHT itransUp)
    {
        using var scope = torch.NewDisposeScope();
        var im = nn.functional.pad(_p.Imag, [1, 0], PaddingModes.Constant, 0);
        var c = torch.complex(_p.Real, im);
        return itransUp.forward(c).MoveToOuterDisposeScope();
    }
}
