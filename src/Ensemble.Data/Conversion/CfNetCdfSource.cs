using System.Globalization;
using Ensemble.Core;
using Ensemble.Data.EnsembleOutput;
using Ensemble.Data.NetCdf;

namespace Ensemble.Data.Conversion;

/// <summary>
/// A generic CF netCDF-3/4 file of analyses or other fields: every variable whose last two dimensions are latitude and
/// longitude and whose other dimensions are a CF time, a vertical level and/or an ensemble member becomes one
/// variable per level (name + level in hPa, e.g. t500) at lead time 0. A scalar CF time stands for the time of
/// (lat, lon) fields. Values are CF-decoded (unpacked, fill → NaN) and stored as float32; units are kept.
/// </summary>
internal sealed class CfNetCdfSource : IConversionSource
{
    static readonly string[] LatNames = ["lat", "latitude", "nav_lat", "y"];
    static readonly string[] LonNames = ["lon", "longitude", "nav_lon", "x"];
    static readonly string[] LevelNames = ["level", "lev", "plev", "pressure", "isobaricInhPa", "pressure_level", "pressure_levels"];
    static readonly string[] MemberNames = ["ensemble", "member", "number", "realization", "ens"];

    /// <summary>One output variable: a netCDF variable at one level, with where its dimensions are.</summary>
    sealed record Field(string NcName, string OutName, int Rank, int LatAxis, int TimeAxis, int LevelAxis, int LevelIndex, int MemberAxis, int[] GlobalTimeToLocal);

    readonly NetCdfFile _nc;
    readonly Dictionary<string, Field> _fields = [];

    public CfNetCdfSource(string path, string? model)
    {
        Name = path;
        _nc = NetCdfFile.Open(path);
        try
        {
            Layout = Build(model);
        }
        catch
        {
            _nc.Dispose();
            throw;
        }
    }

    public string Name { get; }
    public EnsembleLayout Layout { get; }

