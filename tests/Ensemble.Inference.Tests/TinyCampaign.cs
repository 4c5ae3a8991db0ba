using Ensemble.Data.Datasets;
using Ensemble.Data.Hdf5;
using Ensemble.Models.Packages;
using Ensemble.Models.Sfno;
using static TorchSharp.torch;

namespace Ensemble.Inference.Tests;

/// <summary>A tiny real campaign on disk: a Makani dataset (3 channels, 8 × 16, 6-hourly in 2020) and SFNO packages.</summary>
/// <remarks>Also compiled into Ensemble.Cli.Tests (linked source), whose runner tests run the real CLI on it.</remarks>
public static class TinyCampaign
{
    public static readonly string[] Channels = ["z500", "t850", "q700"];
    public const int NLat = 8, NLon = 16;

    public static (string Data, List<string> Models) Create(string root, int checkpoints = 2, int times = 12, int nlat = NLat, int nlon = NLon, int embed = 8, int layers = 1)
    {
        string data = Path.Combine(root, "data");
        Directory.CreateDirectory(data);
        var lat = Enumerable.Range(0, nlat).Select(i => 90 - 180.0 * (i + 0.5) / nlat).ToArray();
        var lon = Enumerable.Range(0, nlon).Select(j => 360.0 * j / nlon).ToArray();
        var values = new float[times * Channels.Length * nlat * nlon];
        var rng = new Random(3);
        double[] mean = [55000, 275, 0.004], amp = [800, 8, 0.002];
        for (int t = 0; t < times; t++)
            for (int c = 0; c < Channels.Length; c++)
                for (int i = 0; i < nlat; i++)
                    for (int j = 0; j < nlon; j++)
                        values[((t * Channels.Length + c) * nlat + i) * nlon + j] = (float)(mean[c] + amp[c] *
                            (Math.Cos(lat[i] * Math.PI / 180) * Math.Sin((lon[j] + 15 * t) * Math.PI / 180 * (c + 1)) + 0.1 * (rng.NextDouble() - 0.5)));
        MakaniYearFile.Write(Path.Combine(data, "2020.h5"), 2020, 6, values, Channels, lat, lon);
        new MakaniMetadata("tiny", 6, Channels, lat, lon).Write(Path.Combine(data, "data.json"));
        using var ds = new MakaniDataset(data);
        var stats = ds.ComputeNormalization(Enumerable.Range(0, ds.Count));
        var models = new List<string>();
        for (int k = 0; k < checkpoints; k++)
        {
            var config = new SfnoConfig
            {
                ImgShapeX = nlat, ImgShapeY = nlon, ScaleFactor = 1, NInChannels = 3, NOutChannels = 3, EmbedDim = embed, NumLayers = layers,
                ChannelNames = Channels, InChannels = [0, 1, 2], OutChannels = [0, 1, 2],
            };
            using var net = new SphericalFourierNeuralOperatorNet(config, ScalarType.Float32, seed: 100 + k);
            string dir = Path.Combine(root, $"ckpt{k}");
            ModelPackage.Export(dir, net, stats);
            models.Add(dir);
        }
        return (data, models);
    }

    public static string Yaml(string data, IEnumerable<string> models, string output, int pairs = 3, bool control = true, int steps = 3, int pairsPerItem = 2,
        string format = "zarr", int batch = 3) => $$"""
        name: tiny
        seed: 42
        models: [{{string.Join(", ", models.Select(m => $"'{m}'"))}}]
        initial_conditions:
          path: '{{data}}'
          times: ['2020-01-01T00:00:00', '2020-01-01T12:00:00']
        steps: {{steps}}
        members: {pairs: {{pairs}}, control: {{(control ? "true" : "false")}}}
        pairs_per_item: {{pairsPerItem}}
        batch_size: {{batch}}
        device: cpu
        perturbation:
          method: gaussian
          amplitudes: {z500: 40.0, t850: 0.5, q700: 0.0002}
        output: {path: '{{output}}', format: {{format}}, variables: [z500, q700]}
        statistics:
          thresholds: {z500: [55000.0], q700: [0.004, 0.005]}
        """;
}
