using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.Hdf5;

namespace Ensemble.Data.Conversion;

/// <summary>
/// Makani/FourCastNet HDF5 year files (<c>YYYY.h5</c>, <c>fields [time, channel, lat, lon]</c>) with the channel names,
/// grid and <c>dhours</c> from <c>data.json</c> as a one-member layout of analyses: time of index i in a year file =
/// 1 January 00Z + i·dhours, lead time 0, one variable per channel. Either a folder of year files (data.json in it or
/// its parent) or one year file (data.json beside it or one folder up).
/// </summary>
internal sealed class MakaniSource : IConversionSource
{
    readonly List<MakaniYearReader> _years = [];
    readonly (int Year, int Index)[] _timeAt;
    readonly Dictionary<string, int> _channel;
    (int Time, float[] Values)? _cache;

    /// <summary>True when <paramref name="path"/> looks like Makani data: a folder of YYYY.h5 or such a file, with a data.json.</summary>
    public static bool Recognises(string path)
    {
        if (Directory.Exists(path))
            return YearFiles(path).Any() && MetadataPath(path) is not null;
        return File.Exists(path) && IsYearName(path) && MetadataPath(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!) is not null;
    }

    static bool IsYearName(string f) =>
        f.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) && int.TryParse(System.IO.Path.GetFileNameWithoutExtension(f), out _);

    static IEnumerable<string> YearFiles(string folder) => Directory.GetFiles(folder, "*.h5").Where(IsYearName).Order(StringComparer.Ordinal);

    static string? MetadataPath(string folder)
    {
        string full = System.IO.Path.GetFullPath(folder);
        return new[] { System.IO.Path.Combine(full, "data.json"), System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full) ?? full, "data.json") }
            .FirstOrDefault(File.Exists);
    }

    public MakaniSource(string path, string? model)
    {
        Name = path;
        bool folder = Directory.Exists(path);
        string dir = folder ? path : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        string meta = MetadataPath(dir) ?? throw new EnsembleException($"{path}: no data.json beside the Makani year files or one folder up");
        var md = MakaniMetadata.Read(meta);
        var files = folder ? YearFiles(path).ToList() : [path];
        if (files.Count == 0) throw new EnsembleException($"{path}: no YYYY.h5 year files");
        try
        {
            var timeAt = new List<(int, int)>();
            var times = new List<DateTime>();
            foreach (var f in files)
            {
                var r = MakaniYearFile.Open(f, md.DHours);
                _years.Add(r);
                if (r.Shape[1] != md.Channels.Length || r.Shape[2] != md.Lat.Length || r.Shape[3] != md.Lon.Length)
                    throw new EnsembleException($"{f}: fields [{string.Join(", ", r.Shape)}] do not match {meta} ({md.Channels.Length} channels, {md.Lat.Length}×{md.Lon.Length})");
                if (r.Channels.Length > 0 && !r.Channels.SequenceEqual(md.Channels))
                    throw new EnsembleException($"{f}: channel names differ from {meta}");
                for (int i = 0; i < r.Shape[0]; i++)
                {
                    times.Add(DateTime.SpecifyKind(r.TimeOf(i), DateTimeKind.Utc));
                    timeAt.Add((_years.Count - 1, i));
                }
            }
            var dup = times.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1);
            if (dup is not null) throw new EnsembleException($"{path}: time {dup.Key:yyyy-MM-dd HH:mm} occurs in two year files");
            if (times.Count == 0) throw new EnsembleException($"{path}: the year files hold no times");
            _timeAt = timeAt.ToArray();
            _channel = md.Channels.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i);
            var attrs = new Dictionary<string, string> { ["source_format"] = "makani", ["dhours"] = md.DHours.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (md.DatasetName.Length > 0) attrs["dataset_name"] = md.DatasetName;
            if (model is not null) attrs["model"] = model;
            Layout = new EnsembleLayout(md.Channels, new Dictionary<string, string>(), times, [0.0], 1, md.Lat, md.Lon, null, attrs);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }
    public EnsembleLayout Layout { get; }

    public IEnumerable<(int Member, int Time, int Lead)> Slots() => Enumerable.Range(0, _timeAt.Length).Select(t => (0, t, 0));

    public float[]? Read(string variable, int member, int time, int lead)
    {
        if (member != 0 || lead != 0) return null;
        // Channels of one time are read together and served from this cache (the converter asks for them in a row).
        if (_cache is not { } c || c.Time != time)
        {
            var (y, i) = _timeAt[time];
            _cache = c = (time, _years[y].ReadTime(i));
        }
        int n = Layout.Nlat * Layout.Nlon;
        return c.Values.AsSpan(_channel[variable] * n, n).ToArray();
    }

    public void Dispose()
    {
        foreach (var r in _years) r.Dispose();
        _years.Clear();
    }
}
