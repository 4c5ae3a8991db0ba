using Ensemble.Core;
using Ensemble.Scoring.Tables;
using Ensemble.TestSupport;
using Xunit;

namespace Ensemble.Scoring.Tests.Tables;

public class ScoreTableTests
{
    static ScoreTable Sample()
    {
        var rows = new List<ScoreRow>
        {
            new("sfno", "z500", "2024-01-01T00:00:00", 24, "crps", 12.5, 16, "coslat"),
            new("sfno", "z500", "2024-01-02T00:00:00", 24, "crps", 13.5, 16, "coslat"),
            new("sfno", "z500", "", 24, "crps", 13.0, 16, "coslat"),
            new("sfno", "t850", "", 24, "rmse", 1.0 / 3, 16, "coslat"),
            new("sfno", "t850", "", 48, "rmse", 2.0 / 3, 16, "coslat"),
            new("ifs, \"hres\"", "t850", "", 48, "rmse", double.NaN, 1, "none"),
        };
        return new ScoreTable(rows);
    }

    [Fact]
    public async Task Parquet_and_csv_round_trip_every_column_exactly()
    {
        using var dir = new TempDir();
        var table = Sample();
        table.Metadata["ssr_correction"] = "fortin";
        string csv = table.WriteParquetAndCsv(dir.File("scores.parquet"));
        Assert.Equal(dir.File("scores.csv"), csv);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));

        var fromParquet = ScoreTable.ReadParquet(dir.File("scores.parquet"));
        var fromCsv = ScoreTable.ReadCsv(csv);
        Assert.Equal(table.Rows, fromParquet.Rows);   // record equality: NaN == NaN for double.Equals
        Assert.Equal(table.Rows, fromCsv.Rows);
        Assert.Equal("fortin", fromParquet.Metadata["ssr_correction"]);
        Assert.Equal(string.Join(',', ScoreTable.Columns), File.ReadLines(csv).First());
        // The Parquet schema carries the snake_case column names other tools (pandas, polars) will see.
        using var fs = File.OpenRead(dir.File("scores.parquet"));
        var schema = await Parquet.ParquetReader.ReadSchemaAsync(fs);
        Assert.Equal(ScoreTable.Columns, schema.GetDataFields().Select(f => f.Name).ToArray());
    }

    [Fact]
    public void DataFrame_summary_means_by_model_variable_metric()
    {
        var df = Sample().ToDataFrame();
        Assert.Equal(ScoreTable.Columns, df.Columns.Select(c => c.Name).ToArray());
        Assert.Equal(6, df.Rows.Count);
        var s = ScoreTable.Summarise(df);
        Assert.Equal(3, s.Rows.Count);
        // z500 crps: mean of 12.5, 13.5, 13.0; t850 rmse sfno: mean of 1/3, 2/3; the NaN row has count 0.
        Assert.Equal("z500", s.Columns["variable"][0]);
        Assert.Equal(13.0, (double)s.Columns["mean"][0]!, 12);
        Assert.Equal(3, s.Columns["count"][0]);
        Assert.Equal(0.5, (double)s.Columns["mean"][1]!, 12);
        Assert.True(double.IsNaN((double)s.Columns["mean"][2]!));
        Assert.Equal(0, s.Columns["count"][2]);

        var byLead = ScoreTable.Summarise(df, "lead_time_hours");
        Assert.Equal(2, byLead.Rows.Count);
        Assert.Equal(48.0, byLead.Columns["lead_time_hours"][1]);
        Assert.Throws<EnsembleException>(() => ScoreTable.Summarise(df, "nope"));
    }

    [Fact]
    public void Bad_files_are_user_errors()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.csv"), "a,b\n1,2\n");
        File.WriteAllText(dir.File("bad.parquet"), "not parquet at all");
        Assert.Throws<EnsembleException>(() => ScoreTable.ReadCsv(dir.File("bad.csv")));
        Assert.Throws<EnsembleException>(() => ScoreTable.ReadParquet(dir.File("bad.parquet")));
        Assert.Throws<EnsembleException>(() => ScoreTable.ReadCsv(dir.File("missing.csv")));
    }
}
