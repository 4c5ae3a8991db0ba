using System.Globalization;
using System.Text;

namespace Ensemble.Data.Grib;

/// <summary>A grib_ls-like listing of a GRIB file (headers only; no values are decoded).</summary>
public static class GribInspect
{
    static readonly string[] Columns =
        ["edition", "centre", "dataType", "shortName", "typeOfLevel", "level", "dataDate", "dataTime", "stepRange", "number", "gridType", "NixNj"];

    /// <summary>One header line, one line per field, then "N messages in PATH" (GRIB2 fields counted separately).</summary>
    public static string Describe(string path)
    {
        using var file = GribFile.Open(path);
        var rows = new List<string[]> { Columns };
        foreach (var m in file.Messages)
        {
            rows.Add([
                m.Edition.ToString(CultureInfo.InvariantCulture),
                m.Centre,
                m.DataType,
                m.ShortName,
                m.TypeOfLevel,
                m.Level.ToString("0.######", CultureInfo.InvariantCulture),
                m.ReferenceTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
                m.ReferenceTime.ToString("HHmm", CultureInfo.InvariantCulture),
                m.StepRange,
                m.PerturbationNumber?.ToString(CultureInfo.InvariantCulture) ?? "-",
                m.GridType,
                $"{m.Ni}x{m.Nj}",
            ]);
        }
        var widths = Enumerable.Range(0, Columns.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        text.Append(path).Append('\n');
        foreach (var row in rows)
            text.Append(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd()).Append('\n');
        int messages = file.Messages.Select(m => m.MessageNumber).Distinct().Count();
        text.Append(CultureInfo.InvariantCulture, $"{file.Messages.Count} fields in {messages} messages in {path}\n");
        return text.ToString();
    }
}
