using Ensemble.Core;
using Ensemble.Data.Grib;
using Ensemble.Data.Cf;
using Ensemble.Data.NetCdf;
using Ensemble.Data.Zarr;
using static TorchSharp.torch;

namespace Ensemble.Scoring.Pipeline;

/// <summary>
/// Reads forecasts for scoring: our netCDF-4 output layout (one variable per array with dims
/// (ensemble, time, lead_time, lat, lon), CF "hours since" time, lead_time in duration units) or GRIB
/// (ENS: control cf = member 0 plus perturbed pf members; deterministic: fc, one member), grouped by
/// shortName + level into our variable names, init = reference time, lead = step (end of a step range).
/// </summary>
public static class ForecastReader
{
    static readonly string[] Layout = ["ensemble", "time", "lead_time", "lat", "lon"];

    /// <summary>Picks the reader by content: a folder is a zarr v2 store, else GRIB magic or netCDF.</summary>
    public static ForecastSet Open(string path, string? model = null) =>
        Directory.Exists(path) ? FromZarr(path, model) : IsGrib(path) ? FromGrib([path], model) : FromNetCdf(path, model);

    /// <summary>Zarr v2 store of the same layout (arrays with _ARRAY_DIMENSIONS, CF attributes on time and lead_time).</summary>
    public static ForecastSet FromZarr(string path, string? model = null)
    {
        var store = ZarrStore.Open(path);
        var arrays = store.ArrayNames.Select(store.OpenArray).Where(a => a.Dimensions.SequenceEqual(Layout)).ToList();
        if (arrays.Count == 0)
            throw new EnsembleException($"{path}: no zarr array with dimensions ({string.Join(", ", Layout)}); arrays: {string.Join(", ", store.ArrayNames)}");
        var inits = ZarrCoordinates.Times(store, "time");
        var leads = ZarrCoordinates.Durations(store, "lead_time").Select(d => d.TotalHours).ToArray();
        var grid = new ScoreGrid(ZarrCoordinates.Values(store, "lat"), ZarrCoordinates.Values(store, "lon"));
        var vars = new List<ForecastVariable>();
        foreach (var a in arrays)
        {
            using var t = tensor(a.ReadAll(), dtype: ScalarType.Float64).reshape(a.Shape);
            vars.Add(new ForecastVariable(a.Name, inits, leads, t));
        }
        string name = model ?? (store.Attributes["model"]?.GetValue<string>()) ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
        return new ForecastSet(name, path, deterministic: false, grid, vars);
    }

    public static ForecastSet FromNetCdf(string path, string? model = null)
    {
        using var nc = NetCdfFile.Open(path);
        var dataVars = nc.Variables.Where(v => v.Dimensions.SequenceEqual(Layout)).ToList();
        if (dataVars.Count == 0)
            throw new EnsembleException($"{path}: no variable with dimensions ({string.Join(", ", Layout)}); variables: {string.Join(", ", nc.Variables.Select(v => v.ToString()))}");
        var inits = nc.Times("time");
        var leads = nc.Durations("lead_time").Select(d => d.TotalHours).ToArray();
        var grid = new ScoreGrid(nc.ReadDoubles("lat"), nc.ReadDoubles("lon"));
        var vars = new List<ForecastVariable>();
        foreach (var v in dataVars)
        {
            using var t = tensor(nc.ReadDoubles(v.Name), dtype: ScalarType.Float64).reshape(v.Shape);
            vars.Add(new ForecastVariable(v.Name, inits, leads, t));
        }
        string name = model ?? nc.GlobalAttribute("model")?.Text ?? Path.GetFileNameWithoutExtension(path);
        return new ForecastSet(name, path, deterministic: false, grid, vars);
    }

