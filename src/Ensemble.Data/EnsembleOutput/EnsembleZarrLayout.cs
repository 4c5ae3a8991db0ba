using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using Ensemble.Core;
using Ensemble.Data.Cf;
using Ensemble.Data.Zarr;

namespace Ensemble.Data.EnsembleOutput;

/// <summary>
/// Writes and reads the metadata of an ensemble zarr store: coordinates (ensemble, time, lead_time, lat, lon) with
/// CF attributes, per-member variables, one chunked float32 array per variable and consolidated metadata. The
/// bytes written depend only on the layout and compressor, so every rank produces an identical store skeleton.
/// </summary>
internal static class EnsembleZarrLayout
{
    public const string VariablesAttribute = "ensemble_variables";
    public static readonly string[] MemberVariables = ["checkpoint", "model", "perturbation", "pair", "sign", "seed"];

    public static string SoftwareVersion =>
        typeof(EnsembleZarrLayout).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(EnsembleZarrLayout).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Root attributes: CF conventions, software and version, the variable order, then the caller's (sorted).</summary>
    public static SortedDictionary<string, string> RootAttributes(EnsembleLayout layout)
    {
        var a = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["Conventions"] = "CF-1.10",
            ["software"] = "ensemble",
            ["software_version"] = SoftwareVersion,
        };
        foreach (var (k, v) in layout.Attributes) a[k] = v;
        a[VariablesAttribute] = string.Join(" ", layout.Variables);
        return a;
    }

    public static DateTime Reference(EnsembleLayout layout) => DateTime.SpecifyKind(layout.Times.Min(), DateTimeKind.Utc);

    /// <summary>Time offsets in hours since the reference, and whether they are all whole hours.</summary>
    public static (double[] Hours, bool Integral) TimeHours(EnsembleLayout layout)
    {
        var h = CfCoordinates.HoursSince(Reference(layout), layout.Times.Select(t => DateTime.SpecifyKind(t, DateTimeKind.Utc)));
        return (h, h.All(x => x == Math.Floor(x)));
    }

    public static bool LeadsIntegral(EnsembleLayout layout) => layout.LeadTimeHours.All(x => x == Math.Floor(x));

    public static Dictionary<string, object> VariableAttributes(EnsembleLayout layout, string variable, bool netCdf = false)
    {
        var a = new Dictionary<string, object>();
        if (layout.Units.TryGetValue(variable, out var u)) a["units"] = u;
        a["long_name"] = variable;
        if (layout.MemberInfo is not null)
            a["coordinates"] = string.Join(" ", netCdf ? MemberVariables.Where(m => m is not ("model" or "perturbation")) : MemberVariables);
        return a;
    }

    static JsonObject Json(IEnumerable<KeyValuePair<string, object>> attrs)
    {
        var o = new JsonObject();
        foreach (var (k, v) in attrs.OrderBy(p => p.Key, StringComparer.Ordinal))
            o[k] = v switch
            {
                string s => JsonValue.Create(s),
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                double d => JsonValue.Create(d),
                _ => JsonValue.Create(Convert.ToString(v, CultureInfo.InvariantCulture)),
            };
        return o;
    }

    /// <summary>Writes the whole skeleton (everything but data chunks) into the folder <paramref name="dir"/>.</summary>
    public static void Write(string dir, EnsembleLayout layout, ZarrCodec? compressor)
    {
        var root = new JsonObject();
        foreach (var (k, v) in RootAttributes(layout)) root[k] = v;
        var store = ZarrStore.Create(dir, root);
        store.WriteInt64Array("ensemble", "ensemble", Enumerable.Range(0, layout.Members).Select(i => (long)i).ToArray(), Json(CfCoordinates.Ensemble()));

        var reference = Reference(layout);
        var (hours, integral) = TimeHours(layout);
        var timeAttrs = Json(CfCoordinates.Time(reference));
        if (integral) store.WriteInt64Array("time", "time", hours.Select(x => (long)x).ToArray(), timeAttrs);
        else store.WriteArray("time", ["time"], hours, [hours.Length], "<f8", timeAttrs, fillValue: null);

        var leadAttrs = Json(CfCoordinates.LeadTime());
        var leads = layout.LeadTimeHours.ToArray();
        if (LeadsIntegral(layout)) store.WriteInt64Array("lead_time", "lead_time", leads.Select(x => (long)x).ToArray(), leadAttrs);
        else store.WriteArray("lead_time", ["lead_time"], leads, [leads.Length], "<f8", leadAttrs, fillValue: null);

        store.WriteArray("lat", ["lat"], layout.Lat, [layout.Nlat], "<f8", Json(CfCoordinates.Latitude()), fillValue: null);
        store.WriteArray("lon", ["lon"], layout.Lon, [layout.Nlon], "<f8", Json(CfCoordinates.Longitude()), fillValue: null);

        if (layout.MemberInfo is { } info)
        {
            store.WriteInt64Array("checkpoint", "ensemble", info.Select(m => (long)m.Checkpoint).ToArray(), new JsonObject { ["long_name"] = "checkpoint index" });
            store.WriteStringArray("model", "ensemble", info.Select(m => m.Model).ToArray(), new JsonObject { ["long_name"] = "model (checkpoint) name" });
            store.WriteStringArray("perturbation", "ensemble", info.Select(m => m.Perturbation).ToArray(), new JsonObject { ["long_name"] = "initial-condition perturbation method" });
            store.WriteInt64Array("pair", "ensemble", info.Select(m => (long)m.Pair).ToArray(), new JsonObject { ["long_name"] = "perturbation pair index" });
            store.WriteInt64Array("sign", "ensemble", info.Select(m => (long)m.Sign).ToArray(), new JsonObject { ["long_name"] = "perturbation sign (+1, -1; 0 = control)" });
            store.WriteInt64Array("seed", "ensemble", info.Select(m => m.Seed).ToArray(), new JsonObject { ["long_name"] = "random seed of the perturbation pair" });
        }

        foreach (var v in layout.Variables)
            store.CreateArray(v, EnsembleLayout.Dimensions,
                [layout.Members, layout.Times.Count, layout.LeadTimeHours.Count, layout.Nlat, layout.Nlon],
                [1, 1, 1, layout.Nlat, layout.Nlon], "<f4", compressor, double.NaN, Json(VariableAttributes(layout, v)));
        store.Consolidate();
    }

    /// <summary>
    /// Compares a freshly written skeleton with an existing store: every file of <paramref name="skeleton"/> must be in
    /// <paramref name="existing"/> with the same content (JSON by value, chunks by bytes).
    /// </summary>
    public static string? FirstDifference(string skeleton, string existing)
    {
        foreach (var f in Directory.EnumerateFiles(skeleton, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string rel = System.IO.Path.GetRelativePath(skeleton, f);
            string other = System.IO.Path.Combine(existing, rel);
            if (!File.Exists(other)) return $"{rel} is missing";
            string name = System.IO.Path.GetFileName(f);
            if (name.StartsWith(".z", StringComparison.Ordinal))
            {
                if (!JsonNode.DeepEquals(ZarrStore.ReadJson(f), ZarrStore.ReadJson(other))) return $"{rel} differs";
            }
            else if (!File.ReadAllBytes(f).AsSpan().SequenceEqual(File.ReadAllBytes(other))) return $"{rel} differs";
        }
        return null;
    }

    /// <summary>Rebuilds the layout of an ensemble zarr store.</summary>
    public static EnsembleLayout Read(ZarrStore store)
    {
        string p = store.Path;
        var rootAttrs = store.Attributes;
        List<string> variables;
        if (rootAttrs[VariablesAttribute] is JsonValue vv && vv.TryGetValue<string>(out var names))
            variables = names.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        else
            variables = store.ArrayNames.Where(n => store.OpenArray(n).Dimensions.SequenceEqual(EnsembleLayout.Dimensions)).ToList();
        if (variables.Count == 0)
            throw new EnsembleException($"{p}: no array with dimensions ({string.Join(", ", EnsembleLayout.Dimensions)})");
        foreach (var c in EnsembleLayout.Dimensions)
            if (!store.HasArray(c)) throw new EnsembleException($"{p}: coordinate array '{c}' is missing");
        var units = new Dictionary<string, string>();
        foreach (var v in variables)
        {
            var a = store.OpenArray(v);
            if (!a.Dimensions.SequenceEqual(EnsembleLayout.Dimensions))
                throw new EnsembleException($"{p}/{v}: dimensions ({string.Join(", ", a.Dimensions)}) are not ({string.Join(", ", EnsembleLayout.Dimensions)})");
            if (a.Attributes["units"] is JsonValue u && u.TryGetValue<string>(out var us)) units[v] = us;
        }
        var time = store.OpenArray("time");
        var times = CfTimeUnits.Parse(Text(time, "units") ?? throw new EnsembleException($"{p}/time: no units"), Text(time, "calendar"), $"{p}/time")
            .Decode(time.ReadAll(), $"{p}/time");
        var leadArr = store.OpenArray("lead_time");
        string leadUnits = Text(leadArr, "units") ?? "hours";
        var leadUnit = CfTimeUnits.ParseUnit(leadUnits) ?? throw new EnsembleException($"{p}/lead_time: units '{leadUnits}' are not a duration");
        var leads = leadArr.ReadAll().Select(x => CfTimeUnits.Duration(x, leadUnit).TotalHours).ToArray();
        int members = checked((int)store.OpenArray("ensemble").Shape[0]);
        IReadOnlyList<EnsembleMemberInfo>? info = null;
        if (MemberVariables.All(store.HasArray))
        {
            var ck = store.OpenArray("checkpoint").ReadInt64();
            var model = store.OpenArray("model").ReadStrings();
            var pert = store.OpenArray("perturbation").ReadStrings();
            var pair = store.OpenArray("pair").ReadInt64();
            var sign = store.OpenArray("sign").ReadInt64();
            var seed = store.OpenArray("seed").ReadInt64();
            info = Enumerable.Range(0, members).Select(i => new EnsembleMemberInfo((int)ck[i], model[i], pert[i], (int)pair[i], (int)sign[i], seed[i])).ToArray();
        }
        var attrs = new Dictionary<string, string>();
        foreach (var (k, v) in rootAttrs)
            if (k != VariablesAttribute && v is not null)
                attrs[k] = v is JsonValue jv && jv.TryGetValue<string>(out var s) ? s : v.ToJsonString();
        return new EnsembleLayout(variables, units, times, leads, members, store.OpenArray("lat").ReadAll(), store.OpenArray("lon").ReadAll(), info, attrs);
    }

    static string? Text(ZarrArray a, string key) => a.Attributes[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
