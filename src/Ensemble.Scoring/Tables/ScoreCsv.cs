using System.Globalization;
using System.Text;
using Ensemble.Core;

namespace Ensemble.Scoring.Tables;

/// <summary>
/// CSV form of a score table: header = <see cref="ScoreTable.Columns"/>, invariant culture, values with
/// round-trip precision ("R"), NaN as "NaN"; text fields quoted when they hold a comma, quote or newline.
/// </summary>
public static class ScoreCsv
{
    public static void Write(IEnumerable<ScoreRow> rows, string path)
    {
        var sb = new StringBuilder();
        sb.Append(string.Join(',', ScoreTable.Columns)).Append('\n');
        foreach (var r in rows)
        {
            sb.Append(Quote(r.Model)).Append(',').Append(Quote(r.Variable)).Append(',').Append(Quote(r.InitTime)).Append(',')
              .Append(r.LeadTimeHours.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(Quote(r.Metric)).Append(',')
              .Append(r.Value.ToString("R", CultureInfo.InvariantCulture)).Append(',')
              .Append(r.Members.ToString(CultureInfo.InvariantCulture)).Append(',').Append(Quote(r.Weighting)).Append('\n');
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    public static List<ScoreRow> Read(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: score CSV not found");
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0].Trim() != string.Join(',', ScoreTable.Columns))
            throw new EnsembleException($"{path}: not a score table (header must be '{string.Join(',', ScoreTable.Columns)}')");
        var rows = new List<ScoreRow>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            var f = Split(lines[i]);
            if (f.Count != ScoreTable.Columns.Length)
                throw new EnsembleException($"{path}: line {i + 1} has {f.Count} fields, expected {ScoreTable.Columns.Length}");
            try
            {
                rows.Add(new ScoreRow(f[0], f[1], f[2], double.Parse(f[3], CultureInfo.InvariantCulture), f[4],
                    double.Parse(f[5], CultureInfo.InvariantCulture), int.Parse(f[6], CultureInfo.InvariantCulture), f[7]));
            }
            catch (FormatException)
            {
                throw new EnsembleException($"{path}: line {i + 1} has a non-numeric lead_time_hours, value or n_members");
            }
        }
        return rows;
    }

    static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    static List<string> Split(string line)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }
}
