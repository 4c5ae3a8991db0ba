using System.Text.Json.Serialization;
using Ensemble.Core;
using Parquet.Serialization;

namespace Ensemble.Scoring.Tables;

/// <summary>Parquet form of a score table (Parquet.Net class serialisation, one row group).</summary>
public static class ScoreParquet
{
    /// <summary>The Parquet row; property names map to the snake_case column names.</summary>
    sealed class Record
    {
        [JsonPropertyName("model")] public string Model { get; set; } = "";
        [JsonPropertyName("variable")] public string Variable { get; set; } = "";
        [JsonPropertyName("init_time")] public string InitTime { get; set; } = "";
        [JsonPropertyName("lead_time_hours")] public double LeadTimeHours { get; set; }
        [JsonPropertyName("metric")] public string Metric { get; set; } = "";
        [JsonPropertyName("value")] public double Value { get; set; }
        [JsonPropertyName("n_members")] public int Members { get; set; }
        [JsonPropertyName("weighting")] public string Weighting { get; set; } = "";
    }

    public static void Write(ScoreTable table, string path)
    {
        var records = table.Rows.Select(r => new Record
        {
            Model = r.Model, Variable = r.Variable, InitTime = r.InitTime, LeadTimeHours = r.LeadTimeHours,
            Metric = r.Metric, Value = r.Value, Members = r.Members, Weighting = r.Weighting,
        }).ToList();
        AtomicFile.Write(path, s => ParquetSerializer.SerializeAsync(records, s, null, table.Metadata).GetAwaiter().GetResult());
    }

    public static ScoreTable Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: score Parquet file not found");
        DeserializationResult<Record> result;
        try
        {
            using var fs = File.OpenRead(path);
            result = ParquetSerializer.DeserializeAsync<Record>(fs).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new EnsembleException($"{path}: not a readable score table ({e.Message})", e);
        }
        var table = new ScoreTable(result.Data.Select(r =>
            new ScoreRow(r.Model, r.Variable, r.InitTime, r.LeadTimeHours, r.Metric, r.Value, r.Members, r.Weighting)));
        if (result.CustomMetadata is not null)
            foreach (var (k, v) in result.CustomMetadata) table.Metadata[k] = v;
        return table;
    }
}
