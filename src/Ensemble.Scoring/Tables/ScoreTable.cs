using Ensemble.Core;
using Microsoft.Data.Analysis;

namespace Ensemble.Scoring.Tables;

/// <summary>
/// A list of <see cref="ScoreRow"/>s with its file forms (Parquet and CSV with the same columns) and a
/// <see cref="DataFrame"/> view for summaries. Writes are atomic (temporary name + rename).
/// </summary>
public sealed class ScoreTable
{
    /// <summary>Column names in file order.</summary>
    public static readonly string[] Columns =
        ["model", "variable", "init_time", "lead_time_hours", "metric", "value", "n_members", "weighting"];

    public ScoreTable(IEnumerable<ScoreRow> rows) { Rows = rows.ToList(); }

    public IReadOnlyList<ScoreRow> Rows { get; }

    /// <summary>Key-value metadata stored in the Parquet footer (e.g. the spread–skill correction used).</summary>
    public Dictionary<string, string> Metadata { get; } = new();

    public void WriteParquet(string path) => ScoreParquet.Write(this, path);

    public void WriteCsv(string path) => ScoreCsv.Write(Rows, path);

    /// <summary>Writes <paramref name="parquetPath"/> and the same table as CSV beside it (extension .csv); returns the CSV path.</summary>
    public string WriteParquetAndCsv(string parquetPath)
    {
        WriteParquet(parquetPath);
        string csv = Path.ChangeExtension(parquetPath, ".csv");
        WriteCsv(csv);
        return csv;
    }

    public static ScoreTable ReadParquet(string path) => ScoreParquet.Read(path);

    public static ScoreTable ReadCsv(string path) => new(ScoreCsv.Read(path));

    /// <summary>The rows as a DataFrame with the file's column names.</summary>
    public DataFrame ToDataFrame()
    {
        var cols = new DataFrameColumn[]
        {
            new StringDataFrameColumn("model", Rows.Select(r => r.Model)),
            new StringDataFrameColumn("variable", Rows.Select(r => r.Variable)),
            new StringDataFrameColumn("init_time", Rows.Select(r => r.InitTime)),
            new DoubleDataFrameColumn("lead_time_hours", Rows.Select(r => r.LeadTimeHours)),
            new StringDataFrameColumn("metric", Rows.Select(r => r.Metric)),
            new DoubleDataFrameColumn("value", Rows.Select(r => r.Value)),
            new Int32DataFrameColumn("n_members", Rows.Select(r => r.Members)),
            new StringDataFrameColumn("weighting", Rows.Select(r => r.Weighting)),
        };
        return new DataFrame(cols);
    }

    /// <summary>
    /// Mean and count of "value" grouped by the given columns (default model, variable, metric), over the
    /// rows of <paramref name="frame"/> (e.g. only the aggregated rows: filter init_time == "" first).
    /// NaN values are left out of the mean and the count. Groups appear in order of first occurrence.
    /// </summary>
    public static DataFrame Summarise(DataFrame frame, params string[] by)
    {
        if (by.Length == 0) by = ["model", "variable", "metric"];
        foreach (var c in by.Append("value"))
            if (!frame.Columns.Any(x => x.Name == c))
                throw new EnsembleException($"score summary: the table has no column '{c}' (columns: {string.Join(", ", frame.Columns.Select(x => x.Name))})");
        var keys = by.Select(c => frame.Columns[c]).ToArray();
        var value = frame.Columns["value"];
        var groups = new Dictionary<string, (object?[] Key, double Sum, int Count)>();
        var order = new List<string>();
        for (long i = 0; i < frame.Rows.Count; i++)
        {
            var key = keys.Select(k => k[i]).ToArray();
            string id = string.Join("\u001f", key.Select(k => Convert.ToString(k, System.Globalization.CultureInfo.InvariantCulture)));
            if (!groups.TryGetValue(id, out var g)) { g = (key, 0, 0); order.Add(id); }
            double v = Convert.ToDouble(value[i], System.Globalization.CultureInfo.InvariantCulture);
            if (!double.IsNaN(v)) { g.Sum += v; g.Count++; }
            groups[id] = g;
        }
        var outCols = new List<DataFrameColumn>();
        for (int j = 0; j < by.Length; j++)
        {
            int jj = j;
            var src = keys[j];
            outCols.Add(src switch
            {
                DoubleDataFrameColumn => new DoubleDataFrameColumn(by[j], order.Select(id => Convert.ToDouble(groups[id].Key[jj]))),
                Int32DataFrameColumn => new Int32DataFrameColumn(by[j], order.Select(id => Convert.ToInt32(groups[id].Key[jj]))),
                _ => new StringDataFrameColumn(by[j], order.Select(id => Convert.ToString(groups[id].Key[jj], System.Globalization.CultureInfo.InvariantCulture))),
            });
        }
        outCols.Add(new DoubleDataFrameColumn("mean", order.Select(id => groups[id].Count == 0 ? double.NaN : groups[id].Sum / groups[id].Count)));
        outCols.Add(new Int32DataFrameColumn("count", order.Select(id => groups[id].Count)));
        return new DataFrame(outCols);
    }
}
