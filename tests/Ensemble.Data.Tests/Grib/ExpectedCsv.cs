using System.Globalization;

namespace Ensemble.Data.Tests.Grib;

/// <summary>One ecCodes reference decode (<c>shared/data/_expected/*.grib.csv</c>): a header row, then one row per message.</summary>
internal sealed class ExpectedCsv
{
    public required IReadOnlyList<string> Columns { get; init; }
    public required IReadOnlyList<IReadOnlyDictionary<string, string>> Rows { get; init; }

    public static ExpectedCsv Load(string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToArray();
        var columns = lines[0].Split(',');
        var rows = new List<IReadOnlyDictionary<string, string>>();
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(','); // no quoted cells in these files
            if (cells.Length != columns.Length) throw new InvalidDataException($"{path}: row has {cells.Length} cells, header {columns.Length}");
            rows.Add(columns.Zip(cells).ToDictionary(p => p.First, p => p.Second));
        }
        return new ExpectedCsv { Columns = columns, Rows = rows };
    }

    public static double Num(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
}
