namespace Ensemble.Models.Sfno;

/// <summary>Parameter counts of an SFNO config, by formula (no allocation). Complex filter weights count once in <see cref="Numel"/>.</summary>
public sealed record SfnoParameterCount(long Numel, long RealNumbers, long FilterNumel)
{
    public static SfnoParameterCount Of(SfnoConfig c)
    {
        long e = c.EmbedDim, cin = c.ModelInputChannels, cout = c.NOutChannels, lm = c.ModesLat, mm = c.ModesLon;
        long hEnc = c.EncoderHidden, hDec = c.DecoderHidden, hMlp = c.MlpHidden;
        long filter = e * e * lm * (c.OperatorType == "diagonal" ? mm : 1);
        long norms = c.NormalizationLayer == "instance_norm" ? 4 * e : 0;
        long mlp = c.UseMlp ? e * hMlp + hMlp + hMlp * e + e : 0;
        long block = filter + norms + e * e + mlp;
        long encoder = hEnc * cin + hEnc + e * hEnc;
        long decoder = hDec * e + hDec + cout * hDec;
        long residual = c.BigSkip ? cout * cin : 0;
        long pos = c.PosEmbed switch
        {
            "direct" => e * c.ImgShapeX * c.ImgShapeY,
            "frequency" => e * lm * mm + e * lm * (mm - 1),
            _ => 0,
        };
        long filters = c.NumLayers * filter;
        long numel = c.NumLayers * block + encoder + decoder + residual + pos;
        return new SfnoParameterCount(numel, numel + filters, filters);
    }
}
