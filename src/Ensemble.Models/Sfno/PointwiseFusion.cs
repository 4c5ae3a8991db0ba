using Ensemble.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>
/// Inference path for the SFNO's pointwise layers (1×1 convs, activations, instance norms, skip adds) on CPU:
/// each member's field is a [C, P] matrix, and the layers run over spatial tiles of P that keep the hidden
/// activations in cache: a 1×1 conv is one <c>addmm_</c> into a tile (bias preloaded, skip paths accumulated in place),
/// activations run in place on the tile, and instance-norm statistics are gathered tile by tile (Chan's pairwise
/// combination of per-tile means and squared deviations). Same mathematics as the module-by-module path, different
/// rounding in the last bits; used only when no gradient is recorded (autograd needs the module path's tensors).
/// Measured: docs/benchmarks.md, SFNO inference.
/// </summary>
internal static class PointwiseFusion
{
    /// <summary>Whether the fused path applies: no autograd, CPU, activations in the parameter dtype.</summary>
    public static bool Applies(Tensor x, SfnoPrecision precision) =>
        !torch.is_grad_enabled() && x.device_type == DeviceType.CPU && x.dtype == precision.ParamDType && x.dtype is ScalarType.Float32 or ScalarType.Float64;

    /// <summary>Points per tile: the widest hidden tile (<paramref name="widest"/> channels) ≈ 512 KB.</summary>
    static long TileFor(long widest, long points, ScalarType dtype)
    {
        long bytes = dtype == ScalarType.Float64 ? 8 : 4;
        long t = (512L << 10) / (widest * bytes);
        t = Math.Max(256, t / 64 * 64);
        return Math.Min(points, t);
    }

    static void ActivateInPlace(string activation, Tensor t)
    {
        switch (activation)
        {
            case "gelu": t.gelu_(); break;
            case "relu": t.relu_(); break;
            case "silu": t.silu_(); break;
            default: throw new EnsembleException($"activation '{activation}' is not supported");
        }
    }

    static Tensor Matrix(Conv2d conv) => conv.weight!.view(conv.weight.shape[0], conv.weight.shape[1]);

    /// <summary>o = W·x (+ bias), written into the tile <paramref name="o"/> (beta 0: its old content is ignored).</summary>
    static void Linear(Tensor o, Conv2d conv, Tensor x)
    {
        using var w = Matrix(conv);
        if (conv.bias is { } b)
        {
            using var bv = b.view(-1, 1).expand(o.shape[0], o.shape[1]);
            o.copy_(bv);
            o.addmm_(w, x, 1, 1);
        }
        else o.addmm_(w, x, 0, 1);
    }

    /// <summary>Per-tile mean and sum of squared deviations of the rows of <paramref name="t"/> [C, n].</summary>
    sealed class Moments(long channels, ScalarType dtype)
    {
        readonly List<(Tensor Mean, Tensor M2, long N)> _parts = [];

        public void Add(Tensor t)
        {
            var mean = t.mean([1]);
            using var d = t - mean.unsqueeze(1);
            d.mul_(d);
            var m2 = d.sum([1]);
            _parts.Add((mean.to(ScalarType.Float64), m2.to(ScalarType.Float64), t.shape[1]));
            mean.Dispose(); m2.Dispose();
        }

        /// <summary>(mean, scale, shift) with norm(x) = (x − mean)·scale + shift, in <paramref name="dtype"/>.</summary>
        public (Tensor Mean, Tensor Scale, Tensor Shift) Affine(InstanceNorm2d norm)
        {
            using var scope = torch.NewDisposeScope();
            long total = _parts.Sum(p => p.N);
            var mean = torch.zeros(channels, dtype: ScalarType.Float64);
            foreach (var p in _parts) mean.add_(p.Mean, alpha: (double)p.N / total);
            var m2 = torch.zeros(channels, dtype: ScalarType.Float64);
            foreach (var p in _parts)
            {
                m2.add_(p.M2);
                using var dm = p.Mean - mean;
                m2.addcmul_(dm, dm, value: p.N);
            }
            var rstd = (m2 / total + norm.eps).rsqrt();
            Tensor scale = norm.weight is { } g ? rstd * g.to(ScalarType.Float64) : rstd;
            Tensor shift = norm.bias is { } b ? b.to(ScalarType.Float64) : torch.zeros(channels, dtype: ScalarType.Float64);
            foreach (var p in _parts) { p.Mean.Dispose(); p.M2.Dispose(); }
            _parts.Clear();
            return (mean.to(dtype).unsqueeze(1).MoveToOuterDisposeScope(), scale.to(dtype).unsqueeze(1).MoveToOuterDisposeScope(),
                shift.to(dtype).unsqueeze(1).MoveToOuterDisposeScope());
        }
    }

    static void Normalise(Tensor t, (Tensor Mean, Tensor Scale, Tensor Shift) a)
    {
        t.sub_(a.Mean);
        t.mul_(a.Scale);
        t.add_(a.Shift);
    }

