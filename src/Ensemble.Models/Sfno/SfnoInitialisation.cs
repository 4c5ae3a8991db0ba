using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Sfno;

/// <summary>The makani v0.1.0 initialisation of a fresh SFNO (reference §7.5), seeded explicitly.</summary>
public static class SfnoInitialisation
{
    public static void Apply(SphericalFourierNeuralOperatorNet net, long seed)
    {
        var c = net.Config;
        using var g = new torch.Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        int e = c.EmbedDim, cin = c.ModelInputChannels;
        double gain = c.ActivationFunction == "identity" ? 1.0 : 2.0;

        void Normal(Tensor p, double std)
        {
            using var r = torch.randn(p.shape, dtype: p.dtype, generator: g);
            p.copy_(r * std);
        }

        Normal(net.Encoder.First.weight!, Math.Sqrt(2.0 / cin));
        net.Encoder.First.bias!.zero_();
        Normal(net.Encoder.Last.weight!, Math.Sqrt(1.0 / c.EncoderHidden));
        foreach (var b in net.Blocks)
        {
            var w = b.Filter.Filter.Weight;
            var realType = w.dtype == ScalarType.ComplexFloat64 ? ScalarType.Float64 : ScalarType.Float32;
            double std = Math.Sqrt(gain / e);
            using var re = torch.randn(w.shape, dtype: realType, generator: g) * (std / Math.Sqrt(2));
            using var im = torch.randn(w.shape, dtype: realType, generator: g) * (std / Math.Sqrt(2));
            using var cw = torch.complex(re, im);
            w.copy_(cw);
            using var l0 = w.select(2, 0);
            l0.mul_(Math.Sqrt(2));
            Normal(b.OuterSkip.weight!, Math.Sqrt(0.5 / e));
            if (b.Mlp is { } mlp)
            {
                Normal(mlp.Fc1.weight!, Math.Sqrt(2.0 / e));
                mlp.Fc1.bias!.zero_();
                Normal(mlp.Fc2.weight!, Math.Sqrt(0.5 / c.MlpHidden));
                mlp.Fc2.bias!.zero_();
            }
            foreach (var n in new[] { b.Norm0, b.Norm1 })
                if (n is not null) { n.weight!.fill_(1); n.bias!.zero_(); }
        }
        Normal(net.Decoder.First.weight!, Math.Sqrt(2.0 / e));
        net.Decoder.First.bias!.zero_();
        Normal(net.Decoder.Last.weight!, Math.Sqrt((c.BigSkip ? 0.5 : 1.0) / c.DecoderHidden));
        if (net.ResidualTransform is { } rt) Normal(rt.weight!, Math.Sqrt(0.5 / cin));
        if (net.PosEmbedDirect is { } pd) Normal(pd, 0.02);
        if (net.PosEmbedFrequency is { } pf) { Normal(pf.Real, 0.02); Normal(pf.Imag, 0.02); }
    }
}
