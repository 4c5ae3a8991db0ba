using Ensemble.Core;
using Ensemble.Data.Grib;

namespace Ensemble.Scoring.Pipeline;

/// <summary>A GRIB message with our variable name; values decoded north → south on demand.</summary>
internal sealed record GribField(string Path, GribMessage Message, string Variable, GribGrid Grid)
{
    public double[] Values() => Grid.Values;
}

internal static class GribFields
{
    /// <summary>Decodes the selected messages of all files (grids north → south).</summary>
    public static List<GribField> Read(IReadOnlyList<string> paths, Func<GribMessage, bool> select)
    {
        if (paths.Count == 0) throw new EnsembleException("GRIB scoring input: no files given");
        var list = new List<GribField>();
        foreach (var p in paths)
        {
            using var f = GribFile.Open(p);
            foreach (var m in f.Messages.Where(select))
                list.Add(new GribField(p, m, GribVariableNames.Of(m), m.ToGrid()));
        }
        return list;
    }

    /// <summary>The one grid all fields share, or an error naming the first field on a different grid.</summary>
    public static ScoreGrid CommonGrid(List<GribField> fields, string source)
    {
        var first = fields[0];
        var grid = new ScoreGrid(first.Grid.Latitudes, first.Grid.Longitudes);
        foreach (var f in fields.Skip(1))
            grid.RequireSame(new ScoreGrid(f.Grid.Latitudes, f.Grid.Longitudes),
                $"{first.Path} message {first.Message.Index} ({first.Variable})", $"{f.Path} message {f.Message.Index} ({f.Variable})");
        return grid;
    }
}