    /// <summary>
    /// GRIB forecast from one or more files. Messages of type cf/pf form an ensemble (member = perturbation
    /// number, control 0); fc messages a deterministic forecast; other types (an …) are ignored. Every
    /// (member, init, lead) of a variable must be present exactly once.
    /// </summary>
    public static ForecastSet FromGrib(IReadOnlyList<string> paths, string? model = null)
    {
        string source = string.Join(", ", paths);
        var msgs = GribFields.Read(paths, m => m.DataType is "cf" or "pf" or "fc");
        if (msgs.Count == 0)
            throw new EnsembleException($"{source}: no forecast messages (dataType cf, pf or fc)");
        bool ens = msgs.Any(m => m.Message.DataType is "cf" or "pf");
        if (ens && msgs.Any(m => m.Message.DataType == "fc"))
            throw new EnsembleException($"{source}: mixes ensemble (cf/pf) and deterministic (fc) messages; score them separately");
        var grid = GribFields.CommonGrid(msgs, source);
        var vars = new List<ForecastVariable>();
        foreach (var g in msgs.GroupBy(m => m.Variable).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int Member(GribField f) => ens ? f.Message.PerturbationNumber ?? (f.Message.DataType == "cf" ? 0
                : throw new EnsembleException($"{source}: perturbed message {f.Message.Index} of '{g.Key}' has no perturbation number")) : 0;
            var members = g.Select(Member).Distinct().Order().ToArray();
            var inits = g.Select(f => f.Message.ReferenceTime).Distinct().Order().ToArray();
            var leads = g.Select(f => f.Message.Step.TotalHours).Distinct().Order().ToArray();
            int nlat = grid.Nlat, nlon = grid.Nlon, n = nlat * nlon;
            var data = new double[(long)members.Length * inits.Length * leads.Length * n];
            var filled = new bool[members.Length * inits.Length * leads.Length];
            foreach (var f in g)
            {
                int mi = Array.IndexOf(members, Member(f)), ti = Array.IndexOf(inits, f.Message.ReferenceTime),
                    li = Array.IndexOf(leads, f.Message.Step.TotalHours);
                int slot = (mi * inits.Length + ti) * leads.Length + li;
                if (filled[slot])
                    throw new EnsembleException($"{source}: '{g.Key}' member {members[mi]} init {inits[ti]:yyyy-MM-dd HH:mm} lead {leads[li]} h occurs twice (messages with the same keys)");
                filled[slot] = true;
                f.Values().CopyTo(data, (long)slot * n);
            }
            int missing = Array.IndexOf(filled, false);
            if (missing >= 0)
            {
                int li = missing % leads.Length, ti = missing / leads.Length % inits.Length, mi = missing / leads.Length / inits.Length;
                throw new EnsembleException($"{source}: '{g.Key}' has no message for member {members[mi]} at init {inits[ti]:yyyy-MM-dd HH:mm} lead {leads[li]} h ({filled.Count(b => !b)} of {filled.Length} fields missing)");
            }
            using var t = tensor(data, [members.Length, inits.Length, leads.Length, nlat, nlon], ScalarType.Float64);
            vars.Add(new ForecastVariable(g.Key, inits, leads, t));
        }
        string name = model ?? Path.GetFileNameWithoutExtension(paths[0]);
        return new ForecastSet(name, source, deterministic: !ens, grid, vars);
    }

    internal static bool IsGrib(string path)
    {
        if (!File.Exists(path)) throw new EnsembleException($"{path}: file not found");
        using var fs = File.OpenRead(path);
        Span<byte> head = stackalloc byte[4];
        return fs.Read(head) == 4 && head.SequenceEqual("GRIB"u8);
    }
}

/// <summary>Opens truth (verification) fields for scoring.</summary>
public static class TruthReader
{
    static readonly string[] Layout = ["time", "lat", "lon"];

    public static TruthSet Open(string path) =>
        Directory.Exists(path) ? FromZarr(path) : ForecastReader.IsGrib(path) ? FromGrib([path]) : FromNetCdf(path);

    /// <summary>Zarr v2 store with arrays of dims (time, lat, lon).</summary>
    public static TruthSet FromZarr(string path)
    {
        var store = ZarrStore.Open(path);
        var arrays = store.ArrayNames.Select(store.OpenArray).Where(a => a.Dimensions.SequenceEqual(Layout)).ToList();
        if (arrays.Count == 0)
            throw new EnsembleException($"{path}: no zarr array with dimensions ({string.Join(", ", Layout)}); arrays: {string.Join(", ", store.ArrayNames)}");
        var times = ZarrCoordinates.Times(store, "time");
        var grid = new ScoreGrid(ZarrCoordinates.Values(store, "lat"), ZarrCoordinates.Values(store, "lon"));
        var vars = new List<TruthVariable>();
        foreach (var a in arrays)
        {
            using var t = tensor(a.ReadAll(), dtype: ScalarType.Float64).reshape(a.Shape);
            vars.Add(new TruthVariable(a.Name, times, t));
        }
        return new TruthSet(path, grid, vars);
    }

