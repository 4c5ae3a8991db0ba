using System.Globalization;
using System.IO.Compression;
using Ensemble.Core;
using Ensemble.Data.Npy;
using Ensemble.Scoring.Extremes;
using Ensemble.Scoring.Pipeline;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Climate;

/// <summary>How an M-climate is built from hindcasts (docs/algorithms/scoring.md §9).</summary>
public sealed class ClimateBuildOptions
{
    /// <summary>Hindcasts initialised within ± this many days (day of year, circular) of a window centre form its sample.</summary>
    public int WindowHalfWidthDays { get; init; } = 15;
    /// <summary>Window centres every this many days of the year, starting at day 1.</summary>
    public int StepDays { get; init; } = 7;
    /// <summary>Windows whose sample (members × initial times) is smaller than this are not stored.</summary>
    public int MinSamples { get; init; } = 2;
}

/// <summary>
/// Model climate (M-climate) file: 101 percentiles (0 … 100) per grid point, per variable, lead time and
/// day-of-year window, built from our own hindcasts. Format: an uncompressed .npz (zip of .npy, loadable with
/// numpy) holding <c>lat</c>, <c>lon</c> [float64], <c>lead_time_hours</c> [L], <c>window_half_width_days</c> [1],
/// and per variable v and window centre day d (1 … 366): <c>pct__{v}__d{ddd}</c> [L, 101, lat, lon] float32 and
/// <c>count__{v}__d{ddd}</c> [L] int64 (sample size per lead). One entry per window keeps reading and
/// writing at one window's memory.
/// </summary>
public sealed class ModelClimateFile
{
    const string Pct = "pct__", Count = "count__";

    readonly string _path;
    readonly Dictionary<string, SortedDictionary<int, string>> _entries; // variable → centre day → entry name
    readonly Dictionary<string, Tensor> _cache = new();

    ModelClimateFile(string path, double[] lat, double[] lon, double[] leads, int halfWidth, Dictionary<string, SortedDictionary<int, string>> entries)
    {
        _path = path; Lat = lat; Lon = lon; LeadHours = leads; WindowHalfWidthDays = halfWidth; _entries = entries;
    }

    public string Path => _path;
    public double[] Lat { get; }
    public double[] Lon { get; }
    public double[] LeadHours { get; }
    public int WindowHalfWidthDays { get; }
    public IReadOnlyCollection<string> Variables => _entries.Keys;

    /// <summary>Window centre days of a variable.</summary>
    public IReadOnlyList<int> CentreDays(string variable) =>
        _entries.TryGetValue(variable, out var e) ? e.Keys.ToList() : [];

    /// <summary>Circular day-of-year distance on a 365-day year (day 366 is next to day 1).</summary>
    public static int DayDistance(int a, int b)
    {
        int d = Math.Abs(a - b) % 365;
        return Math.Min(d, 365 - d);
    }

