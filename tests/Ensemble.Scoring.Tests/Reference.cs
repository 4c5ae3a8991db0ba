using System.Text.Json;
using Ensemble.TestSupport;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Tests;

/// <summary>Loads the earthkit-meteo reference JSONs from ../shared and converts arrays to tensors.</summary>
internal static class Reference
{
    public static JsonElement Load(string name)
    {
        string path = Shared.Require($"data/reference_scores/{name}");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    /// <summary>JSON number or null (NaN) array → double[].</summary>
    public static double[] Vector(JsonElement e) =>
        e.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();

    public static double[,] Matrix(JsonElement e)
    {
        var rows = e.EnumerateArray().Select(Vector).ToArray();
        var m = new double[rows.Length, rows[0].Length];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[0].Length; j++) m[i, j] = rows[i][j];
        return m;
    }

    public static Tensor T(double[] v) => tensor(v, dtype: ScalarType.Float64);
    public static Tensor T(double[,] v) => tensor(v, dtype: ScalarType.Float64);
    public static double[] D(Tensor t) => t.to(ScalarType.Float64).cpu().contiguous().data<double>().ToArray();
}
