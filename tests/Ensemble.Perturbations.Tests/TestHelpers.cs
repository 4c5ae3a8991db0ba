using Ensemble.Data.Datasets;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using Ensemble.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Perturbations.Tests;

/// <summary>Reference computations written out with plain loops, independent of the code under test.</summary>
static class Reference
{
    /// <summary>(NH, SH) of dx[c] [H, W] per docs hens-ensembles §4, with plain loops.</summary>
    public static (double North, double South) Hemispheres(double[,] dx)
    {
        int h = dx.GetLength(0), w = dx.GetLength(1);
        var wt = new double[h];
        double mean = 0;
        for (int i = 0; i < h; i++) { wt[i] = Math.Sin(Math.PI * i / (h - 1)); mean += wt[i] / h; }
        int ex = (int)Math.Floor(70.0 * h / 180.0);
        double n = 0, s = 0;
        for (int i = 0; i < ex; i++)
            for (int j = 0; j < w; j++) n += dx[i, j] * dx[i, j] * wt[i] / mean;
        for (int i = h - ex; i < h; i++)
            for (int j = 0; j < w; j++) s += dx[i, j] * dx[i, j] * wt[i] / mean;
        return (Math.Sqrt(n / (ex * w)), Math.Sqrt(s / (ex * w)));
    }

    /// <summary>Channel c of a [.., C, H, W] float64 tensor at leading index <paramref name="lead"/> as a 2-D array.</summary>
    public static double[,] Field(Tensor t, int lead, int c)
    {
        using var f = (t.dim() == 4 ? t[lead, c] : t[c]).to(ScalarType.Float64).contiguous();
        int h = (int)f.shape[0], w = (int)f.shape[1];
        var v = f.data<double>().ToArray();
        var a = new double[h, w];
        for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) a[i, j] = v[i * w + j];
        return a;
    }

    /// <summary>Pearson correlation of two equally long sequences.</summary>
    public static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    public static double[] Values(Tensor t)
    {
        using var c = t.to(ScalarType.Float64).contiguous();
        return c.data<double>().ToArray();
    }

    public static bool BitEqual(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && Values(a).Zip(Values(b)).All(p => BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second));
}

/// <summary>
/// A tiny exported SFNO package (z500, t850, q700 on a 16×32 equiangular grid, random weights) and smooth synthetic
/// analyses every 6 hours, for the breeding tests.
/// </summary>
sealed class TinyModel : IDisposable
{
    public static readonly string[] Channels = ["z500", "t850", "q700"];
    public const int NLat = 16, NLon = 32;
    static readonly double[] Means = [5.5e4, 270.0, 0.003];
    static readonly double[] Stds = [3000.0, 15.0, 0.002];

    readonly TempDir _dir = new();
    public ModelPackage Package { get; }
    public Forecaster Forecaster { get; }
    public string Directory => _dir.Path;

    public TinyModel(long seed = 3)
    {
        var c = new SfnoConfig
        {
            ImgShapeX = NLat, ImgShapeY = NLon, ScaleFactor = 2, NInChannels = 3, NOutChannels = 3, EmbedDim = 8, NumLayers = 2,
            ChannelNames = Channels, InChannels = [0, 1, 2], OutChannels = [0, 1, 2],
        };
        using (var net = new SphericalFourierNeuralOperatorNet(c))
        {
            Randomise(net, seed);
            ModelPackage.Export(_dir.Path, net, new ChannelNormalization(Channels, Means, Stds));
        }
        Package = ModelPackage.Load(_dir.Path);
        Forecaster = new Forecaster(Package);
    }

    public static void Randomise(nn.Module m, long seed)
    {
        using var g = new torch.Generator((ulong)seed);
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in m.named_parameters())
        {
            var realType = p.dtype switch { ScalarType.ComplexFloat64 => ScalarType.Float64, ScalarType.ComplexFloat32 => ScalarType.Float32, _ => p.dtype };
            using var r = torch.randn(p.is_complex() ? [.. p.shape, 2] : p.shape, dtype: realType, generator: g) * 0.4;
            using var v = p.is_complex() ? torch.view_as_complex(r.contiguous()) : name.Contains("norm") && name.EndsWith("weight") ? r + 1.0 : r.alias();
            p.copy_(v);
        }
    }

    /// <summary>A smooth analysis [3, 16, 32] valid at <paramref name="t"/>: mean + std·pattern moving with time; q700 ≥ 0, near 0 in places.</summary>
    public static Tensor Analysis(DateTime t)
    {
        double hours = (t - new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalHours;
        var v = new double[3 * NLat * NLon];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < NLat; i++)
                for (int j = 0; j < NLon; j++)
                {
                    double lat = Math.PI / 2 - Math.PI * i / (NLat - 1), lon = 2 * Math.PI * j / NLon;
                    double pattern = Math.Cos(lat) * Math.Sin(2 * lon + 0.05 * hours + c) + 0.5 * Math.Sin(3 * lat) * Math.Cos(lon - 0.02 * hours);
                    double x = Means[c] + Stds[c] * pattern;
                    if (c == 2) x = Math.Max(0.0, 0.0015 * (1 + pattern)) + 1e-5;
                    v[(c * NLat + i) * NLon + j] = x;
                }
        return torch.tensor(v, dtype: ScalarType.Float64).reshape(3, NLat, NLon);
    }

    public void Dispose()
    {
        Package.Dispose();
        _dir.Dispose();
    }
}