    /// <summary>
    /// The block after its filter: out = norm1(mlp(act(norm0(z)))) + outer_skip(residual); z and residual [B, E, H, W].
    /// </summary>
    public static Tensor BlockRest(Tensor z, Tensor residual, InstanceNorm2d? norm0, InstanceNorm2d? norm1, string activation,
        SfnoMlp? mlp, Conv2d outerSkip)
    {
        using var scope = torch.NewDisposeScope();
        z = z.contiguous();
        residual = residual.contiguous();
        long batch = z.shape[0], e = z.shape[1], p = z.shape[2] * z.shape[3];
        long hidden = mlp?.Fc1.weight!.shape[0] ?? e;
        long tile = TileFor(Math.Max(hidden, e), p, z.dtype);
        var output = torch.empty_like(z);
        using var hbuf = mlp is null ? null : torch.empty([hidden, tile], dtype: z.dtype);
        using var wskip = Matrix(outerSkip);
        for (long b = 0; b < batch; b++)
        {
            using var zb = z[b].view(e, p);
            using var rb = residual[b].view(e, p);
            using var ob = output[b].view(e, p);
            (Tensor, Tensor, Tensor)? a0 = null;
            if (norm0 is not null)
            {
                var m0 = new Moments(e, z.dtype);
                for (long s = 0; s < p; s += tile)
                {
                    using var zt = zb.narrow(1, s, Math.Min(tile, p - s));
                    m0.Add(zt);
                }
                a0 = m0.Affine(norm0);
            }
            var m1 = norm1 is null ? null : new Moments(e, z.dtype);
            for (long s = 0; s < p; s += tile)
            {
                long n = Math.Min(tile, p - s);
                using var zt = zb.narrow(1, s, n);
                using var ot = ob.narrow(1, s, n);
                using var t = zt.clone();
                if (a0 is { } a) Normalise(t, a);
                ActivateInPlace(activation, t);
                if (mlp is not null)
                {
                    using var h = hbuf!.narrow(1, 0, n);
                    Linear(h, mlp.Fc1, t);
                    ActivateInPlace(activation, h);
                    Linear(ot, mlp.Fc2, h);
                }
                else ot.copy_(t);
                if (m1 is not null) m1.Add(ot);
                else
                {
                    using var rt = rb.narrow(1, s, n);
                    ot.addmm_(wskip, rt, 1, 1);
                }
            }
            if (m1 is not null)
            {
                var a1 = m1.Affine(norm1!);
                for (long s = 0; s < p; s += tile)
                {
                    long n = Math.Min(tile, p - s);
                    using var ot = ob.narrow(1, s, n);
                    using var rt = rb.narrow(1, s, n);
                    Normalise(ot, a1);
                    ot.addmm_(wskip, rt, 1, 1);
                }
                a1.Mean.Dispose(); a1.Scale.Dispose(); a1.Shift.Dispose();
            }
            if (a0 is { } done) { done.Item1.Dispose(); done.Item2.Dispose(); done.Item3.Dispose(); }
        }
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encoder or decoder: out = last(act(first(x))) (+ <paramref name="skip"/>(<paramref name="skipInput"/>), the
    /// big-skip residual_transform, accumulated into the same tile).
    /// </summary>
    public static Tensor EncoderDecoder(Tensor x, Conv2d first, Conv2d last, string activation, Conv2d? skip = null, Tensor? skipInput = null)
    {
        using var scope = torch.NewDisposeScope();
        x = x.contiguous();
        skipInput = skipInput?.contiguous();
        long batch = x.shape[0], cin = x.shape[1], p = x.shape[2] * x.shape[3];
        long hidden = first.weight!.shape[0], cout = last.weight!.shape[0];
        long tile = TileFor(Math.Max(hidden, cout), p, x.dtype);
        var output = torch.empty([batch, cout, x.shape[2], x.shape[3]], dtype: x.dtype);
        using var hbuf = torch.empty([hidden, tile], dtype: x.dtype);
        using var wskip = skip is null ? null : Matrix(skip);
        for (long b = 0; b < batch; b++)
        {
            using var xb = x[b].view(cin, p);
            using var ob = output[b].view(cout, p);
            using var sb = skipInput is null ? null : skipInput[b].view(skipInput.shape[1], p);
            for (long s = 0; s < p; s += tile)
            {
                long n = Math.Min(tile, p - s);
                using var xt = xb.narrow(1, s, n);
                using var ot = ob.narrow(1, s, n);
                using var h = hbuf.narrow(1, 0, n);
                Linear(h, first, xt);
                ActivateInPlace(activation, h);
                Linear(ot, last, h);
                if (sb is not null)
                {
                    using var st = sb.narrow(1, s, n);
                    ot.addmm_(wskip!, st, 1, 1);
                }
            }
        }
        return output.MoveToOuterDisposeScope();
    }
}