    /// <summary>netCDF with variables of dims (time, lat, lon) and a CF time coordinate.</summary>
    public static TruthSet FromNetCdf(string path)
    {
        using var nc = NetCdfFile.Open(path);
        var dataVars = nc.Variables.Where(v => v.Dimensions.SequenceEqual(Layout)).ToList();
        if (dataVars.Count == 0)
            throw new EnsembleException($"{path}: no variable with dimensions ({string.Join(", ", Layout)}); variables: {string.Join(", ", nc.Variables.Select(v => v.ToString()))}");
        var times = nc.Times("time");
        var grid = new ScoreGrid(nc.ReadDoubles("lat"), nc.ReadDoubles("lon"));
        var vars = new List<TruthVariable>();
        foreach (var v in dataVars)
        {
            using var t = tensor(nc.ReadDoubles(v.Name), dtype: ScalarType.Float64).reshape(v.Shape);
            vars.Add(new TruthVariable(v.Name, times, t));
        }
        return new TruthSet(path, grid, vars);
    }

    /// <summary>GRIB analyses (dataType an) from one or more files; valid time = reference time + step.</summary>
    public static TruthSet FromGrib(IReadOnlyList<string> paths)
    {
        string source = string.Join(", ", paths);
        var msgs = GribFields.Read(paths, m => m.DataType == "an");
        if (msgs.Count == 0) throw new EnsembleException($"{source}: no analysis messages (dataType an)");
        var grid = GribFields.CommonGrid(msgs, source);
        var vars = new List<TruthVariable>();
        foreach (var g in msgs.GroupBy(m => m.Variable).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var byTime = g.GroupBy(f => f.Message.ValidTime).OrderBy(x => x.Key).ToList();
            var dup = byTime.FirstOrDefault(x => x.Count() > 1);
            if (dup is not null)
                throw new EnsembleException($"{source}: '{g.Key}' has {dup.Count()} analyses valid at {dup.Key:yyyy-MM-dd HH:mm} (an ensemble of analyses? pass one member)");
            int n = grid.Nlat * grid.Nlon;
            var data = new double[(long)byTime.Count * n];
            for (int i = 0; i < byTime.Count; i++) byTime[i].First().Values().CopyTo(data, (long)i * n);
            using var t = tensor(data, [byTime.Count, grid.Nlat, grid.Nlon], ScalarType.Float64);
            vars.Add(new TruthVariable(g.Key, byTime.Select(x => x.Key).ToArray(), t));
        }
        return new TruthSet(source, grid, vars);
    }
}

/// <summary>CF coordinates of a zarr store (units and calendar in the array attributes).</summary>
internal static class ZarrCoordinates
{
    public static double[] Values(ZarrStore store, string name)
    {
        if (!store.HasArray(name)) throw new EnsembleException($"{store.Path}: coordinate array '{name}' is missing");
        return store.OpenArray(name).ReadAll();
    }

    static string Units(ZarrStore store, string name) =>
        store.OpenArray(name).Attributes["units"]?.GetValue<string>()
        ?? throw new EnsembleException($"{store.Path}: coordinate '{name}' has no units attribute");

    public static DateTime[] Times(ZarrStore store, string name)
    {
        var values = Values(store, name);
        string? calendar = store.OpenArray(name).Attributes["calendar"]?.GetValue<string>();
        return CfTimeUnits.Parse(Units(store, name), calendar, $"{store.Path}: {name}").Decode(values, $"{store.Path}: {name}");
    }

    public static TimeSpan[] Durations(ZarrStore store, string name)
    {
        var values = Values(store, name);
        string units = Units(store, name);
        var unit = CfTimeUnits.IsTimeUnits(units) ? null : CfTimeUnits.ParseUnit(units);
        if (unit is null) throw new EnsembleException($"{store.Path}: coordinate '{name}' units '{units}' are not a duration unit");
        return values.Select(v => CfTimeUnits.Duration(v, unit.Value)).ToArray();
    }
}