    /// <summary>
    /// Builds the climate from hindcast ensembles (our output layout, GRIB, …) and writes it to <paramref name="path"/>.
    /// Sample of a (variable, lead, window) = every member of every hindcast whose initial time's day of year
    /// lies within the window. All hindcasts must share one grid; leads are those of the first hindcast holding the variable.
    /// </summary>
    public static ModelClimateFile Build(IReadOnlyList<ForecastSet> hindcasts, string path, ClimateBuildOptions? options = null, IProgress<string>? progress = null)
    {
        options ??= new ClimateBuildOptions();
        if (hindcasts.Count == 0) throw new EnsembleException("climate build: no hindcasts given");
        if (options.WindowHalfWidthDays < 0 || options.StepDays < 1 || options.MinSamples < 2)
            throw new EnsembleException($"climate build: window half width {options.WindowHalfWidthDays} must be ≥ 0, step {options.StepDays} ≥ 1, min samples {options.MinSamples} ≥ 2");
        var grid = hindcasts[0].Grid;
        foreach (var h in hindcasts.Skip(1)) grid.RequireSame(h.Grid, $"hindcast {hindcasts[0].Source}", $"hindcast {h.Source}");
        var names = hindcasts.SelectMany(h => h.Variables.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        double[] leads = hindcasts.SelectMany(h => h.Variables.Values).First().LeadHours;
        foreach (var h in hindcasts)
            foreach (var v in h.Variables.Values)
                foreach (var l in leads)
                    if (!v.LeadHours.Contains(l))
                        throw new EnsembleException($"climate build: {h.Source} '{v.Name}' has no lead {l} h (leads must agree across hindcasts: {string.Join(", ", leads)})");

        var entries = new Dictionary<string, SortedDictionary<int, string>>();
        string tmp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var fs = File.Create(tmp))
            using (var zip = new ZipArchive(fs, ZipArchiveMode.Create))
            {
                Put(zip, "lat", NpyArray.FromDoubles(grid.Latitudes, grid.Nlat));
                Put(zip, "lon", NpyArray.FromDoubles(grid.Longitudes, grid.Nlon));
                Put(zip, "lead_time_hours", NpyArray.FromDoubles(leads, leads.Length));
                Put(zip, "window_half_width_days", NpyArray.FromDoubles([options.WindowHalfWidthDays], 1));
                foreach (var name in names)
                {
                    var sources = hindcasts.Where(h => h.Variables.ContainsKey(name)).Select(h => h.Variables[name]).ToList();
                    for (int centre = 1; centre <= 366; centre += options.StepDays)
                    {
                        var counts = new long[leads.Length];
                        var perLead = new List<Tensor>();
                        using var scope = NewDisposeScope();
                        for (int li = 0; li < leads.Length; li++)
                        {
                            var sample = new List<Tensor>();
                            foreach (var v in sources)
                            {
                                int l = Array.IndexOf(v.LeadHours, leads[li]);
                                for (int t = 0; t < v.InitTimes.Length; t++)
                                    if (DayDistance(v.InitTimes[t].DayOfYear, centre) <= options.WindowHalfWidthDays)
                                        sample.Add(v.Data[.., t, l]);
                            }
                            if (sample.Count == 0) break;
                            var s = cat(sample, 0);
                            counts[li] = s.shape[0];
                            if (counts[li] < options.MinSamples) break;
                            perLead.Add(ModelClimate.FromSample(s).Values.to(ScalarType.Float32));
                        }
                        if (perLead.Count < leads.Length) continue;
                        string key = $"{name}__d{centre:000}";
                        Put(zip, Pct + key, NpyArray.FromTensor(stack(perLead, 0).contiguous()));
                        Put(zip, Count + key, new NpyArray("<i8", [leads.Length], counts.SelectMany(BitConverter.GetBytes).ToArray()));
                        if (!entries.TryGetValue(name, out var d)) entries[name] = d = new SortedDictionary<int, string>();
                        d[centre] = Pct + key;
                        progress?.Report($"{name}: window centred on day {centre}: {counts.Min()} samples per point");
                    }
                }
            }
            if (entries.Count == 0)
                throw new EnsembleException($"climate build: no window holds {options.MinSamples} or more samples (hindcast initial days: {string.Join(", ", hindcasts.SelectMany(h => h.Variables.Values).SelectMany(v => v.InitTimes).Select(t => t.DayOfYear).Distinct().Order())})");
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return Open(path);
    }