    EnsembleLayout Build(string? model)
    {
        string? latDim = _nc.Dimensions.Select(d => d.Name).FirstOrDefault(d => LatNames.Contains(d, StringComparer.OrdinalIgnoreCase));
        string? lonDim = _nc.Dimensions.Select(d => d.Name).FirstOrDefault(d => LonNames.Contains(d, StringComparer.OrdinalIgnoreCase));
        if (latDim is null || lonDim is null)
            throw new EnsembleException($"{Name}: no latitude/longitude dimensions (looked for {string.Join("/", LatNames)} and {string.Join("/", LonNames)}; has {string.Join(", ", _nc.Dimensions.Select(d => d.Name))})");
        double[] lat = _nc.HasVariable(latDim) ? _nc.ReadDoubles(latDim) : throw new EnsembleException($"{Name}: no coordinate variable '{latDim}'");
        double[] lon = _nc.HasVariable(lonDim) ? _nc.ReadDoubles(lonDim) : throw new EnsembleException($"{Name}: no coordinate variable '{lonDim}'");

        // Time coordinates: a 1-D variable named like its dimension with "<unit> since <date>" units, or a scalar one.
        var timeCoords = _nc.Variables
            .Where(v => Cf.CfTimeUnits.IsTimeUnits(v.TextAttribute("units")) && (v.Rank == 0 || v.Rank == 1 && v.Dimensions[0] == v.Name))
            .ToDictionary(v => v.Rank == 0 ? "" : v.Name, v => _nc.Times(v.Name).Select(t => DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToArray());
        var coordNames = new HashSet<string>(_nc.Dimensions.Select(d => d.Name)) { latDim, lonDim };

        var candidates = new List<(NcVariable V, int TimeAxis, string TimeKey, int LevelAxis, int MemberAxis)>();
        foreach (var v in _nc.Variables)
        {
            if (coordNames.Contains(v.Name) || v.Type is NcType.Char or NcType.String || v.Rank < 2) continue;
            if (v.Dimensions[^2] != latDim || v.Dimensions[^1] != lonDim) continue;
            int timeAxis = -1, levelAxis = -1, memberAxis = -1;
            bool ok = true;
            for (int a = 0; a < v.Rank - 2 && ok; a++)
            {
                string d = v.Dimensions[a];
                if (timeCoords.ContainsKey(d) && timeAxis < 0) timeAxis = a;
                else if (LevelNames.Contains(d, StringComparer.OrdinalIgnoreCase) && levelAxis < 0) levelAxis = a;
                else if (MemberNames.Contains(d, StringComparer.OrdinalIgnoreCase) && memberAxis < 0) memberAxis = a;
                else ok = false;
            }
            if (!ok) continue;
            string timeKey = timeAxis >= 0 ? v.Dimensions[timeAxis] : "";
            if (!timeCoords.ContainsKey(timeKey)) continue;
            candidates.Add((v, timeAxis, timeKey, levelAxis, memberAxis));
        }
        if (candidates.Count == 0)
            throw new EnsembleException($"{Name}: no variable with dimensions (time, [level,] {latDim}, {lonDim}) and a CF time coordinate; variables: {string.Join(", ", _nc.Variables.Select(v => v.ToString()))}");

        var times = candidates.SelectMany(c => timeCoords[c.TimeKey]).Distinct().Order().ToArray();
        int members = candidates.Max(c => c.MemberAxis >= 0 ? (int)c.V.Shape[c.MemberAxis] : 1);
        var units = new Dictionary<string, string>();
        foreach (var c in candidates)
        {
            var local = timeCoords[c.TimeKey];
            var map = times.Select(t => Array.IndexOf(local, t)).ToArray();
            var levels = c.LevelAxis >= 0 ? LevelSuffixes(c.V.Dimensions[c.LevelAxis]) : [""];
            for (int k = 0; k < levels.Length; k++)
            {
                string outName = c.V.Name + levels[k];
                if (_fields.ContainsKey(outName))
                    throw new EnsembleException($"{Name}: variable name '{outName}' would occur twice (a variable and a level of another)");
                _fields[outName] = new Field(c.V.Name, outName, c.V.Rank, c.V.Rank - 2, c.TimeAxis, c.LevelAxis, k, c.MemberAxis, map);
                if (c.V.TextAttribute("units") is { } u) units[outName] = u;
            }
        }
        var attrs = new Dictionary<string, string> { ["source_format"] = _nc.Format };
        foreach (var a in _nc.GlobalAttributes)
            if (a.Text is { } text && a.Name is not ("Conventions" or "software" or "software_version" or EnsembleZarrLayout.VariablesAttribute))
                attrs[a.Name] = text;
        if (model is not null) attrs["model"] = model;
        var variables = _fields.Keys.Order(StringComparer.Ordinal).ToList();
        return new EnsembleLayout(variables, units, times, [0.0], members, lat, lon, null, attrs);
    }

    /// <summary>Level suffixes in hPa ("500"), converting Pa; other vertical units keep their numbers.</summary>
    string[] LevelSuffixes(string dim)
    {
        if (!_nc.HasVariable(dim))
            throw new EnsembleException($"{Name}: level dimension '{dim}' has no coordinate variable, so its levels cannot name the variables");
        var values = _nc.ReadDoubles(dim);
        string units = (_nc.Variable(dim).TextAttribute("units") ?? "").Trim();
        double scale = units is "Pa" or "pa" ? 0.01 : 1;
        var names = values.Select(x => (x * scale).ToString("0.###", CultureInfo.InvariantCulture)).ToArray();
        if (names.Distinct().Count() != names.Length)
            throw new EnsembleException($"{Name}: levels of '{dim}' repeat ({string.Join(", ", names)})");
        return names;
    }

    public IEnumerable<(int Member, int Time, int Lead)> Slots()
    {
        var slots = new SortedSet<(int, int, int)>();
        foreach (var f in _fields.Values)
        {
            int m = f.MemberAxis >= 0 ? Layout.Members : 1;
            for (int t = 0; t < f.GlobalTimeToLocal.Length; t++)
                if (f.GlobalTimeToLocal[t] >= 0)
                    for (int i = 0; i < m; i++) slots.Add((i, t, 0));
        }
        return slots;
    }

    public float[]? Read(string variable, int member, int time, int lead)
    {
        var f = _fields[variable];
        int local = f.GlobalTimeToLocal[time];
        if (local < 0 || lead != 0) return null;
        var v = _nc.Variable(f.NcName);
        if (f.MemberAxis < 0 ? member != 0 : member >= v.Shape[f.MemberAxis]) return null;
        var starts = new long[f.Rank];
        var counts = new long[f.Rank];
        for (int a = 0; a < f.Rank; a++) counts[a] = 1;
        counts[f.LatAxis] = v.Shape[f.LatAxis];
        counts[f.LatAxis + 1] = v.Shape[f.LatAxis + 1];
        if (f.TimeAxis >= 0) starts[f.TimeAxis] = local;
        if (f.LevelAxis >= 0) starts[f.LevelAxis] = f.LevelIndex;
        if (f.MemberAxis >= 0) starts[f.MemberAxis] = member;
        return Array.ConvertAll(_nc.ReadSlice(f.NcName, starts, counts), x => (float)x);
    }

    public void Dispose() => _nc.Dispose();
}
