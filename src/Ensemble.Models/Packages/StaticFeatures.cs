using System.Text.Json;
using Ensemble.Core;
using Ensemble.Models.Sfno;
using TorchSharp;
using static TorchSharp.torch;

namespace Ensemble.Models.Packages;

/// <summary>makani Preprocessor2D static channels (reference §8.2): sinusoidal grid, orography, land-mask one-hot.</summary>
public static class StaticFeatures
{
    /// <summary>[1, S, H, W] in <paramref name="dtype"/>, or null when the config adds no static channels.</summary>
    public static Tensor? Build(SfnoConfig c, Tensor? orography, Tensor? landMask, ScalarType dtype, Device device)
    {
        int h = c.ImgShapeX, w = c.ImgShapeY;
        var parts = new List<Tensor>();
        using var scope = torch.NewDisposeScope();
        if (c.AddGrid)
        {
            var lat = Axis(c, "lat", h, true);
            var lon = Axis(c, "lon", w, false);
            var gx = torch.tensor(lat, dtype: ScalarType.Float32).reshape(h, 1).expand(h, w);
            var gy = torch.tensor(lon, dtype: ScalarType.Float32).reshape(1, w).expand(h, w);
            if (c.GridType == "sinusoidal")
                for (int f = 1; f <= c.GridNumFrequencies; f++)
                {
                    parts.Add(torch.sin(gx * f).unsqueeze(0));
                    parts.Add(torch.sin(gy * f).unsqueeze(0));
                }
            else
            {
                parts.Add(gx.unsqueeze(0));
                parts.Add(gy.unsqueeze(0));
            }
        }
        if (c.AddOrography)
        {
            if (orography is null) throw new EnsembleException("this model needs an orography field (add_orography is set)");
            var o = Field(orography, h, w, "orography").to(ScalarType.Float64);
            o = (o - o.min()) / (o.max() - o.min());
            o = (o - o.mean()) / (o.std(unbiased: true) + 1e-6);
            parts.Add(o.unsqueeze(0));
        }
        if (c.AddLandmask)
        {
            if (landMask is null) throw new EnsembleException("this model needs a land-sea mask (add_landmask is set)");
            // Cast to integer by truncation: only exact 1.0 is land (§8.2).
            var m = Field(landMask, h, w, "land mask").to(ScalarType.Int64);
            parts.Add((m == 0).unsqueeze(0));
            parts.Add((m == 1).unsqueeze(0));
        }
        if (parts.Count == 0) return null;
        var all = torch.cat(parts.Select(p => p.to(dtype)).ToArray(), 0).unsqueeze(0).to(device);
        return all.MoveToOuterDisposeScope();
    }

    static Tensor Field(Tensor t, int h, int w, string what)
    {
        var f = t.squeeze();
        if (f.dim() != 2 || f.shape[0] != h || f.shape[1] != w)
            throw new EnsembleException($"{what} has shape [{string.Join(", ", t.shape)}], the model grid is {h}x{w}");
        return f.cpu();
    }

    /// <summary>deg2rad(config lat/lon) when the config carries them, else linspace(0, 1, n+1)[:-1].</summary>
    static float[] Axis(SfnoConfig c, string key, int n, bool isLat)
    {
        if (c.Extra.TryGetValue(key, out var el) && el.ValueKind == JsonValueKind.Array)
        {
            var v = el.EnumerateArray().Select(e => (float)(e.GetDouble() * Math.PI / 180.0)).ToArray();
            if (v.Length != n) throw new EnsembleException($"config '{key}' has {v.Length} values, the grid has {n} {(isLat ? "rows" : "columns")}");
            return v;
        }
        return Enumerable.Range(0, n).Select(i => (float)i / n).ToArray();
    }
}