    static void Put(ZipArchive zip, string name, NpyArray a)
    {
        var e = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
        e.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);   // fixed: the same climate gives the same bytes
        using var s = e.Open();
        NpyFile.Write(s, a);
    }

    /// <summary>Opens a climate file, reading only its index and coordinates.</summary>
    public static ModelClimateFile Open(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: model climate file not found");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            NpyArray Get(string n) =>
                zip.GetEntry(n + ".npy") is { } e ? ReadEntry(e, path) : throw new EnsembleException($"{path}: not a model climate file (no '{n}' array)");
            var lat = Get("lat").ToDoubles();
            var lon = Get("lon").ToDoubles();
            var leads = Get("lead_time_hours").ToDoubles();
            int half = (int)Get("window_half_width_days").ToDoubles()[0];
            var entries = new Dictionary<string, SortedDictionary<int, string>>();
            foreach (var e in zip.Entries)
            {
                if (!e.FullName.StartsWith(Pct, StringComparison.Ordinal) || !e.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string key = e.FullName[Pct.Length..^4];
                int sep = key.LastIndexOf("__d", StringComparison.Ordinal);
                if (sep < 0 || !int.TryParse(key[(sep + 3)..], NumberStyles.None, CultureInfo.InvariantCulture, out int day))
                    throw new EnsembleException($"{path}: malformed climate entry '{e.FullName}'");
                string v = key[..sep];
                if (!entries.TryGetValue(v, out var d)) entries[v] = d = new SortedDictionary<int, string>();
                d[day] = e.FullName[..^4];
            }
            if (entries.Count == 0) throw new EnsembleException($"{path}: model climate file holds no percentile windows");
            return new ModelClimateFile(path, lat, lon, leads, half, entries);
        }
        catch (InvalidDataException e)
        {
            throw new EnsembleException($"{path}: not a valid .npz model climate ({e.Message})");
        }
    }

    static NpyArray ReadEntry(ZipArchiveEntry e, string path)
    {
        using var s = e.Open();
        return NpyFile.Read(s, $"{path}:{e.FullName}");
    }

    /// <summary>The window centre nearest to <paramref name="dayOfYear"/> (ties: the earlier), or an error naming the gap.</summary>
    public int NearestCentre(string variable, int dayOfYear)
    {
        if (!_entries.TryGetValue(variable, out var days))
            throw new EnsembleException($"{_path}: no model climate for '{variable}' (variables: {string.Join(", ", _entries.Keys)})");
        int best = days.Keys.MinBy(d => (DayDistance(d, dayOfYear), d));
        if (DayDistance(best, dayOfYear) > WindowHalfWidthDays)
            throw new EnsembleException($"{_path}: no climate window of '{variable}' covers day {dayOfYear} (nearest centre day {best}, half width {WindowHalfWidthDays} d)");
        return best;
    }

    /// <summary>Percentiles [101, lat, lon] (float64) of <paramref name="variable"/> for a forecast initialised at <paramref name="init"/>, at lead <paramref name="leadHours"/>.</summary>
    public Tensor Percentiles(string variable, DateTime init, double leadHours)
    {
        int li = Array.IndexOf(LeadHours, leadHours);
        if (li < 0) throw new EnsembleException($"{_path}: no model climate at lead {leadHours} h (leads: {string.Join(", ", LeadHours)})");
        string entry = _entries[variable][NearestCentre(variable, init.DayOfYear)];
        if (!_cache.TryGetValue(entry, out var all))
        {
            using var zip = ZipFile.OpenRead(_path);
            var a = ReadEntry(zip.GetEntry(entry + ".npy")!, _path);
            if (a.Shape.Length != 4 || a.Shape[0] != LeadHours.Length || a.Shape[1] != ModelClimate.Count || a.Shape[2] != Lat.Length || a.Shape[3] != Lon.Length)
                throw new EnsembleException($"{_path}: entry '{entry}' has shape ({string.Join(", ", a.Shape)}), expected ({LeadHours.Length}, 101, {Lat.Length}, {Lon.Length})");
            using var t = a.ToTensor();
            // Cached across the callers' dispose scopes.
            all = t.to(ScalarType.Float64).DetachFromDisposeScope();
            _cache[entry] = all;
        }
        return all[li];
    }

    /// <summary>Checks that the climate is on the forecast's grid.</summary>
    public void RequireGrid(ScoreGrid grid, string what) =>
        new ScoreGrid(Lat, Lon).RequireSame(grid, $"model climate {_path}", what);
}
